/*
 * parse.c - rule engine over rules.c.
 *
 * DESCRIPTION
 *	Rules are tried in table order among those of the line's daemon class,
 *	each behind a cheap literal test (prefix or memmem) so that most lines
 *	never reach PCRE2. Patterns are compiled without PCRE2_UTF (log lines
 *	are bytes, not necessarily valid UTF-8). Named groups are resolved to
 *	GroupId slots once at start-up. The hottest rules have hand-written
 *	scanners (scan.c) that return what their patterns return; the patterns
 *	stay the reference (parser_use_scanners(p, false) for comparisons).
 * DIAGNOSTICS
 *	A pattern that does not compile is a programming error reported by
 *	parser_new() as -EINVAL and a malloc'd message naming the rule; JIT
 *	failure (no executable memory) falls back to the interpreter and is
 *	reported by parser_jit().
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "macro.h"
#include "parse.h"
#include "scan.h"

/* Only relevance literals in the first bytes count: later parts of a line
 * carry client-chosen text (HELO names, addresses) that must not make an
 * unrelated line look like a TLS line. */
#define RELEVANCE_WINDOW 64

/* Literals that a rule "contains" stand near the start of the message in
 * every Postfix format (after at most a queue ID or a trust word), so the
 * cheap filter searches only so far (Rule.within): it runs for every smtpd line. */
#define LITERAL_WINDOW 48

typedef struct CompiledRule {
	pcre2_code *code;
	bool jit;
	ScanFn scan; /* scan.c's hand-written matcher, or NULL: PCRE2 */
	size_t prefix_len;
	size_t contains_len;
	size_t contains_window; /* bytes searched: the literal starts within rule->within */
	int group[_G_MAX]; /* capture number, or -1 */
} CompiledRule;

/* Rules per daemon class, in table order: the class is known before any
 * rule is tried, so others are never looked at. */
#define N_CLASSES 4
_Static_assert(_R_MAX <= 64, "Parser.by_first holds a rule set in 64 bits");

struct Parser {
	const Rule *rules; /* the table compiled: rules.c, or a test's */
	unsigned n_rules;
	CompiledRule r[_R_MAX];
	uint8_t by_class[N_CLASSES][_R_MAX];
	uint8_t n_by_class[N_CLASSES];
	/* bit k: by_class[c][k] can match a message starting with that byte
	 * (its prefix starts with it, or it has none). Only those are tried,
	 * in the same order, so the first match is the same: the literal
	 * checks of every rule of the class were a tenth of ingest. */
	uint64_t by_first[N_CLASSES][256];
	size_t relevance_len[64];
	pcre2_match_data *md;
	bool jit;
	bool scanners; /* use CompiledRule.scan (only over rules.c's own table) */
	bool sibling;  /* the compiled patterns are another parser's (parser_new_sibling()) */
};

int parser_new(Parser **ret, char **ret_error)
{
	return parser_new_table(ret, rules, _R_MAX, ret_error);
}

int parser_new_table(Parser **ret, const Rule *table, size_t n_rules, char **ret_error)
{
	if (ret_error)
		*ret_error = NULL;
	if (n_rules > _R_MAX)
		return error_set(ret_error, -EINVAL, "%zu rules, at most %d", n_rules, _R_MAX);
	Parser *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rules = table;
	p->n_rules = (unsigned)n_rules;
	p->scanners = true;
	uint32_t jit_available = 0;
	pcre2_config(PCRE2_CONFIG_JIT, &jit_available);
	p->jit = jit_available;
	uint32_t max_groups = 0;
	for (unsigned i = 0; i < p->n_rules; i++) {
		const Rule *rule = &table[i];
		int err;
		PCRE2_SIZE off;
		CompiledRule *cr = &p->r[i];
		cr->code = pcre2_compile((PCRE2_SPTR)rule->pattern, PCRE2_ZERO_TERMINATED,
					 PCRE2_ANCHORED | PCRE2_DOLLAR_ENDONLY, &err, &off, NULL);
		if (!cr->code) {
			char msg[128];
			pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof(msg));
			parser_free(p);
			return error_set(ret_error, -EINVAL, "rule %s: %s at offset %zu", rule->name, msg, (size_t)off);
		}
		if (jit_available && pcre2_jit_compile(cr->code, PCRE2_JIT_COMPLETE) == 0)
			cr->jit = true;
		else
			p->jit = false;
		for (unsigned g = 0; g < _G_MAX; g++)
			cr->group[g] = pcre2_substring_number_from_name(cr->code, (PCRE2_SPTR)rules_group_names[g]);
		/* a scanner implements rules.c's pattern, not a test table's */
		cr->scan = table == rules ? scan_for(rule->id) : NULL;
		cr->prefix_len = rule->prefix ? strlen(rule->prefix) : 0;
		cr->contains_len = rule->contains ? strlen(rule->contains) : 0;
		cr->contains_window = (rule->within ? rule->within : LITERAL_WINDOW) + cr->contains_len;
		for (unsigned c = 0; c < N_CLASSES; c++) {
			if (!(rule->daemons & (1u << c)))
				continue;
			unsigned k = p->n_by_class[c]++;
			p->by_class[c][k] = (uint8_t)i;
			for (unsigned b = 0; b < 256; b++)
				if (!cr->prefix_len || (unsigned char)rule->prefix[0] == b)
					p->by_first[c][b] |= UINT64_C(1) << k;
		}
		uint32_t n = 0;
		pcre2_pattern_info(cr->code, PCRE2_INFO_CAPTURECOUNT, &n);
		if (n > max_groups)
			max_groups = n;
	}
	for (unsigned i = 0; i < rules_n_relevance && i < ELEMENTSOF(p->relevance_len); i++)
		p->relevance_len[i] = strlen(rules_relevance[i].contains);
	p->md = pcre2_match_data_create(max_groups + 1, NULL);
	if (!p->md) {
		parser_free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

int parser_new_sibling(Parser **ret, const Parser *p)
{
	Parser *s = malloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = *p;
	s->sibling = true;
	/* a pcre2_code, JIT code included, may be matched by many threads at
	 * once; a match data only by one (pcre2api(3), "Multithreading") */
	s->md = pcre2_match_data_create(pcre2_get_ovector_count(p->md), NULL);
	if (!s->md) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

Parser *parser_free(Parser *p)
{
	if (!p)
		return NULL;
	for (unsigned i = 0; i < _R_MAX && !p->sibling; i++)
		pcre2_code_free(p->r[i].code);
	pcre2_match_data_free(p->md);
	free(p);
	return NULL;
}

bool parser_jit(const Parser *p)
{
	return p->jit;
}

void parser_use_scanners(Parser *p, bool on)
{
	p->scanners = on;
}

static bool literal_ok(const Rule *rule, const CompiledRule *cr, Slice msg)
{
	if (cr->prefix_len && (msg.n < cr->prefix_len || !slice_mem_eq(msg.p, rule->prefix, cr->prefix_len)))
		return false;
	if (cr->contains_len) {
		size_t w = cr->contains_window;
		if (!find_lit(msg.p, msg.n < w ? msg.n : w, rule->contains, cr->contains_len))
			return false;
	}
	return true;
}

static bool relevant(const Parser *p, uint32_t daemon_class, Slice msg)
{
	size_t n = msg.n < RELEVANCE_WINDOW ? msg.n : RELEVANCE_WINDOW;
	for (unsigned i = 0; i < rules_n_relevance; i++) {
		const RelevanceRule *rr = &rules_relevance[i];
		if ((rr->daemons & daemon_class) && find_lit(msg.p, n, rr->contains, p->relevance_len[i]))
			return true;
	}
	return false;
}

static bool try_rule(Parser *p, unsigned i, Slice msg, Match *ret)
{
	const Rule *rule = &p->rules[i];
	CompiledRule *cr = &p->r[i];
	if (!literal_ok(rule, cr, msg))
		return false;
	if (cr->scan && p->scanners) {
		if (!cr->scan(msg, ret))
			return false;
		ret->rule = rule->id;
		return true;
	}
	int rc = cr->jit ? pcre2_jit_match(cr->code, (PCRE2_SPTR)msg.p, msg.n, 0, 0, p->md, NULL)
			 : pcre2_match(cr->code, (PCRE2_SPTR)msg.p, msg.n, 0, 0, p->md, NULL);
	if (rc < 0)
		return false;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
	ret->rule = rule->id;
	for (unsigned g = 0; g < _G_MAX; g++) {
		int k = cr->group[g];
		if (k < 0 || k >= rc || ov[2 * k] == PCRE2_UNSET) {
			ret->g[g] = SLICE_NULL;
			continue;
		}
		ret->g[g] = (Slice){ msg.p + ov[2 * k], ov[2 * k + 1] - ov[2 * k] };
	}
	return true;
}

int parser_match(Parser *p, uint32_t daemon_class, Slice msg, Match *ret)
{
	unsigned c = (unsigned)__builtin_ctz(daemon_class | (1u << N_CLASSES));
	if (c >= N_CLASSES)
		return PARSE_IRRELEVANT;
	/* an empty message matches no prefix: try every rule of the class */
	uint64_t cand = msg.n ? p->by_first[c][(unsigned char)msg.p[0]] : UINT64_MAX;
	for (; cand; cand &= cand - 1) {
		unsigned k = (unsigned)__builtin_ctzll(cand);
		if (k >= p->n_by_class[c])
			break;
		if (try_rule(p, p->by_class[c][k], msg, ret))
			return 0;
	}
	return relevant(p, daemon_class, msg) ? PARSE_NO_MATCH : PARSE_IRRELEVANT;
}

int parser_match_rule(Parser *p, RuleId id, Slice msg, Match *ret)
{
	if ((unsigned)id >= p->n_rules)
		return -EINVAL;
	return try_rule(p, id, msg, ret) ? 0 : PARSE_NO_MATCH;
}

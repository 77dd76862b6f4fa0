/*
 * parse.h - the rule engine: compile the rule table once (PCRE2, JIT when
 * the kernel allows it), then match one message against the rules of its
 * daemon class.
 */
#pragma once

#include <stdbool.h>

#include "rules.h"
#include "slice.h"

typedef struct Parser Parser;

typedef struct Match {
	RuleId rule;
	Slice g[_G_MAX]; /* captured groups; {NULL,0} when unset */
} Match;

enum { PARSE_NO_MATCH = 1, PARSE_IRRELEVANT = 2 };

/* parser_new - compile the rule table of rules.c.
 * Return: 0, -ENOMEM, or -EINVAL with *ret_error = malloc'd
 * "rule NAME: PCRE2 message at offset N" (the caller frees it; ret_error
 * may be NULL). */
int parser_new(Parser **ret, char **ret_error);
/* parser_new_table - the same over another table of at most _R_MAX rules
 * (tests compile a broken rule with it); table must outlive the parser and
 * its ids index it (table[i].id == i) for parser_match_rule(). */
int parser_new_table(Parser **ret, const Rule *table, size_t n_rules, char **ret_error);
/* parser_new_sibling - a parser for a second thread: it matches with p's
 * compiled rules (and p's settings at this call) and a match data of its
 * own. Free it before p. Return: 0 or -ENOMEM. */
int parser_new_sibling(Parser **ret, const Parser *p);
Parser *parser_free(Parser *p);
/* parser_jit - whether PCRE2 JIT is active (false under MemoryDenyWriteExecute). */
bool parser_jit(const Parser *p);
/* parser_use_scanners - match the rules that have one with scan.c's
 * scanner (the default) or with their PCRE2 pattern, the reference. */
void parser_use_scanners(Parser *p, bool on);

/* parser_match - 0 with *ret filled; PARSE_NO_MATCH when a relevant line
 * matched no rule; PARSE_IRRELEVANT when the line is of no interest. */
int parser_match(Parser *p, uint32_t daemon_class, Slice msg, Match *ret);
/* parser_match_rule - try one rule only (its literal filter and pattern); for the tests. */
int parser_match_rule(Parser *p, RuleId id, Slice msg, Match *ret);

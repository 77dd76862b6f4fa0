/*
 * report.c - the enforcement-readiness report: text, JSON, Markdown, HTML.
 *
 * DESCRIPTION
 *	The report is computed once into a model (verdicts, then a list of
 *	sections, each a table of string cells) from peers_get_totals() and
 *	peers_list(); the text, Markdown and HTML writers render the same
 *	model, so the three agree. JSON is written from the same figures with
 *	the schema described in report.h.
 *
 *	Output is deterministic: rows are sorted by count (descending) and then
 *	by name; numbers are printed with fixed precision; times are UTC.
 * SECURITY
 *	Everything that came from the log (host and domain names, syslog
 *	names, ciphers, failure reasons, addresses) passes through the
 *	format's escaper: control bytes and non-ASCII become \xHH in text,
 *	backslash-escaped in Markdown, &#xHH; entities in HTML, \u00HH in
 *	JSON. The HTML page has no script and loads nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

#define ROWS_MAX 50            /* rows per table in text/markdown/html (JSON lists all) */
#define COLS_MAX 8

int report_format_from_string(const char *s, ReportFormat *ret)
{
	if (!strcmp(s, "text"))
		*ret = REPORT_TEXT;
	else if (!strcmp(s, "json"))
		*ret = REPORT_JSON;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*ret = REPORT_MARKDOWN;
	else if (!strcmp(s, "html"))
		*ret = REPORT_HTML;
	else
		return -EINVAL;
	return 0;
}

/*
 * Small helpers.
 */
static double share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

static void fmt_time(char *out, size_t n, int64_t usec, bool iso)
{
	if (usec <= 0) {
		snprintf(out, n, "%s", iso ? "" : "never");
		return;
	}
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
}

static void fmt_day(char *out, size_t n, int64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d", &tm);
}

static void fmt_duration(char *out, size_t n, int64_t usec)
{
	int64_t s = usec / 1000000;
	if (s % 86400 == 0)
		snprintf(out, n, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(out, n, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, n, "%llds", (long long)s);
}

static void fmt_pct(char *out, size_t n, uint64_t part, uint64_t whole)
{
	snprintf(out, n, "%.1f %%", 100.0 * share(part, whole));
}

/*
 * Escapers.
 */
static void esc_text(Buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
}

static void esc_md(Buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\\\x%02x", c);
		else if (strchr("\\`*_{}[]<>#+!|~&", c))
			buf_printf(b, "\\%c", c);
		else
			buf_putc(b, (char)c);
	}
}

static void esc_html(Buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				buf_printf(b, "&#x%02x;", c);
			else
				buf_putc(b, (char)c);
		}
	}
}

static void esc_json(Buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&')
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

/*
 * The model.
 */
typedef struct Section {
	const char *id;
	const char *title;
	char *intro;                 /* plain text, may be NULL */
	unsigned ncols;
	const char *cols[COLS_MAX];
	bool right[COLS_MAX];
	char **cells;                /* nrows * ncols, owned */
	size_t nrows, more;          /* rows kept, rows left out */
	const char *empty;           /* shown when there are no rows */
	char *code;                  /* preformatted block (policy snippet), may be NULL */
	unsigned chart;              /* 0 none, 1 plaintext per day, 2 protocol mix */
} Section;

typedef struct Verdict {
	char syslog[PEERS_DOMAIN_MAX];
	uint64_t refused, peers, mail;
} Verdict;

typedef struct Model {
	PeersTotals T;
	PeerStats *in, *out, *unk;
	size_t n_in, n_out, n_unk;
	Verdict verdict[PEERS_SYSLOG_MAX + 1];
	unsigned n_verdict;
	Section sec[16];
	unsigned n_sec;
	char window[512];
	unsigned first_day;          /* days before it had no sessions: left out of tables and charts */
	char *policy;
	int err;
} Model;

static char *xstrdup(Model *m, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		m->err = -ENOMEM;
	return d;
}

static Section *sec_new(Model *m, const char *id, const char *title, unsigned ncols, const char *const *cols,
			const char *right)
{
	Section *s = &m->sec[m->n_sec++];
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->title = title;
	s->ncols = ncols;
	for (unsigned i = 0; i < ncols; i++) {
		s->cols[i] = cols[i];
		s->right[i] = right && right[i] == 'r';
	}
	s->empty = "none";
	return s;
}

/* row - append a row of ncols cells (printf-free: caller formats). */
static void row(Model *m, Section *s, const char *const *cells)
{
	if (s->nrows >= ROWS_MAX) {
		s->more++;
		return;
	}
	char **c = realloc(s->cells, (s->nrows + 1) * s->ncols * sizeof(*c));
	if (!c) {
		m->err = -ENOMEM;
		return;
	}
	s->cells = c;
	for (unsigned i = 0; i < s->ncols; i++)
		c[s->nrows * s->ncols + i] = xstrdup(m, cells[i]);
	s->nrows++;
}

static void model_free(Model *m)
{
	for (unsigned i = 0; i < m->n_sec; i++) {
		Section *s = &m->sec[i];
		for (size_t k = 0; k < s->nrows * s->ncols; k++)
			free(s->cells[k]);
		free(s->cells);
		free(s->intro);
		free(s->code);
	}
	free(m->in);
	free(m->out);
	free(m->unk);
	free(m->policy);
}

/* per-peer figures derived from PeerStats */
static uint64_t in_sessions(const PeerStats *p, Encryption e)
{
	return p->n[peers_in_cell(e, false)] + p->n[peers_in_cell(e, true)];
}

static uint64_t in_mail(const PeerStats *p)
{
	uint64_t n = 0;
	for (unsigned e = 0; e < _ENC_MAX; e++)
		n += p->n[peers_in_cell((Encryption)e, true)];
	return n;
}

static uint64_t combo_sum(const PeerStats *p, PeerComboKind k, const char *a)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->n_combos; i++)
		if (p->combos[i].kind == k && (!a || !strcmp(p->combos[i].a, a)))
			n += p->combos[i].n;
	return n;
}

static bool legacy_proto(const char *proto)
{
	return !strcmp(proto, "SSLv2") || !strcmp(proto, "SSLv3") || !strcmp(proto, "TLSv1") ||
	       !strcmp(proto, "TLSv1.1");
}

static uint64_t legacy_sessions(const PeerStats *p)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->n_combos; i++)
		if (p->combos[i].kind == COMBO_TLS && legacy_proto(p->combos[i].a))
			n += p->combos[i].n;
	return n;
}

typedef struct OutClass {
	uint64_t tls, plain, noconn, sent, deferred, bounced;
	int weakest;   /* lowest trust with a delivery, -1 if none */
} OutClass;

static OutClass out_class(const PeerStats *p)
{
	OutClass o = { .weakest = -1 };
	o.noconn = combo_sum(p, COMBO_NOCONN, NULL);
	for (unsigned t = 0; t < _TRUST_MAX; t++)
		for (unsigned s = 0; s < _DELIVERY_MAX; s++) {
			uint64_t v = p->n[peers_out_cell((Trust)t, (DeliveryStatus)s)];
			if (t == TRUST_NONE)
				o.plain += v;
			else {
				o.tls += v;
				if (v && o.weakest < 0)
					o.weakest = (int)t;
			}
			if (s == DELIVERY_SENT)
				o.sent += v;
			else if (s == DELIVERY_DEFERRED)
				o.deferred += v;
			else
				o.bounced += v;
		}
	o.plain = o.plain >= o.noconn ? o.plain - o.noconn : 0;
	return o;
}

/* sorting helpers: an index array sorted by a key function, descending, then by name */
typedef struct Ranked {
	const PeerStats *p;
	uint64_t key;
} Ranked;

static int ranked_cmp(const void *a, const void *b)
{
	const Ranked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return strcmp(x->p->key, y->p->key);
}

static Ranked *rank(Model *m, const PeerStats *v, size_t n, uint64_t (*key)(const PeerStats *), size_t *ret_n)
{
	Ranked *r = malloc((n ? n : 1) * sizeof(*r));
	size_t k = 0;
	if (!r) {
		m->err = -ENOMEM;
		*ret_n = 0;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t x = key(&v[i]);
		if (x > 0)
			r[k++] = (Ranked){ &v[i], x };
	}
	qsort(r, k, sizeof(*r), ranked_cmp);
	*ret_n = k;
	return r;
}

static uint64_t key_plain_mail(const PeerStats *p) { return p->n[peers_in_cell(ENC_PLAINTEXT, true)]; }
static uint64_t key_legacy(const PeerStats *p) { return legacy_sessions(p); }
static uint64_t key_failed(const PeerStats *p) { return in_sessions(p, ENC_STARTTLS_FAILED); }
static uint64_t key_total(const PeerStats *p) { return p->total; }
static uint64_t key_always_tls(const PeerStats *p)
{
	OutClass o = out_class(p);
	return o.plain == 0 ? o.tls : 0;
}
static uint64_t key_never_tls(const PeerStats *p)
{
	OutClass o = out_class(p);
	return o.tls == 0 ? o.plain : 0;
}
static uint64_t key_mixed(const PeerStats *p)
{
	OutClass o = out_class(p);
	return o.tls > 0 && o.plain > 0 ? o.plain : 0;
}

static void examples_str(const PeerStats *p, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < p->n_examples && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s", i ? ", " : "", p->examples[i]);
	if (p->more_examples && o < n)
		snprintf(out + o, n - o, ", ...");
}

/* combos_str - "a b ×n, ..." for one kind, by count. */
static void combos_str(const PeerStats *p, PeerComboKind k, bool legacy_only, char *out, size_t n)
{
	size_t o = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < p->n_combos && o < n; i++) {
		const PeerComboCount *c = &p->combos[i];
		if (c->kind != k || (legacy_only && !legacy_proto(c->a)))
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s%s%s%s x%llu", o ? ", " : "", c->a, c->b[0] ? " " : "",
				      c->b, (unsigned long long)c->n);
	}
}

static void model_verdicts(Model *m)
{
	for (unsigned i = 0; i < m->T.n_syslog; i++) {
		const PeersSyslogTotals *s = &m->T.syslog[i];
		Verdict *v = &m->verdict[m->n_verdict++];
		memcpy(v->syslog, s->name, sizeof(v->syslog));
		v->refused = s->in[peers_in_cell(ENC_PLAINTEXT, true)];
		for (unsigned e = 0; e < _ENC_MAX; e++)
			v->mail += s->in[peers_in_cell((Encryption)e, true)];
		for (size_t k = 0; k < m->n_in; k++)
			if (combo_sum(&m->in[k], COMBO_PLAINMAIL, s->name) > 0)
				v->peers++;
	}
}

static void verdict_line(const Verdict *v, char *out, size_t n)
{
	char pct[32];
	fmt_pct(pct, sizeof(pct), v->refused, v->mail);
	snprintf(out, n, "enforcing TLS on syslog_name %s would have refused %llu mail session%s from %llu peer%s (%s of mail)",
		 v->syslog, (unsigned long long)v->refused, v->refused == 1 ? "" : "s",
		 (unsigned long long)v->peers, v->peers == 1 ? "" : "s", pct);
}

static void u64s(char *out, size_t n, uint64_t v)
{
	snprintf(out, n, "%llu", (unsigned long long)v);
}

/* combo_section - inbound peers ranked by key, one row each: peer, the key's
 * count, the peer's combinations of one kind, last seen. */
static void combo_section(Model *m, Section *s, uint64_t (*key)(const PeerStats *), PeerComboKind kind,
			  bool legacy_only)
{
	char a[4][512];
	const char *c[4] = { a[0], a[1], a[2], a[3] };
	size_t n;
	Ranked *r = rank(m, m->in, m->n_in, key, &n);
	for (size_t i = 0; r && i < n; i++) {
		snprintf(a[0], sizeof(a[0]), "%s", r[i].p->key);
		u64s(a[1], sizeof(a[1]), r[i].key);
		combos_str(r[i].p, kind, legacy_only, a[2], sizeof(a[2]));
		fmt_time(a[3], sizeof(a[3]), r[i].p->last_seen_usec, false);
		row(m, s, c);
	}
	free(r);
}

static void model_sections(Model *m)
{
	const PeersTotals *T = &m->T;
	char a[8][512];
	const char *c[8];
	for (unsigned i = 0; i < 8; i++)
		c[i] = a[i];

	/* inbound by encryption */
	{
		static const char *const cols[] = { "syslog_name", "encryption", "sessions", "share", "mail sessions", "share" };
		Section *s = sec_new(m, "inbound", "Inbound sessions by encryption", 6, cols, "llrrrr");
		for (unsigned i = 0; i <= T->n_syslog; i++) {
			const uint64_t *in = i < T->n_syslog ? T->syslog[i].in : T->in;
			uint64_t all = 0, mail = 0;
			for (unsigned e = 0; e < _ENC_MAX; e++) {
				all += in[peers_in_cell((Encryption)e, false)] + in[peers_in_cell((Encryption)e, true)];
				mail += in[peers_in_cell((Encryption)e, true)];
			}
			if (i == T->n_syslog && T->n_syslog == 1)
				break;
			for (unsigned e = 0; e < _ENC_MAX; e++) {
				uint64_t se = in[peers_in_cell((Encryption)e, false)] + in[peers_in_cell((Encryption)e, true)];
				uint64_t me = in[peers_in_cell((Encryption)e, true)];
				snprintf(a[0], sizeof(a[0]), "%s", i < T->n_syslog ? T->syslog[i].name : "(all)");
				snprintf(a[1], sizeof(a[1]), "%s", encryption_name((Encryption)e));
				u64s(a[2], sizeof(a[2]), se);
				fmt_pct(a[3], sizeof(a[3]), se, all);
				u64s(a[4], sizeof(a[4]), me);
				fmt_pct(a[5], sizeof(a[5]), me, mail);
				row(m, s, c);
			}
		}
		uint64_t all = 0, mail = 0;
		for (unsigned e = 0; e < _ENC_MAX; e++) {
			all += T->in[peers_in_cell((Encryption)e, false)] + T->in[peers_in_cell((Encryption)e, true)];
			mail += T->in[peers_in_cell((Encryption)e, true)];
		}
		char p1[32], p2[32], buf[256];
		fmt_pct(p1, sizeof(p1), T->in[peers_in_cell(ENC_PLAINTEXT, false)] + T->in[peers_in_cell(ENC_PLAINTEXT, true)], all);
		fmt_pct(p2, sizeof(p2), T->in[peers_in_cell(ENC_PLAINTEXT, true)], mail);
		snprintf(buf, sizeof(buf), "Plaintext: %s of %llu sessions, %s of %llu mail sessions.", p1,
			 (unsigned long long)all, p2, (unsigned long long)mail);
		s->intro = xstrdup(m, buf);
	}

	/* per day */
	{
		static const char *const cols[] = { "day (UTC)", "sessions", "plaintext", "share", "mail sessions", "plaintext mail", "share" };
		Section *s = sec_new(m, "days", "Plaintext share per day", 7, cols, "lrrrrrr");
		s->chart = 1;
		s->empty = "no sessions in the window";
		for (unsigned d = m->first_day; d < T->n_days; d++) {
			fmt_day(a[0], sizeof(a[0]), T->day_start_usec[d]);
			u64s(a[1], sizeof(a[1]), T->day_sessions[d]);
			u64s(a[2], sizeof(a[2]), T->day_plain[d]);
			fmt_pct(a[3], sizeof(a[3]), T->day_plain[d], T->day_sessions[d]);
			u64s(a[4], sizeof(a[4]), T->day_mail[d]);
			u64s(a[5], sizeof(a[5]), T->day_plain_mail[d]);
			fmt_pct(a[6], sizeof(a[6]), T->day_plain_mail[d], T->day_mail[d]);
			row(m, s, c);
		}
	}

	/* protocol mix */
	{
		static const char *const cols[] = { "protocol", "inbound sessions", "share", "outbound deliveries", "share" };
		Section *s = sec_new(m, "protocols", "TLS protocol mix", 5, cols, "lrrrr");
		s->chart = 2;
		uint64_t ti = 0, to = 0;
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++) {
			ti += T->proto_in[i];
			to += T->proto_out[i];
		}
		for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
			if (!T->proto_in[i] && !T->proto_out[i])
				continue;
			snprintf(a[0], sizeof(a[0]), "%s", T->proto_names[i]);
			u64s(a[1], sizeof(a[1]), T->proto_in[i]);
			fmt_pct(a[2], sizeof(a[2]), T->proto_in[i], ti);
			u64s(a[3], sizeof(a[3]), T->proto_out[i]);
			fmt_pct(a[4], sizeof(a[4]), T->proto_out[i], to);
			row(m, s, c);
		}
		s->empty = "no TLS sessions in the window";
	}

	/* legacy protocols */
	{
		static const char *const cols[] = { "peer", "legacy sessions", "protocols and ciphers", "last seen" };
		combo_section(m, sec_new(m, "legacy", "Peers still using SSL/TLS 1.0/1.1 (inbound)", 4, cols, "lrll"),
			      key_legacy, COMBO_TLS, true);
	}

	/* plaintext mail peers */
	{
		static const char *const cols[] = { "peer", "plaintext mail sessions", "of their mail", "plaintext share of sessions", "last plaintext", "example hosts" };
		Section *s = sec_new(m, "plaintext", "Peers that sent mail over plaintext", 6, cols, "lrrrll");
		size_t n;
		Ranked *r = rank(m, m->in, m->n_in, key_plain_mail, &n);
		for (size_t i = 0; r && i < n; i++) {
			const PeerStats *p = r[i].p;
			snprintf(a[0], sizeof(a[0]), "%s", p->key);
			u64s(a[1], sizeof(a[1]), r[i].key);
			fmt_pct(a[2], sizeof(a[2]), r[i].key, in_mail(p));
			fmt_pct(a[3], sizeof(a[3]), in_sessions(p, ENC_PLAINTEXT), p->total);
			fmt_time(a[4], sizeof(a[4]), p->last_plaintext_usec, false);
			examples_str(p, a[5], sizeof(a[5]));
			row(m, s, c);
		}
		free(r);
		s->empty = "none: every peer that sent mail used TLS";
	}

	/* STARTTLS failures */
	{
		static const char *const cols[] = { "peer", "failed sessions", "reasons", "last seen" };
		combo_section(m, sec_new(m, "failures", "Peers with STARTTLS failures", 4, cols, "lrll"), key_failed,
			      COMBO_FAILURE, false);
	}

	/* unknown clients: addresses and prefixes */
	{
		static const char *const cols[] = { "address", "sessions", "plaintext mail", "starttls_failed", "last seen" };
		Section *s = sec_new(m, "unknown_addresses", "Clients without a hostname (peer \"unknown\"): top addresses", 5, cols, "lrrrl");
		size_t n;
		Ranked *r = rank(m, m->unk, m->n_unk, key_total, &n);
		for (size_t i = 0; r && i < n; i++) {
			const PeerStats *p = r[i].p;
			snprintf(a[0], sizeof(a[0]), "%s", p->key);
			u64s(a[1], sizeof(a[1]), p->total);
			u64s(a[2], sizeof(a[2]), p->n[peers_in_cell(ENC_PLAINTEXT, true)]);
			u64s(a[3], sizeof(a[3]), in_sessions(p, ENC_STARTTLS_FAILED));
			fmt_time(a[4], sizeof(a[4]), p->last_seen_usec, false);
			row(m, s, c);
		}
		free(r);
	}
	{
		static const char *const cols[] = { "prefix", "sessions", "plaintext mail", "addresses" };
		Section *s = sec_new(m, "unknown_prefixes", "Clients without a hostname: top prefixes (/24, /48)", 4, cols, "lrrr");
		/* aggregate addresses into prefixes; n_unk is small (bounded table) */
		typedef struct Pfx { char name[64]; uint64_t sessions, plain, addrs; } Pfx;
		Pfx *pf = calloc(m->n_unk ? m->n_unk : 1, sizeof(*pf));
		size_t np = 0;
		for (size_t i = 0; pf && i < m->n_unk; i++) {
			const PeerStats *p = &m->unk[i];
			char name[64];
			unsigned char ab[16];
			char txt[INET6_ADDRSTRLEN];
			if (inet_pton(AF_INET, p->key, ab) == 1) {
				ab[3] = 0;
				inet_ntop(AF_INET, ab, txt, sizeof(txt));
				snprintf(name, sizeof(name), "%s/24", txt);
			} else if (inet_pton(AF_INET6, p->key, ab) == 1) {
				memset(ab + 6, 0, 10);
				inet_ntop(AF_INET6, ab, txt, sizeof(txt));
				snprintf(name, sizeof(name), "%s/48", txt);
			} else
				snprintf(name, sizeof(name), "(not an address)");
			size_t k;
			for (k = 0; k < np; k++)
				if (!strcmp(pf[k].name, name))
					break;
			if (k == np)
				snprintf(pf[np++].name, sizeof(pf[0].name), "%s", name);
			pf[k].sessions += p->total;
			pf[k].plain += p->n[peers_in_cell(ENC_PLAINTEXT, true)];
			pf[k].addrs++;
		}
		/* sort by sessions desc, name */
		for (size_t i = 1; i < np; i++)
			for (size_t j = i; j > 0 && (pf[j - 1].sessions < pf[j].sessions ||
						   (pf[j - 1].sessions == pf[j].sessions && strcmp(pf[j - 1].name, pf[j].name) > 0)); j--) {
				Pfx x = pf[j];
				pf[j] = pf[j - 1];
				pf[j - 1] = x;
			}
		for (size_t i = 0; i < np; i++) {
			snprintf(a[0], sizeof(a[0]), "%s", pf[i].name);
			u64s(a[1], sizeof(a[1]), pf[i].sessions);
			u64s(a[2], sizeof(a[2]), pf[i].plain);
			u64s(a[3], sizeof(a[3]), pf[i].addrs);
			row(m, s, c);
		}
		free(pf);
	}

	/* outbound */
	{
		static const char *const cols[] = { "destination", "TLS deliveries", "weakest trust", "protocols", "recipient domains", "last seen" };
		Section *s = sec_new(m, "always_tls", "Outbound: destinations that always negotiated TLS", 6, cols, "lrllll");
		size_t n;
		Ranked *r = rank(m, m->out, m->n_out, key_always_tls, &n);
		Buf pol = BUF_NULL;
		char from[64], to[64];
		fmt_time(from, sizeof(from), T->from_usec, false);
		fmt_time(to, sizeof(to), T->to_usec, false);
		buf_printf(&pol, "# smtp_tls_policy_maps: destinations that negotiated TLS on every delivery\n"
				 "# between %s and %s. \"verify\" where every delivery was Verified.\n"
				 "# Review, add to the map, then run postmap.\n", from, to);
		size_t width = 0;
		for (size_t i = 0; r && i < n; i++)
			for (unsigned k = 0; k < r[i].p->n_examples; k++)
				width = MAX(width, strlen(r[i].p->examples[k]));
		/* the snippet is sorted by domain, not by count */
		Ranked *byname = r && n ? malloc(n * sizeof(*byname)) : NULL;
		if (byname) {
			memcpy(byname, r, n * sizeof(*byname));
			for (size_t i = 0; i < n; i++)
				byname[i].key = 0;
			qsort(byname, n, sizeof(*byname), ranked_cmp);
		}
		for (size_t i = 0; r && i < n; i++) {
			const PeerStats *p = r[i].p;
			OutClass o = out_class(p);
			snprintf(a[0], sizeof(a[0]), "%s", p->key);
			u64s(a[1], sizeof(a[1]), o.tls);
			snprintf(a[2], sizeof(a[2]), "%s", trust_name((Trust)o.weakest));
			combos_str(p, COMBO_TLS, false, a[3], sizeof(a[3]));
			examples_str(p, a[4], sizeof(a[4]));
			fmt_time(a[5], sizeof(a[5]), p->last_seen_usec, false);
			row(m, s, c);
		}
		for (size_t i = 0; byname && i < n; i++) {
			const PeerStats *p = byname[i].p;
			OutClass o = out_class(p);
			const char *pol_word = o.weakest == TRUST_VERIFIED ? "verify" : "encrypt";
			if (p->n_examples == 0 || !strcmp(p->key, "unknown"))
				continue;
			for (unsigned k = 0; k < p->n_examples; k++)
				buf_printf(&pol, "%-*s %s\n", (int)width, p->examples[k], pol_word);
			if (p->more_examples)
				buf_printf(&pol, "# more recipient domains under %s were seen than are listed\n", p->key);
		}
		free(byname);
		free(r);
		m->policy = buf_steal(&pol, NULL);
		if (!m->policy)
			m->policy = xstrdup(m, "");
		s->empty = "none";
		Section *sp = sec_new(m, "policy", "Outbound: smtp_tls_policy_maps snippet", 0, NULL, NULL);
		sp->code = xstrdup(m, m->policy);
	}
	{
		static const char *const cols[] = { "destination", "deliveries without TLS", "sent", "deferred", "bounced", "recipient domains", "last seen" };
		Section *s = sec_new(m, "never_tls", "Outbound: destinations that never negotiated TLS", 7, cols, "lrrrrll");
		size_t n;
		Ranked *r = rank(m, m->out, m->n_out, key_never_tls, &n);
		for (size_t i = 0; r && i < n; i++) {
			const PeerStats *p = r[i].p;
			OutClass o = out_class(p);
			snprintf(a[0], sizeof(a[0]), "%s", p->key);
			u64s(a[1], sizeof(a[1]), o.plain);
			u64s(a[2], sizeof(a[2]), o.sent);
			u64s(a[3], sizeof(a[3]), o.deferred);
			u64s(a[4], sizeof(a[4]), o.bounced);
			examples_str(p, a[5], sizeof(a[5]));
			fmt_time(a[6], sizeof(a[6]), p->last_seen_usec, false);
			row(m, s, c);
		}
		free(r);
	}
	{
		static const char *const cols[] = { "destination", "with TLS", "without TLS", "last without TLS" };
		Section *s = sec_new(m, "mixed_tls", "Outbound: destinations with and without TLS", 4, cols, "lrrl");
		size_t n;
		Ranked *r = rank(m, m->out, m->n_out, key_mixed, &n);
		for (size_t i = 0; r && i < n; i++) {
			const PeerStats *p = r[i].p;
			OutClass o = out_class(p);
			snprintf(a[0], sizeof(a[0]), "%s", p->key);
			u64s(a[1], sizeof(a[1]), o.tls);
			u64s(a[2], sizeof(a[2]), o.plain);
			fmt_time(a[3], sizeof(a[3]), p->last_plaintext_usec, false);
			row(m, s, c);
		}
		free(r);
	}

	/* tracking health */
	{
		static const char *const cols[] = { "direction", "tracked", "evicted", "folded into \"other\"" };
		Section *s = sec_new(m, "tracking", "Tracking limits", 4, cols, "lrrr");
		for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
			snprintf(a[0], sizeof(a[0]), "%s", peer_direction_name((PeerDirection)d));
			u64s(a[1], sizeof(a[1]), T->tracked[d]);
			u64s(a[2], sizeof(a[2]), T->evicted[d]);
			u64s(a[3], sizeof(a[3]), T->folded[d]);
			row(m, s, c);
		}
		char buf[512];
		snprintf(buf, sizeof(buf),
			 "At most %zu peers per direction are tracked and %zu labelled. Evicted peers still count in the "
			 "totals and the verdict's session counts, but not in the per-peer lists. %llu event(s) arrived "
			 "older than the window.",
			 T->max_tracked, T->max_labelled, (unsigned long long)T->late_events);
		s->intro = xstrdup(m, buf);
	}
}

static int model_build(Model *m, Peers *p, int64_t now_usec)
{
	memset(m, 0, sizeof(*m));
	int r = peers_get_totals(p, now_usec, &m->T);
	if (r >= 0)
		r = peers_list(p, PEER_INBOUND, now_usec, &m->in, &m->n_in);
	if (r >= 0)
		r = peers_list(p, PEER_OUTBOUND, now_usec, &m->out, &m->n_out);
	if (r >= 0)
		r = peers_list(p, PEER_UNKNOWN_ADDR, now_usec, &m->unk, &m->n_unk);
	if (r < 0)
		return r;
	char from[64], to[64], dur[32], data[64];
	fmt_time(from, sizeof(from), m->T.from_usec, false);
	fmt_time(to, sizeof(to), m->T.to_usec, false);
	fmt_duration(dur, sizeof(dur), m->T.window_usec);
	fmt_time(data, sizeof(data), m->T.data_from_usec, false);
	snprintf(m->window, sizeof(m->window), "%s to %s (window %s, log time; first events in the window: %s)",
		 from, to, dur, m->T.data_from_usec ? data : "none");
	while (m->first_day < m->T.n_days && m->T.day_sessions[m->first_day] == 0)
		m->first_day++;
	model_verdicts(m);
	model_sections(m);
	return m->err;
}

/*
 * Text.
 */
static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '\\') ? 4 : 1;
	return n;
}

static int render_text(Model *m, Buf *b)
{
	buf_puts(b, "Postfix TLS enforcement readiness report\n");
	buf_puts(b, "Window: ");
	esc_text(b, m->window);
	buf_puts(b, "\n\nVerdict:\n");
	if (m->n_verdict == 0)
		buf_puts(b, "  no inbound sessions in the window\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		char line[512];
		verdict_line(&m->verdict[i], line, sizeof(line));
		buf_puts(b, "  ");
		esc_text(b, line);
		buf_putc(b, '\n');
	}
	for (unsigned i = 0; i < m->n_sec; i++) {
		Section *s = &m->sec[i];
		buf_printf(b, "\n%s\n", s->title);
		for (size_t k = strlen(s->title); k > 0; k--)
			buf_putc(b, '-');
		buf_putc(b, '\n');
		if (s->intro) {
			esc_text(b, s->intro);
			buf_putc(b, '\n');
		}
		if (s->code) {
			for (const char *l = s->code; *l;) {
				const char *nl = strchr(l, '\n');
				size_t len = nl ? (size_t)(nl - l) : strlen(l);
				buf_puts(b, "    ");
				char tmp[512];
				snprintf(tmp, sizeof(tmp), "%.*s", (int)MIN(len, sizeof(tmp) - 1), l);
				esc_text(b, tmp);
				buf_putc(b, '\n');
				l += len + (nl ? 1 : 0);
			}
			continue;
		}
		if (s->ncols == 0)
			continue;
		if (s->nrows == 0) {
			buf_printf(b, "  (%s)\n", s->empty);
			continue;
		}
		size_t w[COLS_MAX];
		for (unsigned k = 0; k < s->ncols; k++) {
			w[k] = strlen(s->cols[k]);
			for (size_t r = 0; r < s->nrows; r++)
				w[k] = MAX(w[k], text_width(s->cells[r * s->ncols + k]));
		}
		for (size_t r = 0; r <= s->nrows; r++) {
			size_t line_start = b->len;
			buf_puts(b, " ");
			for (unsigned k = 0; k < s->ncols; k++) {
				const char *cell = r == 0 ? s->cols[k] : s->cells[(r - 1) * s->ncols + k];
				size_t cw = text_width(cell);
				bool last = k + 1 == s->ncols;
				buf_putc(b, ' ');
				if (s->right[k])
					for (size_t x = cw; x < w[k]; x++)
						buf_putc(b, ' ');
				esc_text(b, cell);
				if (!s->right[k] && !last)
					for (size_t x = cw; x < w[k]; x++)
						buf_putc(b, ' ');
				if (!last)
					buf_putc(b, ' ');
			}
			while (b->len > line_start && b->data[b->len - 1] == ' ')
				b->len--;
			buf_putc(b, '\n');
		}
		if (s->more)
			buf_printf(b, "  ... and %zu more (see --format json)\n", s->more);
	}
	return 0;
}

/*
 * Markdown.
 */
static int render_markdown(Model *m, Buf *b)
{
	buf_puts(b, "# Postfix TLS enforcement readiness report\n\n**Window:** ");
	esc_md(b, m->window);
	buf_puts(b, "\n\n## Verdict\n\n");
	if (m->n_verdict == 0)
		buf_puts(b, "- no inbound sessions in the window\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		char line[512];
		verdict_line(&m->verdict[i], line, sizeof(line));
		buf_puts(b, "- **");
		esc_md(b, line);
		buf_puts(b, "**\n");
	}
	for (unsigned i = 0; i < m->n_sec; i++) {
		Section *s = &m->sec[i];
		buf_puts(b, "\n## ");
		esc_md(b, s->title);
		buf_puts(b, "\n\n");
		if (s->intro) {
			esc_md(b, s->intro);
			buf_puts(b, "\n\n");
		}
		if (s->code) {
			buf_puts(b, "```\n");
			esc_text(b, s->code); /* validated host names only; \xHH keeps the fence intact */
			buf_puts(b, "```\n");
			continue;
		}
		if (s->ncols == 0)
			continue;
		if (s->nrows == 0) {
			buf_printf(b, "_%s_\n", s->empty);
			continue;
		}
		buf_putc(b, '|');
		for (unsigned k = 0; k < s->ncols; k++) {
			buf_putc(b, ' ');
			esc_md(b, s->cols[k]);
			buf_puts(b, " |");
		}
		buf_puts(b, "\n|");
		for (unsigned k = 0; k < s->ncols; k++)
			buf_puts(b, s->right[k] ? " ---: |" : " --- |");
		buf_putc(b, '\n');
		for (size_t r = 0; r < s->nrows; r++) {
			buf_putc(b, '|');
			for (unsigned k = 0; k < s->ncols; k++) {
				buf_putc(b, ' ');
				esc_md(b, s->cells[r * s->ncols + k]);
				buf_puts(b, " |");
			}
			buf_putc(b, '\n');
		}
		if (s->more)
			buf_printf(b, "\n_... and %zu more (see `--format json`)_\n", s->more);
	}
	return 0;
}

/*
 * HTML with inline SVG.
 */
static void svg_days(Model *m, Buf *b)
{
	const PeersTotals *T = &m->T;
	unsigned n = T->n_days - m->first_day;
	unsigned bw = 36, gap = 10, h = 120, left = 40, top = 10;
	unsigned wdt = MAX(left + n * (bw + gap) + 10, 330u);
	buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"days-t\" width=\"%u\" height=\"%u\" "
		      "viewBox=\"0 0 %u %u\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		      "<title id=\"days-t\">Plaintext share of sessions (light) and of mail sessions (dark) per day</title>\n",
		   wdt, h + top + 46, wdt, h + top + 46);
	buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" class=\"bar1\"/>"
		      "<text x=\"%u\" y=\"%u\" class=\"axis\">plaintext share of sessions</text>"
		      "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" class=\"bar2\"/>"
		      "<text x=\"%u\" y=\"%u\" class=\"axis\">of mail sessions</text>\n",
		   left, top + h + 27, left + 14, top + h + 36, left + 170, top + h + 27, left + 184, top + h + 36);
	for (unsigned pct = 0; pct <= 100; pct += 25) {
		unsigned y = top + h - pct * h / 100;
		buf_printf(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" class=\"grid\"/>"
			      "<text x=\"%u\" y=\"%u\" class=\"axis\" text-anchor=\"end\">%u%%</text>\n",
			   left, y, wdt - 5, y, left - 4, y + 4, pct);
	}
	for (unsigned d = m->first_day; d < T->n_days; d++) {
		double s1 = share(T->day_plain[d], T->day_sessions[d]);
		double s2 = share(T->day_plain_mail[d], T->day_mail[d]);
		unsigned x = left + 5 + (d - m->first_day) * (bw + gap);
		unsigned h1 = (unsigned)(s1 * h + 0.5), h2 = (unsigned)(s2 * h + 0.5);
		char day[32];
		fmt_day(day, sizeof(day), T->day_start_usec[d]);
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" class=\"bar1\"><title>%s: %.1f%% of %llu sessions plaintext</title></rect>\n",
			   x, top + h - h1, bw / 2, h1, day, 100 * s1, (unsigned long long)T->day_sessions[d]);
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" class=\"bar2\"><title>%s: %.1f%% of %llu mail sessions plaintext</title></rect>\n",
			   x + bw / 2, top + h - h2, bw / 2, h2, day, 100 * s2, (unsigned long long)T->day_mail[d]);
		buf_printf(b, "<text x=\"%u\" y=\"%u\" class=\"axis\" text-anchor=\"middle\">%.5s</text>\n",
			   x + bw / 2, top + h + 16, day + 5);
	}
	buf_puts(b, "</svg>\n");
}

static void svg_protocols(Model *m, Buf *b)
{
	const PeersTotals *T = &m->T;
	static const char *const colour[PEERS_PROTO_MAX] = { "#7f0000", "#b30000", "#e34a33", "#fc8d59", "#74a9cf", "#0570b0", "#999999" };
	unsigned w = 480, bh = 22;
	buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"proto-t\" width=\"%u\" height=\"%u\" "
		      "viewBox=\"0 0 %u %u\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		      "<title id=\"proto-t\">TLS protocol mix, inbound and outbound</title>\n",
		   w + 90, 2 * (bh + 8) + 28, w + 90, 2 * (bh + 8) + 28);
	for (unsigned dir = 0; dir < 2; dir++) {
		const uint64_t *v = dir ? T->proto_out : T->proto_in;
		uint64_t tot = 0;
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			tot += v[i];
		unsigned y = dir * (bh + 8);
		buf_printf(b, "<text x=\"0\" y=\"%u\" class=\"axis\">%s</text>\n", y + 15, dir ? "outbound" : "inbound");
		double x = 80;
		for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
			if (!v[i] || !tot)
				continue;
			double wd = (double)w * (double)v[i] / (double)tot;
			buf_printf(b, "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\"><title>%s %s: %llu (%.1f%%)</title></rect>\n",
				   x, y, wd, bh, colour[i], dir ? "outbound" : "inbound", T->proto_names[i],
				   (unsigned long long)v[i], 100.0 * (double)v[i] / (double)tot);
			x += wd;
		}
		if (!tot)
			buf_printf(b, "<text x=\"80\" y=\"%u\" class=\"axis\">no TLS</text>\n", y + 15);
	}
	unsigned lx = 80, ly = 2 * (bh + 8) + 14;
	for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
		if (!T->proto_in[i] && !T->proto_out[i])
			continue;
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%u\" y=\"%u\" class=\"axis\">%s</text>\n",
			   lx, ly - 9, colour[i], lx + 14, ly, T->proto_names[i]);
		lx += 80;
	}
	buf_puts(b, "</svg>\n");
}

static int render_html(Model *m, Buf *b)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>Postfix TLS enforcement readiness</title>\n<style>\n"
		    "body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222;background:#fff}\n"
		    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
		    ".verdict{font-size:1.15em;padding:.6em .9em;border-left:6px solid #c0392b;background:#fbeeee;margin:.4em 0}\n"
		    ".verdict.ok{border-color:#27ae60;background:#eef8f1}\n"
		    "table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left}\n"
		    "td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}td{white-space:nowrap}\n"
		    ".scroll{overflow-x:auto}\n"
		    "pre{background:#f6f6f6;padding:.8em;overflow-x:auto}.muted{color:#666}\n"
		    ".grid{stroke:#ddd;stroke-width:1}.axis{font-size:11px;fill:#555}.bar1{fill:#f4a582}.bar2{fill:#b2182b}\n"
		    "nav a{margin-right:1em}\n"
		    "</style>\n</head>\n<body>\n<h1>Postfix TLS enforcement readiness</h1>\n<p class=\"muted\">");
	esc_html(b, m->window);
	buf_puts(b, "</p>\n<section id=\"verdict\">\n");
	if (m->n_verdict == 0)
		buf_puts(b, "<p class=\"verdict ok\">No inbound sessions in the window.</p>\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		char line[512];
		verdict_line(&m->verdict[i], line, sizeof(line));
		buf_printf(b, "<p class=\"verdict%s\">", m->verdict[i].refused ? "" : " ok");
		esc_html(b, line);
		buf_puts(b, "</p>\n");
	}
	buf_puts(b, "</section>\n<nav>");
	for (unsigned i = 0; i < m->n_sec; i++) {
		buf_printf(b, "<a href=\"#%s\">", m->sec[i].id);
		esc_html(b, m->sec[i].title);
		buf_puts(b, "</a> ");
	}
	buf_puts(b, "<a href=\"?format=json\">JSON</a></nav>\n");
	for (unsigned i = 0; i < m->n_sec; i++) {
		Section *s = &m->sec[i];
		buf_printf(b, "<section id=\"%s\">\n<h2>", s->id);
		esc_html(b, s->title);
		buf_puts(b, "</h2>\n");
		if (s->intro) {
			buf_puts(b, "<p>");
			esc_html(b, s->intro);
			buf_puts(b, "</p>\n");
		}
		if (s->chart == 1 && m->first_day < m->T.n_days)
			svg_days(m, b);
		if (s->chart == 2)
			svg_protocols(m, b);
		if (s->code) {
			buf_puts(b, "<pre>");
			esc_html(b, s->code);
			buf_puts(b, "</pre>\n</section>\n");
			continue;
		}
		if (s->ncols && s->nrows == 0) {
			buf_puts(b, "<p class=\"muted\">");
			esc_html(b, s->empty);
			buf_puts(b, "</p>\n");
		} else if (s->ncols) {
			buf_puts(b, "<div class=\"scroll\"><table>\n<thead><tr>");
			for (unsigned k = 0; k < s->ncols; k++) {
				buf_printf(b, "<th%s>", s->right[k] ? " class=\"r\"" : "");
				esc_html(b, s->cols[k]);
				buf_puts(b, "</th>");
			}
			buf_puts(b, "</tr></thead>\n<tbody>\n");
			for (size_t r = 0; r < s->nrows; r++) {
				buf_puts(b, "<tr>");
				for (unsigned k = 0; k < s->ncols; k++) {
					buf_printf(b, "<td%s>", s->right[k] ? " class=\"r\"" : "");
					esc_html(b, s->cells[r * s->ncols + k]);
					buf_puts(b, "</td>");
				}
				buf_puts(b, "</tr>\n");
			}
			buf_puts(b, "</tbody>\n</table></div>\n");
			if (s->more)
				buf_printf(b, "<p class=\"muted\">... and %zu more (see <a href=\"?format=json\">JSON</a>)</p>\n", s->more);
		}
		buf_puts(b, "</section>\n");
	}
	buf_puts(b, "</body>\n</html>\n");
	return 0;
}

/*
 * JSON.
 */
static void j_time(Buf *b, int64_t usec)
{
	char t[64];
	if (usec <= 0) {
		buf_puts(b, "null");
		return;
	}
	fmt_time(t, sizeof(t), usec, true);
	buf_printf(b, "\"%s\"", t);
}

static void j_share(Buf *b, uint64_t part, uint64_t whole)
{
	buf_printf(b, "%.4f", share(part, whole));
}

static void j_enc(Buf *b, const uint64_t *in, bool mail_only)
{
	buf_putc(b, '{');
	for (unsigned e = 0; e < _ENC_MAX; e++) {
		uint64_t v = in[peers_in_cell((Encryption)e, true)] + (mail_only ? 0 : in[peers_in_cell((Encryption)e, false)]);
		buf_printf(b, "%s\"%s\":%llu", e ? "," : "", encryption_name((Encryption)e), (unsigned long long)v);
	}
	buf_putc(b, '}');
}

static void j_examples(Buf *b, const PeerStats *p)
{
	buf_putc(b, '[');
	for (unsigned i = 0; i < p->n_examples; i++) {
		if (i)
			buf_putc(b, ',');
		esc_json(b, p->examples[i]);
	}
	buf_putc(b, ']');
}

static void j_combos(Buf *b, const PeerStats *p, PeerComboKind k, bool legacy_only)
{
	buf_putc(b, '[');
	bool first = true;
	for (unsigned i = 0; i < p->n_combos; i++) {
		const PeerComboCount *c = &p->combos[i];
		if (c->kind != k || (legacy_only && !legacy_proto(c->a)))
			continue;
		buf_puts(b, first ? "{" : ",{");
		first = false;
		if (k == COMBO_TLS) {
			buf_puts(b, "\"protocol\":");
			esc_json(b, c->a);
			if (c->b[0]) {
				buf_puts(b, ",\"cipher\":");
				esc_json(b, c->b);
			}
		} else {
			buf_puts(b, k == COMBO_FAILURE ? "\"reason\":" : "\"syslog_name\":");
			esc_json(b, c->a);
		}
		buf_printf(b, ",\"count\":%llu}", (unsigned long long)c->n);
	}
	buf_putc(b, ']');
}

static void j_inbound_peer(Buf *b, const PeerStats *p)
{
	buf_puts(b, "{\"peer\":");
	esc_json(b, p->key);
	buf_puts(b, ",\"sessions\":");
	j_enc(b, p->n, false);
	buf_puts(b, ",\"mail_sessions\":");
	j_enc(b, p->n, true);
	buf_puts(b, ",\"first_seen\":");
	j_time(b, p->first_seen_usec);
	buf_puts(b, ",\"last_seen\":");
	j_time(b, p->last_seen_usec);
	buf_puts(b, ",\"last_plaintext\":");
	j_time(b, p->last_plaintext_usec);
	buf_puts(b, ",\"examples\":");
	j_examples(b, p);
	buf_puts(b, ",\"tls\":");
	j_combos(b, p, COMBO_TLS, false);
	buf_puts(b, ",\"failures\":");
	j_combos(b, p, COMBO_FAILURE, false);
	buf_puts(b, ",\"plaintext_mail_by_syslog_name\":");
	j_combos(b, p, COMBO_PLAINMAIL, false);
	buf_printf(b, ",\"labelled\":%s}", p->labelled ? "true" : "false");
}

static void j_outbound_peer(Buf *b, const PeerStats *p)
{
	OutClass o = out_class(p);
	buf_puts(b, "{\"destination\":");
	esc_json(b, p->key);
	buf_printf(b, ",\"deliveries\":%llu,\"tls\":%llu,\"plaintext\":%llu,\"without_connection\":%llu,"
		      "\"sent\":%llu,\"deferred\":%llu,\"bounced\":%llu,\"by_trust\":{",
		   (unsigned long long)p->total, (unsigned long long)o.tls, (unsigned long long)o.plain,
		   (unsigned long long)o.noconn, (unsigned long long)o.sent, (unsigned long long)o.deferred,
		   (unsigned long long)o.bounced);
	for (unsigned t = 0; t < _TRUST_MAX; t++) {
		uint64_t v = 0;
		for (unsigned s = 0; s < _DELIVERY_MAX; s++)
			v += p->n[peers_out_cell((Trust)t, (DeliveryStatus)s)];
		buf_printf(b, "%s\"%s\":%llu", t ? "," : "", trust_name((Trust)t), (unsigned long long)v);
	}
	buf_puts(b, "},\"weakest_trust\":");
	if (o.weakest >= 0)
		buf_printf(b, "\"%s\"", trust_name((Trust)o.weakest));
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"class\":");
	buf_puts(b, o.tls && !o.plain ? "\"always_tls\"" : !o.tls && o.plain ? "\"never_tls\"" : o.tls ? "\"mixed\"" : "\"no_connection\"");
	if (o.tls && !o.plain)
		buf_printf(b, ",\"policy\":\"%s\"", o.weakest == TRUST_VERIFIED ? "verify" : "encrypt");
	buf_puts(b, ",\"protocols\":");
	j_combos(b, p, COMBO_TLS, false);
	buf_puts(b, ",\"recipient_domains\":");
	j_examples(b, p);
	buf_puts(b, ",\"first_seen\":");
	j_time(b, p->first_seen_usec);
	buf_puts(b, ",\"last_seen\":");
	j_time(b, p->last_seen_usec);
	buf_puts(b, ",\"last_plaintext\":");
	j_time(b, p->last_plaintext_usec);
	buf_puts(b, "}");
}

static void j_ranked(Buf *b, Model *m, const PeerStats *v, size_t n, uint64_t (*key)(const PeerStats *),
		     void (*emit)(Buf *, const PeerStats *))
{
	size_t k;
	Ranked *r = rank(m, v, n, key, &k);
	buf_putc(b, '[');
	for (size_t i = 0; r && i < k; i++) {
		if (i)
			buf_putc(b, ',');
		buf_puts(b, "\n    ");
		emit(b, r[i].p);
	}
	buf_putc(b, ']');
	free(r);
}

static int render_json(Model *m, Buf *b)
{
	const PeersTotals *T = &m->T;
	buf_printf(b, "{\n  \"schema\": \"postfix_tls_exporter.report/1\",\n  \"window\": {\"seconds\": %lld, \"from\": ",
		   (long long)(T->window_usec / 1000000));
	j_time(b, T->from_usec);
	buf_puts(b, ", \"to\": ");
	j_time(b, T->to_usec);
	buf_puts(b, ", \"data_from\": ");
	j_time(b, T->data_from_usec);
	buf_puts(b, ", \"newest_event\": ");
	j_time(b, T->newest_event_usec);
	buf_puts(b, "},\n  \"verdicts\": [");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		const Verdict *v = &m->verdict[i];
		char line[512];
		verdict_line(v, line, sizeof(line));
		buf_puts(b, i ? ",\n    {\"syslog_name\": " : "\n    {\"syslog_name\": ");
		esc_json(b, v->syslog);
		buf_printf(b, ", \"refused_mail_sessions\": %llu, \"peers\": %llu, \"mail_sessions\": %llu, \"share_of_mail\": ",
			   (unsigned long long)v->refused, (unsigned long long)v->peers, (unsigned long long)v->mail);
		j_share(b, v->refused, v->mail);
		buf_puts(b, ", \"text\": ");
		esc_json(b, line);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\n  \"inbound\": {\n    \"by_syslog_name\": [");
	for (unsigned i = 0; i < T->n_syslog; i++) {
		buf_puts(b, i ? ",\n      {\"syslog_name\": " : "\n      {\"syslog_name\": ");
		esc_json(b, T->syslog[i].name);
		buf_puts(b, ", \"sessions\": ");
		j_enc(b, T->syslog[i].in, false);
		buf_puts(b, ", \"mail_sessions\": ");
		j_enc(b, T->syslog[i].in, true);
		buf_putc(b, '}');
	}
	uint64_t all = 0, mail = 0;
	for (unsigned e = 0; e < _ENC_MAX; e++) {
		all += T->in[peers_in_cell((Encryption)e, false)] + T->in[peers_in_cell((Encryption)e, true)];
		mail += T->in[peers_in_cell((Encryption)e, true)];
	}
	buf_puts(b, "],\n    \"totals\": {\"sessions\": ");
	j_enc(b, T->in, false);
	buf_puts(b, ", \"mail_sessions\": ");
	j_enc(b, T->in, true);
	buf_puts(b, ", \"plaintext_share_of_sessions\": ");
	j_share(b, T->in[peers_in_cell(ENC_PLAINTEXT, false)] + T->in[peers_in_cell(ENC_PLAINTEXT, true)], all);
	buf_puts(b, ", \"plaintext_share_of_mail_sessions\": ");
	j_share(b, T->in[peers_in_cell(ENC_PLAINTEXT, true)], mail);
	buf_puts(b, "},\n    \"days\": [");
	for (unsigned d = 0; d < T->n_days; d++) {
		char day[32];
		fmt_day(day, sizeof(day), T->day_start_usec[d]);
		buf_printf(b, "%s\n      {\"day\": \"%s\", \"sessions\": %llu, \"plaintext\": %llu, \"mail_sessions\": %llu, \"plaintext_mail\": %llu}",
			   d ? "," : "", day, (unsigned long long)T->day_sessions[d], (unsigned long long)T->day_plain[d],
			   (unsigned long long)T->day_mail[d], (unsigned long long)T->day_plain_mail[d]);
	}
	buf_puts(b, "],\n    \"protocols\": {");
	for (unsigned i = 0, first = 1; i < PEERS_PROTO_MAX; i++)
		if (T->proto_in[i]) {
			buf_printf(b, "%s\"%s\": %llu", first ? "" : ", ", T->proto_names[i], (unsigned long long)T->proto_in[i]);
			first = 0;
		}
	buf_puts(b, "},\n    \"plaintext_mail_peers\": ");
	j_ranked(b, m, m->in, m->n_in, key_plain_mail, j_inbound_peer);
	buf_puts(b, ",\n    \"legacy_protocol_peers\": ");
	j_ranked(b, m, m->in, m->n_in, key_legacy, j_inbound_peer);
	buf_puts(b, ",\n    \"starttls_failure_peers\": ");
	j_ranked(b, m, m->in, m->n_in, key_failed, j_inbound_peer);
	buf_puts(b, ",\n    \"peers\": [");
	for (size_t i = 0; i < m->n_in; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		j_inbound_peer(b, &m->in[i]);
	}
	buf_puts(b, "],\n    \"unknown_clients\": [");
	{
		size_t k;
		Ranked *r = rank(m, m->unk, m->n_unk, key_total, &k);
		for (size_t i = 0; r && i < k; i++) {
			const PeerStats *p = r[i].p;
			buf_puts(b, i ? ",\n      {\"address\": " : "\n      {\"address\": ");
			esc_json(b, p->key);
			buf_puts(b, ", \"sessions\": ");
			j_enc(b, p->n, false);
			buf_puts(b, ", \"mail_sessions\": ");
			j_enc(b, p->n, true);
			buf_puts(b, ", \"last_seen\": ");
			j_time(b, p->last_seen_usec);
			buf_putc(b, '}');
		}
		free(r);
	}
	buf_puts(b, "]\n  },\n  \"outbound\": {\n    \"totals\": {\"deliveries\": ");
	uint64_t od = 0;
	for (unsigned c = 0; c < PEERS_CELLS; c++)
		od += T->out[c];
	buf_printf(b, "%llu, \"without_connection\": %llu, \"by_tls\": {", (unsigned long long)od,
		   (unsigned long long)T->out_noconn);
	for (unsigned t = 0; t < _TRUST_MAX; t++) {
		uint64_t v = 0;
		for (unsigned s = 0; s < _DELIVERY_MAX; s++)
			v += T->out[peers_out_cell((Trust)t, (DeliveryStatus)s)];
		buf_printf(b, "%s\"%s\": %llu", t ? ", " : "", trust_name((Trust)t), (unsigned long long)v);
	}
	buf_puts(b, "}, \"by_status\": {");
	for (unsigned s = 0; s < _DELIVERY_MAX; s++) {
		uint64_t v = 0;
		for (unsigned t = 0; t < _TRUST_MAX; t++)
			v += T->out[peers_out_cell((Trust)t, (DeliveryStatus)s)];
		buf_printf(b, "%s\"%s\": %llu", s ? ", " : "", delivery_status_name((DeliveryStatus)s), (unsigned long long)v);
	}
	buf_puts(b, "}},\n    \"protocols\": {");
	for (unsigned i = 0, first = 1; i < PEERS_PROTO_MAX; i++)
		if (T->proto_out[i]) {
			buf_printf(b, "%s\"%s\": %llu", first ? "" : ", ", T->proto_names[i], (unsigned long long)T->proto_out[i]);
			first = 0;
		}
	buf_puts(b, "},\n    \"always_tls\": ");
	j_ranked(b, m, m->out, m->n_out, key_always_tls, j_outbound_peer);
	buf_puts(b, ",\n    \"never_tls\": ");
	j_ranked(b, m, m->out, m->n_out, key_never_tls, j_outbound_peer);
	buf_puts(b, ",\n    \"mixed\": ");
	j_ranked(b, m, m->out, m->n_out, key_mixed, j_outbound_peer);
	buf_puts(b, ",\n    \"policy_map\": ");
	esc_json(b, m->policy ? m->policy : "");
	buf_puts(b, ",\n    \"destinations\": [");
	for (size_t i = 0; i < m->n_out; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		j_outbound_peer(b, &m->out[i]);
	}
	buf_printf(b, "]\n  },\n  \"tracking\": {\"max_tracked\": %zu, \"max_labelled\": %zu, \"late_events\": %llu",
		   T->max_tracked, T->max_labelled, (unsigned long long)T->late_events);
	static const char *const what[] = { "tracked", "evicted", "folded" };
	for (unsigned w = 0; w < 3; w++) {
		buf_printf(b, ", \"%s\": {", what[w]);
		for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
			unsigned long long v = w == 0 ? T->tracked[d] : w == 1 ? T->evicted[d] : T->folded[d];
			buf_printf(b, "%s\"%s\": %llu", d ? ", " : "", peer_direction_name((PeerDirection)d), v);
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "}\n}\n");
	return 0;
}

int report_render(Peers *p, ReportFormat fmt, int64_t now_usec, Buf *out)
{
	if (!p)
		return -EINVAL;
	Model *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	int r = model_build(m, p, now_usec);
	if (r >= 0) {
		switch (fmt) {
		case REPORT_TEXT: r = render_text(m, out); break;
		case REPORT_JSON: r = render_json(m, out); break;
		case REPORT_MARKDOWN: r = render_markdown(m, out); break;
		case REPORT_HTML: r = render_html(m, out); break;
		default: r = -EINVAL;
		}
	}
	if (r >= 0)
		r = buf_error(out);
	model_free(m);
	free(m);
	return r;
}

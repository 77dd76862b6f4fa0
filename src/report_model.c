/*
 * report_model.c - the report model: figures, ranked peer lists, verdicts,
 * and the section/row/cell containers the builders fill.
 *
 * DESCRIPTION
 *	report_model_build() reads peers_get_totals() and peers_list() once
 *	(two of the four lists in a second thread), ranks the peer lists
 *	every table and the JSON share, writes the verdicts and then calls
 *	the section builders (report_sections.c).
 *	Allocation failures while building are kept in m->err (the first one)
 *	and returned at the end, the way Buf keeps its error.
 * DIAGNOSTICS
 *	Returns -ENOMEM, or what peers_get_totals()/peers_list() returned.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_int.h"

/*
 * Formatting shared by the writers.
 */
double report_share(uint64_t part, uint64_t whole)
{
	return whole ? (double)part / (double)whole : 0.0;
}

void report_fmt_time(char *out, size_t n, int64_t usec, bool iso)
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

void report_fmt_day(char *out, size_t n, int64_t usec)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d", &tm);
}

void report_fmt_pct(char *out, size_t n, uint64_t part, uint64_t whole)
{
	snprintf(out, n, "%.1f %%", 100.0 * report_share(part, whole));
}

void report_fmt_span(char *out, size_t n, int64_t usec)
{
	int64_t min = usec / (60LL * 1000000);
	const char *unit = "minute";
	int64_t v = min;
	if (min >= 2 * 24 * 60)
		v = min / (24 * 60), unit = "day";
	else if (min >= 2 * 60)
		v = min / 60, unit = "hour";
	snprintf(out, n, "%lld %s%s", (long long)v, unit, v == 1 ? "" : "s");
}

void report_names(Buf *b, const ReportRanked *v, size_t n)
{
	for (size_t i = 0; i < n && i < REPORT_NAMES_MAX; i++)
		buf_printf(b, "%s%s (%llu)", i ? ", " : "", v[i].p->key, (unsigned long long)v[i].key);
	if (n > REPORT_NAMES_MAX)
		buf_printf(b, " +%zu more", n - REPORT_NAMES_MAX);
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

void report_esc_text_n(Buf *b, const char *s, size_t n)
{
	for (const char *end = s + n; s < end; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
}

const char *report_cell_format(const ReportSection *s, size_t row, unsigned col, char *tmp, size_t n)
{
	const ReportCell *c = &s->cells[row * s->ncols + col];
	switch (s->cols[col].type) {
	case REPORT_COL_TEXT:
		return c->text ? c->text : "";
	case REPORT_COL_COUNT:
		snprintf(tmp, n, "%llu", (unsigned long long)c->count);
		break;
	case REPORT_COL_PERCENT:
		report_fmt_pct(tmp, n, c->pct.part, c->pct.whole);
		break;
	case REPORT_COL_TIME:
		report_fmt_time(tmp, n, c->usec, false);
		break;
	}
	return tmp;
}

/*
 * Containers.
 */
char *report_strdup(ReportModel *m, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d && !m->err)
		m->err = -ENOMEM;
	return d;
}

char *report_printf(ReportModel *m, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		if (!m->err)
			m->err = -ENOMEM;
		return NULL;
	}
	return s;
}

void report_cell_text(ReportModel *m, ReportCell *c, const char *s)
{
	/* strlen, a bound and a copy, not strndup(s, REPORT_CELL_MAX) or
	 * strnlen(): with LTO, GCC sees string literals shorter than the bound
	 * and warns (-Wstringop-overread), at -O3 for strnlen() too */
	if (!s)
		s = "";
	size_t n = strlen(s);
	if (n > REPORT_CELL_MAX)
		n = REPORT_CELL_MAX;
	c->text = malloc(n + 1);
	if (c->text) {
		memcpy(c->text, s, n);
		c->text[n] = '\0';
	}
	if (!c->text && !m->err)
		m->err = -ENOMEM;
}

ReportSection *report_section_new(ReportModel *m, const char *id, const char *title, const ReportColumn *cols,
				  unsigned ncols)
{
	if (ncols > REPORT_COLS_MAX) {
		if (!m->err)
			m->err = -EINVAL;
		return NULL;
	}
	if (m->n_sec == m->cap_sec) {
		size_t cap = m->cap_sec ? 2 * m->cap_sec : 16;
		ReportSection *v = reallocarray(m->sec, cap, sizeof(*v));
		if (!v) {
			if (!m->err)
				m->err = -ENOMEM;
			return NULL;
		}
		m->sec = v;
		m->cap_sec = cap;
	}
	ReportSection *s = &m->sec[m->n_sec++];
	*s = (ReportSection){ .id = id, .title = title, .cols = cols, .ncols = ncols, .empty = "none" };
	return s;
}

ReportCell *report_row(ReportModel *m, ReportSection *s)
{
	if (s->nrows >= REPORT_ROWS_MAX) {
		s->more++;
		return NULL;
	}
	if (s->nrows == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		ReportCell *c = reallocarray(s->cells, cap * s->ncols, sizeof(*c));
		if (!c) {
			if (!m->err)
				m->err = -ENOMEM;
			return NULL;
		}
		s->cells = c;
		s->cap = cap;
	}
	ReportCell *row = &s->cells[s->nrows++ * s->ncols];
	memset(row, 0, s->ncols * sizeof(*row));
	return row;
}

static void section_free(ReportSection *s)
{
	for (size_t r = 0; r < s->nrows; r++)
		for (unsigned k = 0; k < s->ncols; k++)
			if (s->cols[k].type == REPORT_COL_TEXT)
				free(s->cells[r * s->ncols + k].text);
	free(s->cells);
	free(s->intro);
	free(s->code);
}

void report_model_free(ReportModel *m)
{
	for (size_t i = 0; i < m->n_sec; i++)
		section_free(&m->sec[i]);
	free(m->sec);
	for (unsigned i = 0; i < m->n_verdict; i++)
		free(m->verdict[i].text);
	free(m->verdict);
	for (size_t i = 0; i < m->n_host; i++) {
		free(m->host[i].name);
		free(m->host[i].who);
		free(m->host[i].text);
	}
	free(m->host);
	free(m->fleet.who);
	free(m->fleet.text);
	for (unsigned i = 0; i < _REPORT_LIST_MAX; i++)
		free(m->list[i].v);
	free(m->in);
	free(m->out);
	free(m->unk);
	free(m->dst);
	free(m->window);
	free(m->policy);
	free(m->banner);
}

/*
 * Per-peer figures.
 */
uint64_t report_in_sessions(const PeerStats *p, Encryption e)
{
	return p->n[peers_in_cell(e, false)] + p->n[peers_in_cell(e, true)];
}

uint64_t report_in_mail(const PeerStats *p)
{
	uint64_t n = 0;
	for (unsigned e = 0; e < _ENC_MAX; e++)
		n += p->n[peers_in_cell((Encryption)e, true)];
	return n;
}

void report_enc_sums(const uint64_t *in, uint64_t *ret_all, uint64_t *ret_mail)
{
	uint64_t all = 0, mail = 0;
	for (unsigned e = 0; e < _ENC_MAX; e++) {
		all += in[peers_in_cell((Encryption)e, false)] + in[peers_in_cell((Encryption)e, true)];
		mail += in[peers_in_cell((Encryption)e, true)];
	}
	*ret_all = all;
	*ret_mail = mail;
}

static uint64_t combo_sum(const PeerStats *p, PeerComboKind k, const char *a)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < p->n_combos; i++)
		if (p->combos[i].kind == k && (!a || !strcmp(p->combos[i].a, a)))
			n += p->combos[i].n;
	return n;
}

bool report_legacy_proto(const char *proto)
{
	return !strcmp(proto, "SSLv2") || !strcmp(proto, "SSLv3") || !strcmp(proto, "TLSv1") ||
	       !strcmp(proto, "TLSv1.1");
}

uint64_t report_legacy_sessions(const PeerStats *p)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < PEERS_PROTO_TLS12; i++)
		n += p->proto[i];
	return n;
}

uint64_t report_combos_total(const PeerStats *p, PeerComboKind k)
{
	return combo_sum(p, k, NULL) + p->combos_other[k];
}

ReportOutClass report_out_class(const PeerStats *p)
{
	ReportOutClass o = { .weakest = -1 };
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

/* mx_under - every relay host seen is the destination or a name under it,
 * so a certificate that matched the MX name also matches "nexthop,
 * dot-nexthop" (smtp_tls_secure_cert_match). */
static bool mx_under(const PeerStats *p)
{
	size_t host_len;
	const char *key = peers_key_name(p->key, &host_len);
	size_t kl = strlen(key);
	if (p->n_examples == 0 || p->more_examples)
		return false;
	for (unsigned i = 0; i < p->n_examples; i++) {
		const char *h = p->examples[i];
		size_t hl = strlen(h);
		if (strcmp(h, key) && !(hl > kl + 1 && h[hl - kl - 1] == '.' && !strcmp(h + hl - kl, key)))
			return false;
	}
	return true;
}

const char *report_policy(const PeerStats *p, Buf *ev)
{
	ReportOutClass o = report_out_class(p);
	uint64_t sent_tls = o.sent - p->n[peers_out_cell(TRUST_NONE, DELIVERY_SENT)];
	uint64_t verified = 0, dane = 0;
	for (unsigned s = 0; s < _DELIVERY_MAX; s++)
		verified += p->n[peers_out_cell(TRUST_VERIFIED, (DeliveryStatus)s)];
	for (unsigned i = 0; i < p->n_combos; i++)
		if (p->combos[i].kind == COMBO_TLS && !strcmp(p->combos[i].b, "dane"))
			dane += p->combos[i].n;
	if (o.plain > 0 || sent_tls == 0 || !strcmp(p->key, "unknown"))
		return NULL;
	if (dane == o.tls) {
		buf_printf(ev, "all %llu TLS deliveries DANE-verified (tls=dane)", (unsigned long long)o.tls);
		return "dane";
	}
	if (verified == o.tls && mx_under(p)) {
		buf_printf(ev, "all %llu TLS deliveries Verified; every MX host is under the domain",
			   (unsigned long long)o.tls);
		return "secure";
	}
	if (verified == o.tls) {
		buf_printf(ev, "all %llu TLS deliveries Verified (Postfix logs that only under a verify, secure, "
			   "fingerprint or dane policy: keep a fingerprint entry you have)", (unsigned long long)o.tls);
		return "verify";
	}
	static const char *const why[_TRUST_MAX] = {
		[TRUST_ANONYMOUS] = "no certificate", [TRUST_UNTRUSTED] = "certificate not trusted",
		[TRUST_TRUSTED] = "CA-signed, name not checked at this level",
	};
	buf_printf(ev, "TLS on every connection; weakest trust %s (%s)", trust_name((Trust)o.weakest),
		   why[o.weakest] ? why[o.weakest] : "");
	return "encrypt";
}

/*
 * Ranking: peers with a positive key, by key descending, then by name.
 */
int report_ranked_cmp(const void *a, const void *b)
{
	const ReportRanked *x = a, *y = b;
	if (x->key != y->key)
		return x->key > y->key ? -1 : 1;
	return strcmp(x->p->key, y->p->key);
}

int report_rank(ReportModel *m, const PeerStats *v, size_t n, uint64_t (*key)(const PeerStats *), ReportRanking *ret)
{
	ReportRanked *r = malloc((n ? n : 1) * sizeof(*r));
	size_t k = 0;
	if (!r) {
		*ret = (ReportRanking){ 0 };
		if (!m->err)
			m->err = -ENOMEM;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t x = key(&v[i]);
		if (x > 0)
			r[k++] = (ReportRanked){ &v[i], x };
	}
	qsort(r, k, sizeof(*r), report_ranked_cmp);
	*ret = (ReportRanking){ r, k };
	return 0;
}

static uint64_t key_plain_mail(const PeerStats *p) { return p->n[peers_in_cell(ENC_PLAINTEXT, true)]; }
static uint64_t key_failed(const PeerStats *p) { return report_in_sessions(p, ENC_STARTTLS_FAILED); }
static uint64_t key_total(const PeerStats *p) { return p->total; }


static uint64_t key_always_tls(const PeerStats *p)
{
	ReportOutClass o = report_out_class(p);
	return o.plain == 0 ? o.tls : 0;
}

static uint64_t key_never_tls(const PeerStats *p)
{
	ReportOutClass o = report_out_class(p);
	return o.tls == 0 ? o.plain : 0;
}

static uint64_t key_mixed(const PeerStats *p)
{
	ReportOutClass o = report_out_class(p);
	return o.tls > 0 && o.plain > 0 ? o.plain : 0;
}

static int model_rank_all(ReportModel *m)
{
	static const struct {
		PeerDirection dir;
		uint64_t (*key)(const PeerStats *);
	} lists[_REPORT_LIST_MAX] = {
		[REPORT_LIST_PLAIN_MAIL] = { PEER_INBOUND, key_plain_mail },
		[REPORT_LIST_LEGACY] = { PEER_INBOUND, report_legacy_sessions },
		[REPORT_LIST_FAILED] = { PEER_INBOUND, key_failed },
		[REPORT_LIST_UNKNOWN] = { PEER_UNKNOWN_ADDR, key_total },
		[REPORT_LIST_ALWAYS_TLS] = { PEER_DESTINATION, key_always_tls },
		[REPORT_LIST_NEVER_TLS] = { PEER_DESTINATION, key_never_tls },
		[REPORT_LIST_MIXED] = { PEER_DESTINATION, key_mixed },
	};
	for (unsigned i = 0; i < _REPORT_LIST_MAX; i++) {
		const PeerStats *v = lists[i].dir == PEER_INBOUND ? m->in : lists[i].dir == PEER_DESTINATION ? m->dst : m->unk;
		size_t n = lists[i].dir == PEER_INBOUND ? m->n_in : lists[i].dir == PEER_DESTINATION ? m->n_dst : m->n_unk;
		int r = report_rank(m, v, n, lists[i].key, &m->list[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Verdicts and the window line.
 */
/* verdict_thin - why a zero is not a green light when the data is thin. */
static void verdict_thin(ReportModel *m, Buf *b, uint64_t refused, uint64_t mail)
{
	char span[48];
	if (refused > 0 || (mail >= REPORT_VERDICT_MIN_MAIL && m->covered_usec >= REPORT_VERDICT_MIN_USEC))
		return;
	report_fmt_span(span, sizeof(span), m->covered_usec);
	buf_printf(b, "; too little data to call it safe (%llu mail session%s in %s of log; want %d and a day)",
		   (unsigned long long)mail, mail == 1 ? "" : "s", span, REPORT_VERDICT_MIN_MAIL);
}

static char *verdict_steal(ReportModel *m, Buf *b)
{
	if (buf_error(b) && !m->err)
		m->err = buf_error(b);
	char *s = buf_steal(b, NULL);
	buf_deinit(b);
	return s;
}

/* verdict_text - the sentence, the peers that would be refused, and why a
 * zero is not a green light when the data is thin. */
static void verdict_text(ReportModel *m, ReportVerdict *v, const ReportRanked *who, size_t n_who)
{
	char pct[32];
	Buf b = BUF_NULL;
	report_fmt_pct(pct, sizeof(pct), v->refused, v->mail);
	buf_printf(&b, "enforcing TLS on syslog_name %s would have refused %llu mail session%s from %llu peer%s (%s of mail)",
		   v->syslog, (unsigned long long)v->refused, v->refused == 1 ? "" : "s", (unsigned long long)v->peers,
		   v->peers == 1 ? "" : "s", pct);
	if (n_who) {
		buf_puts(&b, ": ");
		report_names(&b, who, n_who);
	}
	verdict_thin(m, &b, v->refused, v->mail);
	v->text = verdict_steal(m, &b);
}

/* model_verdicts - one verdict per syslog_name that received mail in the
 * window: a listener without mail has nothing to refuse or allow. */
static void model_verdicts(ReportModel *m)
{
	m->verdict = calloc(m->T.n_syslog ? m->T.n_syslog : 1, sizeof(*m->verdict));
	ReportRanked *who = malloc((m->n_in ? m->n_in : 1) * sizeof(*who));
	if (!m->verdict || !who) {
		free(who);
		m->err = -ENOMEM;
		return;
	}
	for (unsigned i = 0; i < m->T.n_syslog; i++) {
		const PeersSyslogTotals *s = &m->T.syslog[i];
		ReportVerdict v = { .syslog = s->name, .refused = s->in[peers_in_cell(ENC_PLAINTEXT, true)] };
		for (unsigned e = 0; e < _ENC_MAX; e++)
			v.mail += s->in[peers_in_cell((Encryption)e, true)];
		if (v.mail == 0)
			continue;
		size_t n_who = 0;
		for (size_t k = 0; k < m->n_in; k++) {
			uint64_t x = combo_sum(&m->in[k], COMBO_PLAINMAIL, s->name);
			if (x > 0)
				who[n_who++] = (ReportRanked){ &m->in[k], x };
		}
		qsort(who, n_who, sizeof(*who), report_ranked_cmp);
		v.peers = n_who;
		v.ok = v.refused == 0 && v.mail >= REPORT_VERDICT_MIN_MAIL && m->covered_usec >= REPORT_VERDICT_MIN_USEC;
		verdict_text(m, &v, who, n_who);
		m->verdict[m->n_verdict++] = v;
	}
	free(who);
}

/*
 * Per MTA (--postfix.host-label): inbound peers are tracked as
 * "host/domain", so splitting each key at the first '/' gives every host's
 * sessions; the host table's fold is the host "other", one row like any.
 */
typedef struct HostPeer {
	const char *key;              /* "host/domain" */
	size_t hl;                    /* length of the host part */
	uint64_t mail, plain;
} HostPeer;

static int host_peer_cmp(const void *a, const void *b)
{
	const HostPeer *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->hl < y->hl ? x->hl : y->hl);
	return c ? c : x->hl != y->hl ? (x->hl < y->hl ? -1 : 1) : strcmp(x->key, y->key);
}

static int named_count_cmp(const void *a, const void *b)
{
	const ReportNamed *x = a, *y = b;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int named_name_cmp(const void *a, const void *b)
{
	return strcmp(((const ReportNamed *)a)->name, ((const ReportNamed *)b)->name);
}

/* model_by_host - a '/' is in no host or domain name: any key with one
 * means the peers are tracked per host. */
static bool model_by_host(const ReportModel *m)
{
	const PeerStats *v[] = { m->in, m->out, m->dst };
	size_t n[] = { m->n_in, m->n_out, m->n_dst };
	for (unsigned d = 0; d < ELEMENTSOF(v); d++)
		for (size_t i = 0; i < n[d]; i++)
			if (strchr(v[d][i].key, '/'))
				return true;
	return false;
}

static void host_text(ReportModel *m, ReportHost *h)
{
	char pct[32];
	Buf b = BUF_NULL;
	report_fmt_pct(pct, sizeof(pct), h->plain, h->mail);
	if (h->name)
		buf_printf(&b, "enforcing TLS on %s", h->name);
	else
		buf_printf(&b, "on all %zu host%s, enforcing TLS", m->n_host, m->n_host == 1 ? "" : "s");
	buf_printf(&b, " would have refused %llu mail session%s from %zu peer%s (%s of mail)", (unsigned long long)h->plain,
		   h->plain == 1 ? "" : "s", h->n_who, h->n_who == 1 ? "" : "s", pct);
	for (size_t i = 0; i < h->n_who && i < REPORT_NAMES_MAX; i++)
		buf_printf(&b, "%s%s (%llu)", i ? ", " : ": ", h->who[i].name, (unsigned long long)h->who[i].n);
	if (h->n_who > REPORT_NAMES_MAX)
		buf_printf(&b, " +%zu more", h->n_who - REPORT_NAMES_MAX);
	verdict_thin(m, &b, h->plain, h->mail);
	h->text = verdict_steal(m, &b);
}

/* fleet_who - the peers of every host, summed by domain. */
static void fleet_who(ReportModel *m)
{
	ReportHost *f = &m->fleet;
	size_t n = 0, k = 0;
	for (size_t i = 0; i < m->n_host; i++)
		n += m->host[i].n_who;
	f->who = malloc((n ? n : 1) * sizeof(*f->who));
	if (!f->who) {
		m->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < m->n_host; i++)
		for (size_t j = 0; j < m->host[i].n_who; j++)
			f->who[k++] = m->host[i].who[j];
	qsort(f->who, n, sizeof(*f->who), named_name_cmp);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (k && !strcmp(f->who[k - 1].name, f->who[i].name))
			f->who[k - 1].n += f->who[i].n;
		else
			f->who[k++] = f->who[i];
	qsort(f->who, k, sizeof(*f->who), named_count_cmp);
	f->n_who = k;
}

static void model_hosts(ReportModel *m)
{
	m->by_host = model_by_host(m);
	if (!m->by_host)
		return;
	HostPeer *v = malloc((m->n_in ? m->n_in : 1) * sizeof(*v));
	m->host = calloc(m->n_in ? m->n_in : 1, sizeof(*m->host));
	if (!v || !m->host) {
		free(v);
		m->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < m->n_in; i++) {
		const char *k = m->in[i].key, *sl = strchr(k, '/');
		v[i] = (HostPeer){ k, sl ? (size_t)(sl - k) : 0, report_in_mail(&m->in[i]),
				   m->in[i].n[peers_in_cell(ENC_PLAINTEXT, true)] };
	}
	qsort(v, m->n_in, sizeof(*v), host_peer_cmp);
	for (size_t i = 0, j; i < m->n_in && !m->err; i = j) {
		ReportHost *h = &m->host[m->n_host++];
		/* a key without a host (none is expected) is counted as "other" */
		h->name = v[i].hl ? strndup(v[i].key, v[i].hl) : strdup("other");
		for (j = i; j < m->n_in && v[j].hl == v[i].hl && !memcmp(v[j].key, v[i].key, v[i].hl); j++)
			;
		h->who = malloc((j - i) * sizeof(*h->who));
		if (!h->name || !h->who) {
			m->err = -ENOMEM;
			break;
		}
		for (size_t k = i; k < j; k++) {
			h->mail += v[k].mail;
			h->plain += v[k].plain;
			if (v[k].plain)
				h->who[h->n_who++] = (ReportNamed){ v[k].key + v[k].hl + !!v[k].hl, v[k].plain };
		}
		qsort(h->who, h->n_who, sizeof(*h->who), named_count_cmp);
		m->fleet.mail += h->mail;
		m->fleet.plain += h->plain;
		host_text(m, h);
	}
	free(v);
	if (!m->err)
		fleet_who(m);
	if (!m->err)
		host_text(m, &m->fleet);
}

static void model_window(ReportModel *m)
{
	char from[64], to[64], dur[32], data[64];
	report_fmt_time(from, sizeof(from), m->T.from_usec, false);
	report_fmt_time(to, sizeof(to), m->T.to_usec, false);
	fmt_duration(dur, sizeof(dur), m->T.window_usec);
	report_fmt_time(data, sizeof(data), m->T.data_from_usec, false);
	if (m->T.data_from_usec && m->T.to_usec > m->T.data_from_usec)
		m->covered_usec = m->T.to_usec - m->T.data_from_usec;
	char span[48], window[48];
	report_fmt_span(span, sizeof(span), m->covered_usec);
	int64_t ws = m->T.window_usec / 1000000;
	snprintf(window, sizeof(window), ws % 86400 == 0 ? "%lld-day" : ws % 3600 == 0 ? "%lld-hour" : "%lld-second",
		 (long long)(ws % 86400 == 0 ? ws / 86400 : ws % 3600 == 0 ? ws / 3600 : ws));
	m->window = report_printf(m, "%s to %s (window %s, log time; first events in the window: %s; %s of log behind a %s window)",
				  from, to, dur, m->T.data_from_usec ? data : "none", m->T.data_from_usec ? span : "no",
				  window);
}

/* model_banner - inbound TLS sessions without a TLS summary
 * (smtpd_tls_loglevel = 0, Postfix's default) have protocol "unknown",
 * which the peer tables fold into "other": say so where the mix is shown,
 * since a mix of mostly "other" answers nothing about TLS 1.0/1.1. */
static void model_banner(ReportModel *m)
{
	uint64_t unknown = m->T.proto_in[PEERS_PROTO_MAX - 1], all = 0;
	for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
		all += m->T.proto_in[i];
	if (!unknown)
		return;
	m->banner = report_printf(m, "%llu of %llu inbound TLS sessions (%.1f %%) have an unknown protocol, counted as "
				     "\"other\": no TLS summary was logged (smtpd_tls_loglevel = 0, Postfix's default). "
				     "Set smtpd_tls_loglevel = 1 and smtp_tls_loglevel = 1 in main.cf for a protocol mix "
				     "that does not rest on unknowns.",
				  (unsigned long long)unknown, (unsigned long long)all, 100.0 * report_share(unknown, all));
}

/* Two directions' lists, built by list_pair() in a thread of its own or
 * in the caller's. */
typedef struct ListPair {
	Peers *p;
	int64_t now_usec, window_usec;
	PeerDirection dir[2];
	PeerStats **v[2];
	size_t *n[2];
	int r;
} ListPair;

static void *list_pair(void *userdata)
{
	ListPair *l = userdata;
	l->r = 0;
	for (unsigned i = 0; i < 2 && l->r >= 0; i++)
		l->r = peers_list(l->p, l->dir[i], l->now_usec, l->window_usec, l->v[i], l->n[i]);
	return NULL;
}

/* model_lists - the four peer lists, two in a second thread: a list reads
 * every tracked peer's slots and combinations and sorts them, 40 ms of one
 * CPU on the 1 M-line benchmark log, and the reads are independent
 * (peers.h: THREADS). The destinations, whose grouping uses the domain
 * cache, stay in this thread. */
static int model_lists(ReportModel *m, Peers *p, int64_t now_usec, int64_t window_usec)
{
	ListPair a = { p, now_usec, window_usec, { PEER_INBOUND, PEER_UNKNOWN_ADDR }, { &m->in, &m->unk },
		       { &m->n_in, &m->n_unk }, 0 };
	ListPair b = { p, now_usec, window_usec, { PEER_DESTINATION, PEER_OUTBOUND }, { &m->dst, &m->out },
		       { &m->n_dst, &m->n_out }, 0 };
	pthread_t th;
	bool threaded = pthread_create(&th, NULL, list_pair, &a) == 0;
	if (!threaded)
		list_pair(&a);
	list_pair(&b);
	if (threaded)
		pthread_join(th, NULL);
	return a.r < 0 ? a.r : b.r;
}

int report_model_build(ReportModel *m, Peers *p, int64_t now_usec, int64_t window_usec)
{
	*m = (ReportModel){ 0 };
	int r = peers_get_totals(p, now_usec, window_usec, &m->T);
	if (r >= 0)
		r = model_lists(m, p, now_usec, window_usec);
	if (r >= 0)
		r = model_rank_all(m);
	if (r < 0)
		return r;
	model_window(m); /* before the verdicts: they need covered_usec */
	while (m->first_day < m->T.n_days && m->T.day_sessions[m->first_day] == 0)
		m->first_day++;
	model_verdicts(m);
	model_hosts(m);
	model_banner(m);
	report_build_sections(m);
	return m->err;
}

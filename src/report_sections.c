/*
 * report_sections.c - one builder per report section.
 *
 * DESCRIPTION
 *	Each builder appends one section to the model: its id (the HTML
 *	anchor), title, typed columns and rows. The order of the table at the
 *	end is the order of the report. Peer tables take their rows from the
 *	model's ranked lists, which the JSON writer lists in full.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

#define T_ REPORT_COL_TEXT
#define N_ REPORT_COL_COUNT
#define P_ REPORT_COL_PERCENT
#define W_ REPORT_COL_TIME

/* text cell from a Buf that the caller is done with */
static void cell_buf(ReportModel *m, ReportCell *c, Buf *b)
{
	if (buf_error(b) && !m->err)
		m->err = buf_error(b);
	report_cell_text(m, c, buf_error(b) ? "" : buf_cstr(b));
	buf_deinit(b);
}

/* example hosts (inbound), or a destination's relay (MX) hosts, "a, b, c, ..." */
static void cell_examples(ReportModel *m, ReportCell *c, const PeerStats *p)
{
	Buf b = BUF_NULL;
	for (unsigned i = 0; i < p->n_examples; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", p->examples[i]);
	if (p->more_examples)
		buf_puts(&b, ", ...");
	cell_buf(m, c, &b);
}

#define COMBOS_CELL_BYTES 300  /* a cell lists combinations up to about this; the rest is "+N other" */

/* combinations of one kind, "a b x3, c x1 +N other", by count. total is
 * what the row counts: whatever the list does not show is "+N other", so
 * the cell always adds up to it. */
static void cell_combos(ReportModel *m, ReportCell *c, const PeerStats *p, PeerComboKind k, bool legacy_only,
			uint64_t total)
{
	Buf b = BUF_NULL;
	uint64_t shown = 0;
	for (unsigned i = 0; i < p->n_combos && b.len < COMBOS_CELL_BYTES; i++) {
		const PeerComboCount *cc = &p->combos[i];
		if (cc->kind != k || (legacy_only && !report_legacy_proto(cc->a)))
			continue;
		buf_printf(&b, "%s%s%s%s x%llu", b.len ? ", " : "", cc->a, cc->b[0] ? " " : "", cc->b,
			   (unsigned long long)cc->n);
		shown += cc->n;
	}
	if (total > shown)
		buf_printf(&b, "%s+%llu other", b.len ? " " : "", (unsigned long long)(total - shown));
	cell_buf(m, c, &b);
}

/* reconcile - say so when a peer list does not add up to the totals
 * (peers evicted from tracking): never an unexplained "none". */
static void reconcile(ReportModel *m, ReportSection *s, const ReportRanking *r, uint64_t total, const char *what)
{
	uint64_t listed = 0;
	for (size_t i = 0; i < r->n; i++)
		listed += r->v[i].key;
	if (!s || listed >= total)
		return;
	s->intro = report_printf(m, "%llu %s in the totals; the peers listed account for %llu, the other %llu come from "
				    "peers no longer tracked (see Tracking limits).",
				 (unsigned long long)total, what, (unsigned long long)listed,
				 (unsigned long long)(total - listed));
	if (r->n == 0)
		s->empty = "no tracked peer; see the note above";
}

static void sec_inbound(ReportModel *m)
{
	static const ReportColumn cols[] = { { "syslog_name", T_ }, { "encryption", T_ }, { "sessions", N_ },
					     { "share", P_ }, { "mail sessions", N_ }, { "share", P_ } };
	const PeersTotals *T = &m->T;
	ReportSection *s = report_section_new(m, "inbound", "Inbound sessions by encryption", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	/* one block per syslog_name, then "(all)" unless there is only one */
	for (unsigned i = 0; i <= T->n_syslog; i++) {
		const uint64_t *in = i < T->n_syslog ? T->syslog[i].in : T->in;
		uint64_t all, mail;
		report_enc_sums(in, &all, &mail);
		if (i == T->n_syslog && T->n_syslog == 1)
			break;
		for (unsigned e = 0; e < _ENC_MAX; e++) {
			ReportCell *c = report_row(m, s);
			if (!c)
				continue;
			uint64_t me = in[peers_in_cell((Encryption)e, true)];
			uint64_t se = in[peers_in_cell((Encryption)e, false)] + me;
			report_cell_text(m, &c[0], i < T->n_syslog ? T->syslog[i].name : "(all)");
			report_cell_text(m, &c[1], encryption_name((Encryption)e));
			c[2].count = se;
			c[3].pct.part = se, c[3].pct.whole = all;
			c[4].count = me;
			c[5].pct.part = me, c[5].pct.whole = mail;
		}
	}
	uint64_t all, mail;
	report_enc_sums(T->in, &all, &mail);
	char p1[32], p2[32];
	report_fmt_pct(p1, sizeof(p1), T->in[peers_in_cell(ENC_PLAINTEXT, false)] + T->in[peers_in_cell(ENC_PLAINTEXT, true)], all);
	report_fmt_pct(p2, sizeof(p2), T->in[peers_in_cell(ENC_PLAINTEXT, true)], mail);
	s->intro = report_printf(m, "Plaintext: %s of %llu sessions, %s of %llu mail sessions.", p1,
				 (unsigned long long)all, p2, (unsigned long long)mail);
}

/* sec_hosts - the verdict per MTA (--postfix.host-label only): enforcement
 * is configured per MTA, so this is the actionable answer; the fleet line
 * sums it. */
static void sec_hosts(ReportModel *m)
{
	static const ReportColumn cols[] = { { "host", T_ }, { "mail sessions", N_ }, { "plaintext mail", N_ },
					     { "share", P_ }, { "verdict", T_ } };
	if (!m->by_host)
		return;
	ReportSection *s = report_section_new(m, "hosts", "Per MTA", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	s->empty = "no inbound peer tracked in the window";
	for (size_t i = 0; i < m->n_host; i++) {
		const ReportHost *h = &m->host[i];
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], h->name);
		c[1].count = h->mail;
		c[2].count = h->plain;
		c[3].pct.part = h->plain, c[3].pct.whole = h->mail;
		report_cell_text(m, &c[4], h->text);
	}
	s->intro = report_strdup(m, m->fleet.text);
}

static void sec_days(ReportModel *m)
{
	static const ReportColumn cols[] = { { "day (UTC)", T_ }, { "sessions", N_ }, { "plaintext", N_ },
					     { "share", P_ }, { "mail sessions", N_ }, { "plaintext mail", N_ },
					     { "share", P_ } };
	const PeersTotals *T = &m->T;
	ReportSection *s = report_section_new(m, "days", "Plaintext share per day", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	s->chart = REPORT_CHART_DAYS;
	s->empty = "no sessions in the window";
	for (unsigned d = m->first_day; d < T->n_days; d++) {
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		char day[32];
		report_fmt_day(day, sizeof(day), T->day_start_usec[d]);
		report_cell_text(m, &c[0], day);
		c[1].count = T->day_sessions[d];
		c[2].count = T->day_plain[d];
		c[3].pct.part = T->day_plain[d], c[3].pct.whole = T->day_sessions[d];
		c[4].count = T->day_mail[d];
		c[5].count = T->day_plain_mail[d];
		c[6].pct.part = T->day_plain_mail[d], c[6].pct.whole = T->day_mail[d];
	}
}

static void sec_protocols(ReportModel *m)
{
	static const ReportColumn cols[] = { { "protocol", T_ }, { "inbound sessions", N_ }, { "share", P_ },
					     { "outbound deliveries", N_ }, { "share", P_ } };
	const PeersTotals *T = &m->T;
	ReportSection *s = report_section_new(m, "protocols", "TLS protocol mix", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	s->chart = REPORT_CHART_PROTOCOLS;
	s->empty = "no TLS sessions in the window";
	if (m->banner)
		s->intro = report_strdup(m, m->banner);
	uint64_t ti = 0, to = 0;
	for (unsigned i = 0; i < PEERS_PROTO_MAX; i++) {
		ti += T->proto_in[i];
		to += T->proto_out[i];
	}
	/* newest protocol first */
	for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
		if (!T->proto_in[i] && !T->proto_out[i])
			continue;
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], T->proto_names[i]);
		c[1].count = T->proto_in[i];
		c[2].pct.part = T->proto_in[i], c[2].pct.whole = ti;
		c[3].count = T->proto_out[i];
		c[4].pct.part = T->proto_out[i], c[4].pct.whole = to;
	}
}

/* sec_protocol_floor - what requiring TLS >= 1.2 would have affected, per
 * side, with the peers named. Counts are TLS sessions (deliveries) below
 * TLS 1.2, exact per peer. */
static void sec_protocol_floor(ReportModel *m)
{
	static const ReportColumn cols[] = { { "side", T_ }, { "setting", T_ }, { "sessions affected", N_ },
					     { "mail sessions affected", N_ }, { "peers", N_ }, { "who (sessions)", T_ } };
	ReportSection *s = report_section_new(m, "protocol_floor", "What if: requiring TLS 1.2 or newer", cols,
					      ELEMENTSOF(cols));
	if (!s)
		return;
	s->intro = report_printf(m, "Sessions (outbound: deliveries) that negotiated SSL/TLS 1.0/1.1 and would have failed "
				    "the handshake with the setting, and how many of them carried mail (every delivery "
				    "does); a peer is the registrable domain of the host (the name a registrar sells, "
				    "such as example.co.uk).");
	ReportRanking out = { 0 };
	report_rank(m, m->out, m->n_out, report_legacy_sessions, &out);
	for (unsigned side = 0; side < 2; side++) {
		const uint64_t *proto = side == 0 ? m->T.proto_in : m->T.proto_out;
		const ReportRanking *r = side == 0 ? &m->list[REPORT_LIST_LEGACY] : &out;
		uint64_t n = 0;
		for (unsigned i = 0; i < PEERS_PROTO_TLS12; i++)
			n += proto[i];
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], side == 0 ? "inbound" : "outbound");
		report_cell_text(m, &c[1], side == 0 ? "smtpd_tls_protocols = >=TLSv1.2" : "smtp_tls_protocols = >=TLSv1.2");
		c[2].count = n;
		c[3].count = side == 0 ? m->T.legacy_mail_in : n;
		c[4].count = r->n;
		Buf b = BUF_NULL;
		report_names(&b, r->v, r->n);
		cell_buf(m, &c[5], &b);
	}
	free(out.v);
}

/* combo_section - inbound peers of a ranked list, one row each: peer, the
 * key's count, the peer's combinations of one kind, last seen. */
static void combo_section(ReportModel *m, ReportSection *s, ReportList list, PeerComboKind kind, bool legacy_only)
{
	const ReportRanking *r = &m->list[list];
	for (size_t i = 0; s && i < r->n; i++) {
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], r->v[i].p->key);
		c[1].count = r->v[i].key;
		cell_combos(m, &c[2], r->v[i].p, kind, legacy_only, r->v[i].key);
		c[3].usec = r->v[i].p->last_seen_usec;
	}
}

static void sec_legacy(ReportModel *m)
{
	static const ReportColumn cols[] = { { "peer", T_ }, { "legacy sessions", N_ },
					     { "protocols and ciphers", T_ }, { "last seen", W_ } };
	ReportSection *s = report_section_new(m, "legacy", "Peers still using SSL/TLS 1.0/1.1 (inbound)", cols,
					      ELEMENTSOF(cols));
	combo_section(m, s, REPORT_LIST_LEGACY, COMBO_TLS, true);
	uint64_t total = 0;
	for (unsigned i = 0; i < PEERS_PROTO_TLS12; i++)
		total += m->T.proto_in[i];
	reconcile(m, s, &m->list[REPORT_LIST_LEGACY], total, "SSL/TLS 1.0/1.1 sessions");
}

static void sec_plaintext(ReportModel *m)
{
	static const ReportColumn cols[] = { { "peer", T_ }, { "plaintext mail sessions", N_ }, { "of their mail", P_ },
					     { "plaintext share of sessions", P_ }, { "last plaintext", W_ },
					     { "example hosts", T_ } };
	ReportSection *s = report_section_new(m, "plaintext", "Peers that sent mail over plaintext", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	s->empty = "none: every peer that sent mail used TLS";
	const ReportRanking *r = &m->list[REPORT_LIST_PLAIN_MAIL];
	reconcile(m, s, r, m->T.in[peers_in_cell(ENC_PLAINTEXT, true)], "plaintext mail sessions");
	for (size_t i = 0; i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], p->key);
		c[1].count = r->v[i].key;
		c[2].pct.part = r->v[i].key, c[2].pct.whole = report_in_mail(p);
		c[3].pct.part = report_in_sessions(p, ENC_PLAINTEXT), c[3].pct.whole = p->total;
		c[4].usec = p->last_plaintext_usec;
		cell_examples(m, &c[5], p);
	}
}

static void sec_failures(ReportModel *m)
{
	static const ReportColumn cols[] = { { "peer", T_ }, { "failed sessions", N_ }, { "reasons", T_ },
					     { "last seen", W_ } };
	ReportSection *s = report_section_new(m, "failures", "Peers with STARTTLS failures", cols, ELEMENTSOF(cols));
	combo_section(m, s, REPORT_LIST_FAILED, COMBO_FAILURE, false);
	reconcile(m, s, &m->list[REPORT_LIST_FAILED],
		  m->T.in[peers_in_cell(ENC_STARTTLS_FAILED, false)] + m->T.in[peers_in_cell(ENC_STARTTLS_FAILED, true)],
		  "STARTTLS failures");
}

static void sec_unknown_addresses(ReportModel *m)
{
	static const ReportColumn cols[] = { { "address", T_ }, { "sessions", N_ }, { "plaintext mail", N_ },
					     { "starttls_failed", N_ }, { "last seen", W_ } };
	ReportSection *s = report_section_new(m, "unknown_addresses",
					      "Clients without a hostname (peer \"unknown\"): top addresses", cols,
					      ELEMENTSOF(cols));
	const ReportRanking *r = &m->list[REPORT_LIST_UNKNOWN];
	for (size_t i = 0; s && i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], p->key);
		c[1].count = p->total;
		c[2].count = p->n[peers_in_cell(ENC_PLAINTEXT, true)];
		c[3].count = report_in_sessions(p, ENC_STARTTLS_FAILED);
		c[4].usec = p->last_seen_usec;
	}
}

typedef struct Prefix {
	char name[64];
	uint64_t sessions, plain, addrs;
} Prefix;

/* prefix_of - "192.0.2.0/24", "2001:db8:1::/48" or "(not an address)" */
static void prefix_of(const char *addr, char *name, size_t n)
{
	unsigned char ab[16];
	char txt[INET6_ADDRSTRLEN];
	if (inet_pton(AF_INET, addr, ab) == 1) {
		ab[3] = 0;
		inet_ntop(AF_INET, ab, txt, sizeof(txt));
		snprintf(name, n, "%s/24", txt);
	} else if (inet_pton(AF_INET6, addr, ab) == 1) {
		memset(ab + 6, 0, 10);
		inet_ntop(AF_INET6, ab, txt, sizeof(txt));
		snprintf(name, n, "%s/48", txt);
	} else
		snprintf(name, n, "(not an address)");
}

static int prefix_cmp(const void *a, const void *b)
{
	const Prefix *x = a, *y = b;
	if (x->sessions != y->sessions)
		return x->sessions > y->sessions ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void sec_unknown_prefixes(ReportModel *m)
{
	static const ReportColumn cols[] = { { "prefix", T_ }, { "sessions", N_ }, { "plaintext mail", N_ },
					     { "addresses", N_ } };
	ReportSection *s = report_section_new(m, "unknown_prefixes", "Clients without a hostname: top prefixes (/24, /48)",
					      cols, ELEMENTSOF(cols));
	/* aggregate addresses into prefixes; n_unk is small (a bounded table) */
	Prefix *pf = calloc(m->n_unk ? m->n_unk : 1, sizeof(*pf));
	size_t np = 0;
	if (!pf && !m->err)
		m->err = -ENOMEM;
	for (size_t i = 0; pf && i < m->n_unk; i++) {
		const PeerStats *p = &m->unk[i];
		char name[64];
		prefix_of(p->key, name, sizeof(name));
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
	if (pf)
		qsort(pf, np, sizeof(*pf), prefix_cmp);
	for (size_t i = 0; s && i < np; i++) {
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], pf[i].name);
		c[1].count = pf[i].sessions;
		c[2].count = pf[i].plain;
		c[3].count = pf[i].addrs;
	}
	free(pf);
}

/* sec_outbound_totals - every delivery, the ones without a connection
 * included, so the figures match /metrics. */
static void sec_outbound_totals(ReportModel *m)
{
	static const ReportColumn cols[] = { { "trust", T_ }, { "deliveries", N_ }, { "sent", N_ }, { "deferred", N_ },
					     { "bounced", N_ } };
	const PeersTotals *T = &m->T;
	ReportSection *s = report_section_new(m, "outbound", "Outbound deliveries by TLS trust level", cols,
					      ELEMENTSOF(cols));
	if (!s)
		return;
	s->empty = "no deliveries in the window";
	uint64_t all = 0, by[_DELIVERY_MAX] = { 0 };
	for (unsigned t = 0; t < _TRUST_MAX; t++) {
		uint64_t row = 0;
		for (unsigned st = 0; st < _DELIVERY_MAX; st++) {
			row += T->out[peers_out_cell((Trust)t, (DeliveryStatus)st)];
			by[st] += T->out[peers_out_cell((Trust)t, (DeliveryStatus)st)];
		}
		all += row;
		ReportCell *c = row ? report_row(m, s) : NULL;
		if (!c)
			continue;
		report_cell_text(m, &c[0], trust_name((Trust)t));
		c[1].count = row;
		for (unsigned st = 0; st < _DELIVERY_MAX; st++)
			c[2 + st].count = T->out[peers_out_cell((Trust)t, (DeliveryStatus)st)];
	}
	if (all)
		s->intro = report_printf(m, "%llu deliveries: %llu sent, %llu deferred, %llu bounced; %llu of them without a "
					    "connection (relay=none, counted under \"none\").",
					 (unsigned long long)all, (unsigned long long)by[DELIVERY_SENT],
					 (unsigned long long)by[DELIVERY_DEFERRED], (unsigned long long)by[DELIVERY_BOUNCED],
					 (unsigned long long)T->out_noconn);
}

static void sec_always_tls(ReportModel *m)
{
	static const ReportColumn cols[] = { { "destination", T_ }, { "registrable domain", T_ }, { "TLS deliveries", N_ },
					     { "weakest trust", T_ }, { "protocols", T_ }, { "MX hosts", T_ },
					     { "last seen", W_ } };
	ReportSection *s = report_section_new(m, "always_tls", "Outbound: destinations that always negotiated TLS",
					      cols, ELEMENTSOF(cols));
	const ReportRanking *r = &m->list[REPORT_LIST_ALWAYS_TLS];
	for (size_t i = 0; s && i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		ReportOutClass o = report_out_class(p);
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], p->key);
		report_cell_text(m, &c[1], p->group);
		c[2].count = o.tls;
		report_cell_text(m, &c[3], trust_name((Trust)o.weakest));
		cell_combos(m, &c[4], p, COMBO_TLS, false, o.tls);
		cell_examples(m, &c[5], p);
		c[6].usec = p->last_seen_usec;
	}
}

/* group_cmp - by MTA (with --postfix.host-label: each has its own map), then
 * registrable domain, then destination: the view groups the policy-map keys
 * under the domain a registrar sells */
static int group_cmp(const void *a, const void *b)
{
	const PeerStats *x = *(const PeerStats *const *)a, *y = *(const PeerStats *const *)b;
	size_t xl, yl;
	const char *xn = peers_key_name(x->key, &xl), *yn = peers_key_name(y->key, &yl);
	int r = memcmp(x->key, y->key, MIN(xl, yl));
	if (!r && xl != yl)
		r = xl < yl ? -1 : 1;
	if (!r)
		r = strcmp(x->group, y->group);
	return r ? r : strcmp(xn, yn);
}

/* policy_candidates - the destinations report_policy() suggests a level
 * for, grouped; NULL on ENOMEM (m->err). *ret_n is their number. */
static const PeerStats **policy_candidates(ReportModel *m, size_t *ret_n)
{
	const PeerStats **v = malloc((m->n_dst ? m->n_dst : 1) * sizeof(*v));
	size_t n = 0;
	if (!v) {
		if (!m->err)
			m->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < m->n_dst; i++) {
		Buf ev = BUF_NULL;
		if (report_policy(&m->dst[i], &ev))
			v[n++] = &m->dst[i];
		buf_deinit(&ev);
	}
	qsort(v, n, sizeof(*v), group_cmp);
	*ret_n = n;
	return v;
}

static void sec_policy_candidates(ReportModel *m, const PeerStats **v, size_t n)
{
	static const ReportColumn cols[] = { { "registrable domain", T_ }, { "policy-map key", T_ }, { "sent", N_ },
					     { "deferred", N_ }, { "bounced", N_ }, { "weakest trust", T_ },
					     { "suggested", T_ }, { "evidence", T_ } };
	ReportSection *s = report_section_new(m, "policy_candidates", "Outbound: smtp_tls_policy_maps candidates", cols,
					      ELEMENTSOF(cols));
	if (!s)
		return;
	s->empty = "none: no destination had a TLS delivery sent and none without TLS";
	s->intro = report_printf(m,
		"One row per smtp_tls_policy_maps key: the next-hop domain, which is the recipient domain unless a "
		"relayhost or transport(5) next hop sends the mail elsewhere (then the key is that destination, "
		"e.g. [relay.example.net]:587). Listed: destinations with at least one TLS delivery sent and none "
		"without TLS. Suggested: dane when every TLS delivery was logged DANE-verified (tls=dane, Postfix "
		"3.11+); secure when every one was Verified and every MX host is the domain or under it (so the "
		"certificate matches nexthop, dot-nexthop); verify when every one was Verified; encrypt otherwise "
		"(Trusted means CA-signed but the name was not checked at the level in force).");
	for (size_t i = 0; i < n; i++) {
		const PeerStats *p = v[i];
		ReportOutClass o = report_out_class(p);
		Buf ev = BUF_NULL;
		const char *level = report_policy(p, &ev);
		ReportCell *c = report_row(m, s);
		if (!c) {
			buf_deinit(&ev);
			continue;
		}
		/* per MTA the group names the host ("mx1/example.com") and the
		 * key is what goes into that host's map */
		size_t hl;
		const char *name = peers_key_name(p->key, &hl);
		if (hl) {
			char *g = report_printf(m, "%.*s/%s", (int)hl, p->key, p->group);
			report_cell_text(m, &c[0], g);
			free(g);
		} else {
			report_cell_text(m, &c[0], p->group);
		}
		report_cell_text(m, &c[1], name);
		c[2].count = o.sent;
		c[3].count = o.deferred;
		c[4].count = o.bounced;
		report_cell_text(m, &c[5], trust_name((Trust)o.weakest));
		report_cell_text(m, &c[6], level);
		cell_buf(m, &c[7], &ev);
	}
}

/* policy_snippet - one smtp_tls_policy_maps line per candidate, every
 * one of them, grouped by registrable domain. */
static void policy_snippet(ReportModel *m, Buf *pol, const PeerStats **v, size_t n)
{
	char from[64], to[64];
	report_fmt_time(from, sizeof(from), m->T.from_usec, false);
	report_fmt_time(to, sizeof(to), m->T.to_usec, false);
	buf_printf(pol, "# smtp_tls_policy_maps: next-hop domains with TLS deliveries sent and none without TLS\n"
			"# between %s and %s; the level is what the logged deliveries support\n"
			"# (see the candidates table). Review, add to the map, then run postmap.\n", from, to);
	size_t width = 0, hl, prev_hl = 0;
	for (size_t i = 0; i < n; i++)
		width = MAX(width, strlen(peers_key_name(v[i]->key, &hl)));
	for (size_t i = 0; i < n; i++) {
		Buf ev = BUF_NULL;
		const char *level = report_policy(v[i], &ev);
		buf_deinit(&ev);
		const char *name = peers_key_name(v[i]->key, &hl);
		bool new_host = hl && (i == 0 || hl != prev_hl || memcmp(v[i]->key, v[i - 1]->key, hl));
		if (new_host)
			buf_printf(pol, "# ---- %.*s: this host's smtp_tls_policy_maps ----\n", (int)hl, v[i]->key);
		if (i == 0 || new_host || strcmp(v[i]->group, v[i - 1]->group))
			buf_printf(pol, "# %s\n", v[i]->group);
		buf_printf(pol, "%-*s %s\n", (int)width, name, level);
		prev_hl = hl;
	}
}

static void sec_policy(ReportModel *m)
{
	size_t n = 0;
	const PeerStats **v = policy_candidates(m, &n);
	if (!v)
		return;
	sec_policy_candidates(m, v, n);
	Buf pol = BUF_NULL;
	policy_snippet(m, &pol, v, n);
	free(v);
	if (buf_error(&pol) && !m->err)
		m->err = buf_error(&pol);
	m->policy = buf_steal(&pol, NULL);
	if (!m->policy)
		m->policy = report_strdup(m, "");
	ReportSection *s = report_section_new(m, "policy", "Outbound: smtp_tls_policy_maps snippet", NULL, 0);
	if (s)
		s->code = report_strdup(m, m->policy);
}

static void sec_never_tls(ReportModel *m)
{
	static const ReportColumn cols[] = { { "destination", T_ }, { "registrable domain", T_ },
					     { "deliveries without TLS", N_ }, { "sent", N_ }, { "deferred", N_ },
					     { "bounced", N_ }, { "MX hosts", T_ }, { "last seen", W_ } };
	ReportSection *s = report_section_new(m, "never_tls", "Outbound: destinations that never negotiated TLS",
					      cols, ELEMENTSOF(cols));
	const ReportRanking *r = &m->list[REPORT_LIST_NEVER_TLS];
	for (size_t i = 0; s && i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		ReportOutClass o = report_out_class(p);
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], p->key);
		report_cell_text(m, &c[1], p->group);
		c[2].count = o.plain;
		c[3].count = o.sent;
		c[4].count = o.deferred;
		c[5].count = o.bounced;
		cell_examples(m, &c[6], p);
		c[7].usec = p->last_seen_usec;
	}
}

static void sec_mixed(ReportModel *m)
{
	static const ReportColumn cols[] = { { "destination", T_ }, { "with TLS", N_ }, { "without TLS", N_ },
					     { "without a connection", N_ }, { "last without TLS", W_ } };
	ReportSection *s = report_section_new(m, "mixed_tls", "Outbound: destinations with and without TLS", cols,
					      ELEMENTSOF(cols));
	const ReportRanking *r = &m->list[REPORT_LIST_MIXED];
	for (size_t i = 0; s && i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		ReportOutClass o = report_out_class(p);
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], p->key);
		c[1].count = o.tls;
		c[2].count = o.plain;
		c[3].count = o.noconn;
		c[4].usec = p->last_plaintext_usec;
	}
}

static void sec_tracking(ReportModel *m)
{
	static const ReportColumn cols[] = { { "direction", T_ }, { "tracked", N_ }, { "evicted", N_ },
					     { "folded into \"other\"", N_ } };
	const PeersTotals *T = &m->T;
	ReportSection *s = report_section_new(m, "tracking", "Tracking limits", cols, ELEMENTSOF(cols));
	if (!s)
		return;
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
		ReportCell *c = report_row(m, s);
		if (!c)
			continue;
		report_cell_text(m, &c[0], peer_direction_name((PeerDirection)d));
		c[1].count = T->tracked[d];
		c[2].count = T->evicted[d];
		c[3].count = T->folded[d];
	}
	s->intro = report_printf(m,
				 "At most %zu peers per direction are tracked and %zu labelled. Evicted peers still count in the "
				 "totals and the verdict's session counts, but not in the per-peer lists. \"Folded into other\": "
				 "events of peers without their own peer_domain label in /metrics, counted under "
				 "peer_domain=\"other\" there (the report still lists them). %llu event(s) arrived "
				 "older than the window.",
				 T->max_tracked, T->max_labelled, (unsigned long long)T->late_events);
}

/* the report's sections, in order */
static void (*const builders[])(ReportModel *m) = {
	sec_inbound, sec_hosts, sec_days, sec_protocols, sec_protocol_floor,                      /* totals, what-if */
	sec_legacy, sec_plaintext, sec_failures, sec_unknown_addresses, sec_unknown_prefixes, /* inbound peers */
	sec_outbound_totals, sec_always_tls, sec_policy, sec_never_tls, sec_mixed,     /* outbound */
	sec_tracking,
};

void report_build_sections(ReportModel *m)
{
	for (size_t i = 0; i < ELEMENTSOF(builders); i++)
		builders[i](m);
}

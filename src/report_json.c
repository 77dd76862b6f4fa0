/*
 * report_json.c - the report as JSON (schema "postfix_tls_exporter.report/1",
 * described in report.h and tests/peers/report.schema.json).
 *
 * DESCRIPTION
 *	Written from the same model as the other formats: the totals, the
 *	verdicts, the policy snippet and the ranked peer lists, but every peer
 *	of a list rather than the first REPORT_ROWS_MAX, and numbers as
 *	numbers (shares in [0,1] with 4 decimals, times RFC 3339 or null).
 * SECURITY
 *	Strings are escaped with \uXXXX for control bytes, non-ASCII and
 *	<>& (so the document can be embedded in HTML).
 */
#include <string.h>

#include "report_int.h"

static void esc_json_n(Buf *b, const char *s, size_t n)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&')
			buf_printf(b, "\\u%04x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_putc(b, '"');
}

static void esc_json(Buf *b, const char *s)
{
	esc_json_n(b, s, strlen(s));
}

static void j_time(Buf *b, int64_t usec)
{
	char t[64];
	if (usec <= 0) {
		buf_puts(b, "null");
		return;
	}
	report_fmt_time(t, sizeof(t), usec, true);
	buf_printf(b, "\"%s\"", t);
}

static void j_share(Buf *b, uint64_t part, uint64_t whole)
{
	buf_printf(b, "%.4f", report_share(part, whole));
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

static void j_combos(Buf *b, const PeerStats *p, PeerComboKind k)
{
	buf_putc(b, '[');
	bool first = true;
	for (unsigned i = 0; i < p->n_combos; i++) {
		const PeerComboCount *c = &p->combos[i];
		if (c->kind != k)
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

/* j_key - "field":NAME, preceded by "host":HOST when the key is per MTA
 * (--postfix.host-label), so that the name is a domain or address alone.
 * spaced: the ": " and ", " style of the one-line lists. */
static void j_key(Buf *b, const char *field, const char *key, bool spaced)
{
	size_t hl;
	const char *name = peers_key_name(key, &hl);
	if (hl) {
		buf_puts(b, spaced ? "\"host\": " : "\"host\":");
		esc_json_n(b, key, hl);
		buf_puts(b, spaced ? ", " : ",");
	}
	buf_printf(b, spaced ? "\"%s\": " : "\"%s\":", field);
	esc_json(b, name);
}

static void j_inbound_peer(Buf *b, const PeerStats *p)
{
	buf_putc(b, '{');
	j_key(b, "peer", p->key, false);
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
	j_combos(b, p, COMBO_TLS);
	buf_puts(b, ",\"failures\":");
	j_combos(b, p, COMBO_FAILURE);
	buf_puts(b, ",\"plaintext_mail_by_syslog_name\":");
	j_combos(b, p, COMBO_PLAINMAIL);
	buf_printf(b, ",\"labelled\":%s}", p->labelled ? "true" : "false");
}

static void j_outbound_peer(Buf *b, const PeerStats *p)
{
	ReportOutClass o = report_out_class(p);
	buf_putc(b, '{');
	j_key(b, "destination", p->key, false);
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
	Buf ev = BUF_NULL;
	const char *level = report_policy(p, &ev);
	if (level) {
		buf_printf(b, ",\"policy\":\"%s\",\"evidence\":", level);
		esc_json(b, buf_error(&ev) ? "" : buf_cstr(&ev));
	}
	buf_deinit(&ev);
	buf_puts(b, ",\"registrable_domain\":");
	esc_json(b, p->group);
	buf_puts(b, ",\"protocols\":");
	j_combos(b, p, COMBO_TLS);
	/* the destination is one recipient domain; the examples are its MX hosts */
	size_t hl;
	buf_puts(b, ",\"recipient_domains\":[");
	esc_json(b, peers_key_name(p->key, &hl));
	buf_puts(b, "],\"mx_hosts\":");
	j_examples(b, p);
	buf_puts(b, ",\"first_seen\":");
	j_time(b, p->first_seen_usec);
	buf_puts(b, ",\"last_seen\":");
	j_time(b, p->last_seen_usec);
	buf_puts(b, ",\"last_plaintext\":");
	j_time(b, p->last_plaintext_usec);
	buf_puts(b, "}");
}


/* j_list - every peer of a ranked list, one per line */
static void j_list(Buf *b, const ReportModel *m, ReportList list, void (*emit)(Buf *, const PeerStats *))
{
	const ReportRanking *r = &m->list[list];
	buf_putc(b, '[');
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			buf_putc(b, ',');
		buf_puts(b, "\n    ");
		emit(b, r->v[i].p);
	}
	buf_putc(b, ']');
}

/* j_protocols - {"TLSv1.3": n, ...} for the protocols with a count */
static void j_protocols(Buf *b, const PeersTotals *T, const uint64_t *v)
{
	buf_putc(b, '{');
	for (unsigned i = 0, first = 1; i < PEERS_PROTO_MAX; i++)
		if (v[i]) {
			buf_printf(b, "%s\"%s\": %llu", first ? "" : ", ", T->proto_names[i], (unsigned long long)v[i]);
			first = 0;
		}
	buf_putc(b, '}');
}

static void j_window_verdicts(Buf *b, const ReportModel *m)
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
		const ReportVerdict *v = &m->verdict[i];
		buf_puts(b, i ? ",\n    {\"syslog_name\": " : "\n    {\"syslog_name\": ");
		esc_json(b, v->syslog);
		buf_printf(b, ", \"refused_mail_sessions\": %llu, \"peers\": %llu, \"mail_sessions\": %llu, \"share_of_mail\": ",
			   (unsigned long long)v->refused, (unsigned long long)v->peers, (unsigned long long)v->mail);
		j_share(b, v->refused, v->mail);
		buf_puts(b, ", \"text\": ");
		esc_json(b, v->text);
		buf_putc(b, '}');
	}
	buf_puts(b, "],\n");
}

static void j_host(Buf *b, const ReportHost *h, size_t n_hosts)
{
	if (h->name) {
		buf_puts(b, "{\"host\": ");
		esc_json(b, h->name);
	} else
		buf_printf(b, "{\"hosts\": %zu", n_hosts);
	buf_printf(b, ", \"mail_sessions\": %llu, \"plaintext_mail\": %llu, \"share_of_mail\": ",
		   (unsigned long long)h->mail, (unsigned long long)h->plain);
	j_share(b, h->plain, h->mail);
	buf_puts(b, ", \"refused_peers\": [");
	for (size_t i = 0; i < h->n_who; i++) {
		buf_puts(b, i ? ", {\"peer\": " : "{\"peer\": ");
		esc_json(b, h->who[i].name);
		buf_printf(b, ", \"count\": %llu}", (unsigned long long)h->who[i].n);
	}
	buf_puts(b, "], \"text\": ");
	esc_json(b, h->text);
	buf_putc(b, '}');
}

/* j_hosts - per MTA and the fleet, only with --postfix.host-label. */
static void j_hosts(Buf *b, const ReportModel *m)
{
	if (!m->by_host)
		return;
	buf_puts(b, "  \"hosts\": [");
	for (size_t i = 0; i < m->n_host; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		j_host(b, &m->host[i], m->n_host);
	}
	buf_puts(b, "],\n  \"fleet\": ");
	j_host(b, &m->fleet, m->n_host);
	buf_puts(b, ",\n");
}

static void j_unknown_clients(Buf *b, const ReportModel *m)
{
	const ReportRanking *r = &m->list[REPORT_LIST_UNKNOWN];
	buf_putc(b, '[');
	for (size_t i = 0; i < r->n; i++) {
		const PeerStats *p = r->v[i].p;
		buf_puts(b, i ? ",\n      {" : "\n      {");
		j_key(b, "address", p->key, true);
		buf_puts(b, ", \"sessions\": ");
		j_enc(b, p->n, false);
		buf_puts(b, ", \"mail_sessions\": ");
		j_enc(b, p->n, true);
		buf_puts(b, ", \"last_seen\": ");
		j_time(b, p->last_seen_usec);
		buf_putc(b, '}');
	}
	buf_putc(b, ']');
}

static void j_inbound(Buf *b, const ReportModel *m)
{
	const PeersTotals *T = &m->T;
	buf_puts(b, "  \"inbound\": {\n    \"by_syslog_name\": [");
	for (unsigned i = 0; i < T->n_syslog; i++) {
		buf_puts(b, i ? ",\n      {\"syslog_name\": " : "\n      {\"syslog_name\": ");
		esc_json(b, T->syslog[i].name);
		buf_puts(b, ", \"sessions\": ");
		j_enc(b, T->syslog[i].in, false);
		buf_puts(b, ", \"mail_sessions\": ");
		j_enc(b, T->syslog[i].in, true);
		buf_putc(b, '}');
	}
	uint64_t all, mail;
	report_enc_sums(T->in, &all, &mail);
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
		report_fmt_day(day, sizeof(day), T->day_start_usec[d]);
		buf_printf(b, "%s\n      {\"day\": \"%s\", \"sessions\": %llu, \"plaintext\": %llu, \"mail_sessions\": %llu, \"plaintext_mail\": %llu}",
			   d ? "," : "", day, (unsigned long long)T->day_sessions[d], (unsigned long long)T->day_plain[d],
			   (unsigned long long)T->day_mail[d], (unsigned long long)T->day_plain_mail[d]);
	}
	buf_puts(b, "],\n    \"protocols\": ");
	j_protocols(b, T, T->proto_in);
	if (m->banner) { /* only then, so that reports of complete logs stay as they were */
		buf_puts(b, ",\n    \"protocols_banner\": ");
		esc_json(b, m->banner);
	}
	buf_puts(b, ",\n    \"plaintext_mail_peers\": ");
	j_list(b, m, REPORT_LIST_PLAIN_MAIL, j_inbound_peer);
	buf_puts(b, ",\n    \"legacy_protocol_peers\": ");
	j_list(b, m, REPORT_LIST_LEGACY, j_inbound_peer);
	buf_puts(b, ",\n    \"starttls_failure_peers\": ");
	j_list(b, m, REPORT_LIST_FAILED, j_inbound_peer);
	buf_puts(b, ",\n    \"peers\": [");
	for (size_t i = 0; i < m->n_in; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		j_inbound_peer(b, &m->in[i]);
	}
	buf_puts(b, "],\n    \"unknown_clients\": ");
	j_unknown_clients(b, m);
	buf_puts(b, "\n  },\n");
}

static void j_outbound_totals(Buf *b, const PeersTotals *T)
{
	uint64_t od = 0;
	for (unsigned c = 0; c < PEERS_CELLS; c++)
		od += T->out[c];
	buf_printf(b, "{\"deliveries\": %llu, \"without_connection\": %llu, \"by_tls\": {", (unsigned long long)od,
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
	buf_puts(b, "}}");
}

static void j_outbound(Buf *b, const ReportModel *m)
{
	buf_puts(b, "  \"outbound\": {\n    \"totals\": ");
	j_outbound_totals(b, &m->T);
	buf_puts(b, ",\n    \"protocols\": ");
	j_protocols(b, &m->T, m->T.proto_out);
	buf_puts(b, ",\n    \"always_tls\": ");
	j_list(b, m, REPORT_LIST_ALWAYS_TLS, j_outbound_peer);
	buf_puts(b, ",\n    \"never_tls\": ");
	j_list(b, m, REPORT_LIST_NEVER_TLS, j_outbound_peer);
	buf_puts(b, ",\n    \"mixed\": ");
	j_list(b, m, REPORT_LIST_MIXED, j_outbound_peer);
	buf_puts(b, ",\n    \"policy_map\": ");
	esc_json(b, m->policy ? m->policy : "");
	buf_puts(b, ",\n    \"destinations\": [");
	for (size_t i = 0; i < m->n_dst; i++) {
		buf_puts(b, i ? ",\n    " : "\n    ");
		j_outbound_peer(b, &m->dst[i]);
	}
	buf_puts(b, "]\n  },\n");
}

static void j_tracking(Buf *b, const PeersTotals *T)
{
	static const char *const what[] = { "tracked", "evicted", "folded" };
	buf_printf(b, "  \"tracking\": {\"max_tracked\": %zu, \"max_labelled\": %zu, \"late_events\": %llu",
		   T->max_tracked, T->max_labelled, (unsigned long long)T->late_events);
	for (unsigned w = 0; w < ELEMENTSOF(what); w++) {
		buf_printf(b, ", \"%s\": {", what[w]);
		for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
			unsigned long long v = w == 0 ? T->tracked[d] : w == 1 ? T->evicted[d] : T->folded[d];
			buf_printf(b, "%s\"%s\": %llu", d ? ", " : "", peer_direction_name((PeerDirection)d), v);
		}
		buf_putc(b, '}');
	}
	buf_puts(b, "}\n}\n");
}

int report_render_json(const ReportModel *m, Buf *b)
{
	j_window_verdicts(b, m);
	j_hosts(b, m);
	j_inbound(b, m);
	j_outbound(b, m);
	j_tracking(b, &m->T);
	return 0;
}

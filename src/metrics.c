/*
 * metrics.c - the metric contract, as data. Names follow the Prometheus
 * naming rules (base units, _total on counters); label values are lower case.
 */
#include <string.h>

#include "macro.h"
#include "metrics.h"

const FamilyDesc metrics_families[_M_MAX] = {
	[M_INBOUND_CONNECTIONS] = { "postfix_tls_inbound_connections_total",
		"Client connections accepted by smtpd (and by postscreen when not handed to smtpd).",
		METRIC_COUNTER, 1, { "syslog_name" } },
	[M_INBOUND_SESSIONS] = { "postfix_tls_inbound_sessions_total",
		"Ended inbound SMTP sessions by encryption (tls, plaintext, starttls_failed) and whether a message was accepted.",
		METRIC_COUNTER, 3, { "syslog_name", "encryption", "mail" } },
	[M_INBOUND_HANDSHAKES] = { "postfix_tls_inbound_handshakes_total",
		"Completed inbound TLS handshakes by client-certificate trust, protocol, cipher and key exchange group.",
		METRIC_COUNTER, 5, { "syslog_name", "trust", "protocol", "cipher", "key_exchange" } },
	[M_INBOUND_TLS_FAILURES] = { "postfix_tls_inbound_tls_failures_total",
		"Failed inbound TLS attempts by most specific reason.",
		METRIC_COUNTER, 2, { "syslog_name", "reason" } },
	[M_OUTBOUND_HANDSHAKES] = { "postfix_tls_outbound_handshakes_total",
		"Completed outbound TLS handshakes by server-certificate trust, protocol, cipher and key exchange group.",
		METRIC_COUNTER, 5, { "syslog_name", "trust", "protocol", "cipher", "key_exchange" } },
	[M_OUTBOUND_DELIVERIES] = { "postfix_tls_outbound_deliveries_total",
		"Outbound delivery attempts (one per recipient) by the TLS trust level of the connection and delivery status.",
		METRIC_COUNTER, 3, { "syslog_name", "tls", "status" } },
	[M_OUTBOUND_TLS_FAILURES] = { "postfix_tls_outbound_tls_failures_total",
		"Failed outbound TLS attempts by most specific reason.",
		METRIC_COUNTER, 2, { "syslog_name", "reason" } },
	[M_OUTBOUND_TLS_POLICY] = { "postfix_tls_outbound_tls_policy_total",
		"Outbound delivery attempts by TLS policy feature as Postfix 3.11+ logs it (tls=): the policy's level, "
		"the level it ended at, and whether it was satisfied, downgraded, blocked or left undecided.",
		METRIC_COUNTER, 5, { "syslog_name", "feature", "level", "final", "state" } },
	[M_INBOUND_PEER_SESSIONS] = { "postfix_tls_inbound_peer_sessions_total",
		"Ended inbound sessions per client registrable domain (top peers; the rest is folded into peer_domain=\"other\").",
		METRIC_COUNTER, 3, { "peer_domain", "encryption", "mail" } },
	[M_OUTBOUND_PEER_DELIVERIES] = { "postfix_tls_outbound_peer_deliveries_total",
		"Outbound delivery attempts per recipient registrable domain (top peers; the rest is folded into peer_domain=\"other\").",
		METRIC_COUNTER, 3, { "peer_domain", "tls", "status" } },
	[M_INTERNAL_HOPS] = { "postfix_tls_internal_hops_total",
		"Sessions (inbound) and deliveries (outbound) of internal hops (content filters, reinjection, LMTP, unix-socket relays; see --postfix.internal-relay and --postfix.internal-service), counted here only: not in the session, delivery and peer families or the report.",
		METRIC_COUNTER, 2, { "syslog_name", "direction" } },
	[M_BUILD_INFO] = { "postfix_tls_exporter_build_info",
		"A metric with a constant '1' value labelled by the exporter version.",
		METRIC_GAUGE, 1, { "version" } },
	[M_LINES_READ] = { "postfix_tls_exporter_lines_read_total",
		"Log lines and journal entries read from all sources.",
		METRIC_COUNTER, 0, { 0 } },
	[M_UNRECOGNIZED_LINES] = { "postfix_tls_exporter_unrecognized_lines_total",
		"TLS- or session-relevant Postfix lines that no parser rule fully matched.",
		METRIC_COUNTER, 1, { "daemon" } },
	[M_MALFORMED_LINES] = { "postfix_tls_exporter_malformed_lines_total",
		"Lines without a recognisable syslog header.",
		METRIC_COUNTER, 0, { 0 } },
	[M_OVERSIZED_LINES] = { "postfix_tls_exporter_oversized_lines_total",
		"Lines longer than --source.max-line-length, skipped unparsed (Postfix itself truncates at 2000 bytes).",
		METRIC_COUNTER, 0, { 0 } },
	[M_INVALID_UTF8_LINES] = { "postfix_tls_exporter_invalid_utf8_lines_total",
		"Records with invalid UTF-8 or control bytes; each bad byte was replaced by U+FFFD before use.",
		METRIC_COUNTER, 0, { 0 } },
	[M_FUTURE_LINES] = { "postfix_tls_exporter_future_lines_total",
		"Records stamped over 2 hours ahead of the wall clock and of the newest event; taken as of the newest event.",
		METRIC_COUNTER, 0, { 0 } },
	[M_LAST_EVENT_TS] = { "postfix_tls_exporter_last_event_timestamp_seconds",
		"Log timestamp of the newest Postfix record processed.",
		METRIC_GAUGE, 0, { 0 } },
	[M_SESSIONS_OPEN] = { "postfix_tls_exporter_sessions_open",
		"Inbound sessions in flight (connect seen, disconnect not yet).",
		METRIC_GAUGE, 0, { 0 } },
	[M_SESSIONS_EXPIRED] = { "postfix_tls_exporter_sessions_expired_total",
		"Inbound sessions dropped without a disconnect line (lost line, PID reuse, age or table limit).",
		METRIC_COUNTER, 0, { 0 } },
	[M_TLS_WITHOUT_SUMMARY] = { "postfix_tls_exporter_tls_sessions_parameters_unknown_total",
		"TLS sessions known only from the session statistics, without a TLS summary line (set smtpd_tls_loglevel = 1): protocol, cipher, key exchange and trust are unknown.",
		METRIC_COUNTER, 1, { "direction" } },
	[M_SERIES_DROPPED] = { "postfix_tls_exporter_series_dropped_total",
		"Increments not recorded because the series limit (--store.max-series) was reached.",
		METRIC_COUNTER, 0, { 0 } },
	[M_SOURCE_UP] = { "postfix_tls_exporter_source_up",
		"1 if the log source is open and being followed, 0 otherwise.",
		METRIC_GAUGE, 1, { "source" } },
	[M_JOURNAL_ENTRIES_READ] = { "postfix_tls_exporter_journal_entries_read_total",
		"Journal entries read (before the Postfix filter).",
		METRIC_COUNTER, 0, { 0 } },
	[M_PEERS_TRACKED] = { "postfix_tls_exporter_peers_tracked",
		"Peers currently tracked for the readiness report.",
		METRIC_GAUGE, 1, { "direction" } },
	[M_PEERS_FOLDED] = { "postfix_tls_exporter_peers_folded_total",
		"Peer events counted under peer_domain=\"other\" because the peer is not among the labelled top peers.",
		METRIC_COUNTER, 1, { "direction" } },
	[M_PROCESS_CPU] = { "process_cpu_seconds_total",
		"Total user and system CPU time spent in seconds.", METRIC_COUNTER, 0, { 0 } },
	[M_PROCESS_RSS] = { "process_resident_memory_bytes",
		"Resident memory size in bytes.", METRIC_GAUGE, 0, { 0 } },
	[M_PROCESS_VSIZE] = { "process_virtual_memory_bytes",
		"Virtual memory size in bytes.", METRIC_GAUGE, 0, { 0 } },
	[M_PROCESS_OPEN_FDS] = { "process_open_fds",
		"Number of open file descriptors.", METRIC_GAUGE, 0, { 0 } },
	[M_PROCESS_MAX_FDS] = { "process_max_fds",
		"Maximum number of open file descriptors.", METRIC_GAUGE, 0, { 0 } },
	[M_PROCESS_START_TIME] = { "process_start_time_seconds",
		"Start time of the process since unix epoch in seconds.", METRIC_GAUGE, 0, { 0 } },
};

/* The label values the parsers produce, from the README's metric table;
 * anything else ("other") is in these lists too. */
static const char *const unrecognized_daemons[] = { "smtpd", "smtp", "lmtp", "tlsproxy", "postscreen" };
static const char *const inbound_reasons[] = {
	"no_shared_cipher", "unsupported_protocol", "wrong_version_number", "http_request", "unknown_ca",
	"bad_certificate", "internal_error", "handshake_failure", "decode_error", "lost_connection",
	"connection_reset", "timeout", "starttls_rejected", "other",
};
static const char *const outbound_reasons[] = {
	"not_offered", "handshake_failed", "cert_untrusted", "cert_expired", "hostname_mismatch", "other",
};

void metrics_init_zero(Store *s)
{
	for (size_t i = 0; i < ELEMENTSOF(unrecognized_daemons); i++) {
		Slice l[] = { slice_from(unrecognized_daemons[i]) };
		store_add(s, M_UNRECOGNIZED_LINES, l, 0);
	}
}

void metrics_init_instance(Store *s, Slice syslog_name, bool inbound)
{
	const char *const *r = inbound ? inbound_reasons : outbound_reasons;
	size_t n = inbound ? ELEMENTSOF(inbound_reasons) : ELEMENTSOF(outbound_reasons);
	for (size_t i = 0; i < n; i++) {
		Slice l[] = { syslog_name, slice_from(r[i]) };
		store_add(s, inbound ? M_INBOUND_TLS_FAILURES : M_OUTBOUND_TLS_FAILURES, l, 0);
	}
}

static const FamilyDesc hosts_families[] = {
	[M_HOSTS_LABELLED - _M_MAX] = { "postfix_tls_exporter_hosts_labelled",
		"Distinct MTA hosts with a host label of their own (at most --postfix.hosts-max).",
		METRIC_GAUGE, 0, { 0 } },
	[M_HOSTS_FOLDED - _M_MAX] = { "postfix_tls_exporter_hosts_folded_total",
		"Increments of Postfix families counted under host=\"other\" because --postfix.hosts-max hosts were already labelled.",
		METRIC_COUNTER, 0, { 0 } },
};

const FamilyDesc *metrics_fleet_families(void)
{
	/* Built once from the single-host table, so that the two cannot drift. */
	static FamilyDesc t[_M_MAX_FLEET];
	if (t[0].name)
		return t;
	for (unsigned m = 0; m < _M_MAX; m++) {
		t[m] = metrics_families[m];
		if (!metrics_has_host(m))
			continue;
		t[m].labels[0] = "host";
		memcpy(t[m].labels + 1, metrics_families[m].labels, metrics_families[m].n_labels * sizeof(char *));
		t[m].n_labels++;
	}
	memcpy(t + _M_MAX, hosts_families, sizeof(hosts_families));
	return t;
}

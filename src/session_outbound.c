/*
 * session_outbound.c - the outbound side of the sessions: smtp/lmtp client
 * processes, their deliveries, certificate and policy failures, and
 * deliveries that are internal hops (lmtp, unix-socket and internal relays).
 *
 * DESCRIPTION
 *	The TLS state of each smtp/lmtp process is the last TLS summary it
 *	logged; see session.h for how a delivery line takes it. The entry
 *	table and the counting helpers are in session.c (session_int.h).
 * SECURITY
 *	Relay names, queue IDs and reasons come from the log; copies are
 *	bounded by the line length limit.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "metrics.h"
#include "polstat.h"
#include "session.h"
#include "session_int.h"
#include "util.h"

/* ---- mappings ------------------------------------------------------------ */

/* tls_log_verify_error() wordings, most specific first. */
static const Mapping cert_reasons[] = {
	{ "certificate has expired", "cert_expired" },
	{ "hostname mismatch", "hostname_mismatch" },
	{ "num=62:", "hostname_mismatch" },
	{ "self-signed certificate", "cert_untrusted" },
	{ "self signed certificate", "cert_untrusted" },
	{ "untrusted issuer", "cert_untrusted" },
	{ "not trusted by local or TLSA policy", "cert_untrusted" },
	{ "unable to get local issuer", "cert_untrusted" },
	{ "unable to verify the first certificate", "cert_untrusted" },
};

const char *sessions_outbound_cert_reason(Slice why)
{
	return sessions_map_text(cert_reasons, ELEMENTSOF(cert_reasons), why, "other");
}

static int cert_rank(const char *reason)
{
	if (!reason)
		return 0;
	if (!strcmp(reason, "cert_expired"))
		return 4;
	if (!strcmp(reason, "hostname_mismatch"))
		return 3;
	if (!strcmp(reason, "cert_untrusted"))
		return 2;
	return 1;
}

static Trust trust_from(Slice w)
{
	if (slice_eq_str(w, "Anonymous"))
		return TRUST_ANONYMOUS;
	if (slice_eq_str(w, "Untrusted"))
		return TRUST_UNTRUSTED;
	if (slice_eq_str(w, "Trusted"))
		return TRUST_TRUSTED;
	if (slice_eq_str(w, "Verified"))
		return TRUST_VERIFIED;
	return TRUST_NONE;
}

/* ---- outbound ------------------------------------------------------------ */

static bool relay_matches(const char *tls_peer, Slice relay)
{
	size_t n = strlen(tls_peer);
	if (relay.n == n && memcmp(relay.p, tls_peer, n) == 0)
		return true;
	/* 2.2-2.4 summary lines name the bare host; relay= is host[addr]:port. */
	return relay.n > n && memcmp(relay.p, tls_peer, n) == 0 && relay.p[n] == '[' && !strchr(tls_peer, '[');
}

static void commit_cert(Sessions *s, Entry *e, const char **cert)
{
	if (*cert) {
		sessions_count_failure(s, M_OUTBOUND_TLS_FAILURES, e->prog, *cert);
		*cert = NULL;
	}
}

/*
 * A verification failure is logged during the handshake, before its
 * summary, but is a policy failure only if the connection was then not
 * used: Postfix 2.5-2.8 log it for opportunistic TLS too
 * (tls_verify_certificate_callback() logs whenever verification fails;
 * 2.9+ only with TLS_LOG_UNTRUSTED, i.e. when the level requires trust).
 * The summary arms it; a delivery sent over that connection disarms it.
 */
static void commit_cert_failure(Sessions *s, Entry *e)
{
	commit_cert(s, e, &e->armed_cert);
	commit_cert(s, e, &e->pending_cert);
}

/* Lines of one delivery attempt are logged together; a retry of the same
 * queue ID comes minimal_backoff_time (minutes) later. */
#define ATTEMPT_WINDOW_USEC (10 * USEC_PER_SEC)

/* policy_failure_reason - the TLS failures smtp_helo() and smtp_start_tls()
 * report only as a delivery reason (no line of their own), or NULL.
 * Handshake and verification failures have lines of their own and are
 * counted there. */
static const char *policy_failure_reason(Slice why)
{
	if (slice_has_prefix(why, "TLS is required, but was not offered"))
		return "not_offered";
	/* "TLS is required, but host %s refused to start TLS: %s",
	 * "... but our TLS engine is unavailable", "... but unavailable" */
	if (slice_has_prefix(why, "TLS is required, "))
		return "other";
	/* Postfix 2.2 */
	if (slice_has_prefix(why, "TLS failure: Cannot verify server hostname"))
		return "hostname_mismatch";
	if (slice_has_prefix(why, "TLS failure: Cannot verify server certificate"))
		return "cert_untrusted";
	return NULL;
}

static void count_policy_failure(Sessions *s, Entry *e, Slice qid, Slice why, int64_t ts)
{
	const char *reason = policy_failure_reason(why);
	if (!reason)
		return;
	/* One per delivery attempt: the reason repeats on every recipient's
	 * line and on the non-final line of the same queue ID. */
	bool same = e->policy_fail_qid && slice_eq_str(qid, e->policy_fail_qid) &&
		    ts - e->policy_fail_ts < ATTEMPT_WINDOW_USEC;
	e->policy_fail_ts = ts;
	if (same)
		return;
	sessions_set_str(&e->policy_fail_qid, qid);
	sessions_count_failure(s, M_OUTBOUND_TLS_FAILURES, e->prog, reason);
}

/* relay_internal - a delivery that is an internal hop: LMTP (to the mailbox
 * server), a unix-socket relay (smtp_connect_unix() logs "host[path]",
 * e.g. "mail.example.org[private/dovecot-lmtp]"), a relay named by
 * --postfix.internal-relay, or any delivery of an internal service. */
static bool relay_internal(const Sessions *s, const ProgInfo *prog, Slice relay)
{
	if (prog->internal || slice_eq_str(prog->daemon, "lmtp"))
		return true;
	const char *lb = relay.n ? memchr(relay.p, '[', relay.n) : NULL;
	if (lb && memchr(lb, '/', (size_t)(relay.p + relay.n - lb)))
		return true;
	return s->internal_relay && s->internal_relay(s->internal_relay_userdata, relay);
}

/* on_delivery - one recipient's delivery attempt (log_adhoc()). */
static void on_delivery(Sessions *s, Entry *e, const ProgInfo *prog, const LogLine *ll, const Match *m)
{
	Slice st = m->g[G_STATUS];
	DeliveryStatus ds;
	if (slice_eq_str(st, "sent"))
		ds = DELIVERY_SENT;
	else if (slice_eq_str(st, "deferred") || slice_eq_str(st, "SOFTBOUNCE"))
		ds = DELIVERY_DEFERRED;
	else if (slice_eq_str(st, "bounced"))
		ds = DELIVERY_BOUNCED;
	else
		return; /* address verification probes: deliverable/undeliverable */
	bool internal = relay_internal(s, prog, m->g[G_RELAY]);
	if (internal)
		sessions_count_internal_hop(s, prog, "outbound");
	Trust tls = TRUST_NONE;
	Slice qid = m->g[G_QID];
	if (e->tls != TRUST_NONE && e->tls_peer && relay_matches(e->tls_peer, m->g[G_RELAY])) {
		/* The summary belongs to the delivery request that follows it:
		 * a later queue ID without its own summary (or "reused" line)
		 * went over a new, unencrypted connection. */
		if (!e->bound_qid) {
			e->bound_qid = sessions_slice_dup(qid);
			tls = e->tls;
		} else if (slice_eq_str(qid, e->bound_qid)) {
			tls = e->tls;
		} else {
			e->tls = TRUST_NONE;
		}
	}
	if (ds == DELIVERY_SENT && tls != TRUST_NONE)
		e->armed_cert = NULL; /* the connection was used: not enforced */
	commit_cert_failure(s, e);
	count_policy_failure(s, e, qid, m->g[G_REASON], ll->ts_usec);
	/* An internal hop (content filter, LMTP to the mailbox server) counts
	 * in its own family only: it is not mail leaving this MTA. */
	if (!internal) {
		Slice l[] = { prog->syslog_name, slice_from(trust_name(tls)), slice_from(delivery_status_name(ds)) };
		sessions_count(s, M_OUTBOUND_DELIVERIES, l);
	}
	PolStat ps; /* Postfix 3.11+: one per policy feature */
	bool dane = false;
	for (Slice f = m->g[G_TLSFEAT]; polstat_next(&f, &ps);) {
		Slice p[] = { prog->syslog_name, slice_from(ps.feature), slice_from(ps.level), slice_from(ps.final),
			      slice_from(ps.state) };
		if (!internal)
			sessions_count(s, M_OUTBOUND_TLS_POLICY, p);
		/* "dane" kept (not downgraded to "dane:may"): TLSA records matched */
		if ((!strcmp(ps.level, "dane") || !strcmp(ps.level, "dane-only")) && !strcmp(ps.state, "satisfied"))
			dane = true;
	}
	if (s->peers && !internal) {
		PeerDelivery pd = {
			.ts_usec = ll->ts_usec,
			.host = sessions_host_label(s),
			.syslog_name = prog->syslog_name,
			.recipient = m->g[G_TO],
			.relay = m->g[G_RELAY],
			.tls = tls,
			.protocol = tls != TRUST_NONE ? slice_from(e->tls_proto) : SLICE_LIT(""),
			.status = ds,
			.dane = dane && tls == TRUST_VERIFIED,
			.dest = s->name,
		};
		peers_outbound_delivery(s->peers, &pd);
	}
}

void sessions_on_client(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m)
{
	Entry *e = sessions_entry_lookup(s, KIND_CLIENT, prog, ll->pid, SLICE_NULL);
	if (!e) {
		/* Every smtp line may start a process we have not seen. */
		if (m->rule != R_TLS_SUMMARY && m->rule != R_VERIFY_FAILED && m->rule != R_NONFINAL &&
		    m->rule != R_DELIVERY && m->rule != R_SSL_CONNECT_ERROR)
			return;
		e = sessions_entry_create(s, KIND_CLIENT, prog, ll->pid, SLICE_NULL, ll->ts_usec);
		if (!e)
			return;
	}
	sessions_entry_touch(s, e, ll->ts_usec);

	switch (m->rule) {
	case R_TLS_SUMMARY: {
		if (!slice_eq_str(m->g[G_DIR], "to"))
			return;
		/* The previous connection's failure was not disarmed; this
		 * handshake's verification lines are complete now. */
		commit_cert(s, e, &e->armed_cert);
		e->armed_cert = e->pending_cert;
		e->pending_cert = NULL;
		Trust t = trust_from(m->g[G_TRUST]);
		if (slice_eq_str(m->g[G_USAGE], "established")) {
			sessions_count_handshake(s, M_OUTBOUND_HANDSHAKES, prog, m);
		}
		/* 2.2-2.4 have no trust word: the connection is encrypted, trust unknown;
		 * report it as untrusted, the weakest authenticated level. */
		e->tls = t == TRUST_NONE ? TRUST_UNTRUSTED : t;
		sessions_set_str(&e->tls_peer, m->g[G_PEER]);
		sessions_set_str(&e->tls_proto, m->g[G_PROTO]);
		free(e->bound_qid);
		e->bound_qid = NULL;
		return;
	}
	case R_VERIFY_FAILED: {
		const char *r = sessions_outbound_cert_reason(m->g[G_WHY]);
		if (cert_rank(r) > cert_rank(e->pending_cert))
			e->pending_cert = r;
		return;
	}
	case R_SSL_CONNECT_ERROR:
		if (e->pending_cert)
			commit_cert_failure(s, e);
		else
			sessions_count_failure(s, M_OUTBOUND_TLS_FAILURES, prog, "handshake_failed");
		e->tls = TRUST_NONE;
		return;
	case R_NONFINAL:
		count_policy_failure(s, e, m->g[G_QID], m->g[G_REASON], ll->ts_usec);
		return;
	case R_DELIVERY:
		on_delivery(s, e, prog, ll, m);
		return;
	default:
		return;
	}
}

/*
 * session.h - correlation of Postfix lines into sessions and deliveries.
 *
 * DESCRIPTION
 *	Every key includes the record's host (LogLine.host), so that the MTAs of
 *	a fleet logging to one file or journal never share a session.
 *	Inbound: smtpd sessions are keyed by (program, pid) from "connect from"
 *	to "disconnect from" (one smtpd process serves one client at a time);
 *	postscreen connections by their [addr]:port, joined with tlsproxy's
 *	server-role lines for the same endpoint. Each ended session is
 *	classified once: tls / starttls_failed / plaintext, and whether a
 *	message was accepted. Without a TLS summary (smtpd_tls_loglevel = 0,
 *	Postfix's default) a session is still tls, with protocol, cipher,
 *	key exchange and trust "unknown", when the handshake provably
 *	completed: "starttls=N" successes in the disconnect statistics, a
 *	wrapper-mode (smtps) service without a handshake error, or a
 *	postscreen connection handed to tlsproxy without "handshake failed".
 *	Outbound: the TLS state of each smtp/lmtp process is the last TLS
 *	summary it logged; a delivery line takes it when its relay= equals the
 *	summary's peer and it belongs to the same delivery request (the first
 *	queue ID after the summary). tlsproxy client-role copies are ignored.
 *	Internal hops are counted as what Postfix did in the session and
 *	delivery families, and also in postfix_tls_internal_hops_total, but
 *	never reach the peer tables (so neither the report's verdicts, shares
 *	and policy map): deliveries by lmtp,
 *	to a unix-socket relay ("host[private/dovecot-lmtp]") or to a relay
 *	the internal-relay predicate names (--postfix.internal-relay: content
 *	filters on loopback); inbound sessions that used XFORWARD (a content
 *	filter reinjecting); everything of an internal service
 *	(--postfix.internal-service).
 * LIMITS
 *	max entries in flight (sessions and client processes each); an entry
 *	not updated for max_age of log time, a PID reused without disconnect,
 *	or an entry evicted when the table is full is dropped and counted in
 *	postfix_tls_exporter_sessions_expired_total (inbound sessions only).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hosts.h"
#include "logline.h"
#include "parse.h"
#include "peers.h"
#include "store.h"

typedef struct ProgInfo {
	uint32_t id;
	uint32_t daemon_class; /* DAEMON_* or 0 if not interesting */
	Slice prog;            /* owned copies */
	Slice syslog_name;
	Slice daemon;
	bool accepted;         /* passes --postfix.syslog-name */
	bool wrapper_mode;     /* matches --postfix.wrapper-service: implicit TLS (smtps) */
	bool internal;         /* matches --postfix.internal-service: an internal hop */
} ProgInfo;

typedef struct Sessions Sessions;

int sessions_new(Sessions **ret, Store *store, size_t max_entries, int64_t max_age_usec);
Sessions *sessions_free(Sessions *s);
void sessions_set_peers(Sessions *s, Peers *peers);
/* SessionsRelayFn - whether a delivery's relay= value (e.g.
 * "127.0.0.1[127.0.0.1]:10024") is an internal hop. */
typedef bool (*SessionsRelayFn)(void *userdata, Slice relay);
void sessions_set_internal_relay(Sessions *s, SessionsRelayFn fn, void *userdata);
/* sessions_set_hosts - label every Postfix family with the record's host
 * (--postfix.host-label; the store must use metrics_fleet_families()). */
void sessions_set_hosts(Sessions *s, Hosts *hosts);

/* sessions_handle - apply one matched line. name: for a connect line
 * (R_CONNECT) the client name, for a delivery (R_DELIVERY) the recipient's
 * domain, normalised by a PeerNamer in the reading thread; or NULL, and
 * the Peers normalise it. */
void sessions_handle(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m, const PeerName *name);
/* sessions_split_peer - "host[addr]" or "host[addr]:port" into name and
 * address; a peer without brackets is all name. */
void sessions_split_peer(Slice peer, Slice *name, Slice *addr);
/* sessions_sweep - expire entries idle for max_age of log time before now. */
void sessions_sweep(Sessions *s, int64_t now_usec);

size_t sessions_open(const Sessions *s);
/* sessions_tls_without_summary - inbound sessions classified tls although no
 * TLS summary was logged (smtpd_tls_loglevel = 0); also counted in
 * postfix_tls_exporter_tls_sessions_parameters_unknown_total{direction="inbound"}. */
uint64_t sessions_tls_without_summary(const Sessions *s);

/* Mappings exposed for the unit tests. */
const char *sessions_inbound_failure_reason(Slice ssl_error_text);
const char *sessions_outbound_cert_reason(Slice why);
/* sessions_key_exchange - normalised key-exchange label ("x25519", "secp256r1", "unknown"). */
int sessions_key_exchange(Slice kex, Slice kexparm, char *out, size_t out_size);

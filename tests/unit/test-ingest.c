/*
 * test-ingest.c - session correlation on hand-made sequences: PID reuse,
 * interleaving, expiry, table limits, outbound connection reuse, tlsproxy
 * duplicates, Postfix 2.x and 3.10 wordings, syslog-name filtering.
 */
#include "../harness.h"

#include "ingest.h"
#include "metrics.h"
#include "store.h"

static Store *store;
static Ingest *in;

static void setup(size_t max_sessions, const char *syslog_re)
{
	require(store_new(&store, metrics_families, _M_MAX, 10000) == 0);
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	c.max_sessions = max_sessions;
	c.syslog_name_regex = syslog_re;
	require(ingest_new(&in, store, &c, NULL) == 0);
}

static void teardown(void)
{
	in = ingest_free(in);
	store = store_free(store);
}

static void feed(const char *const *lines)
{
	for (; *lines; lines++)
		ingest_line(in, *lines, strlen(*lines));
}

static double sessions(const char *sn, const char *enc, const char *mail)
{
	Slice l[] = { slice_from(sn), slice_from(enc), slice_from(mail) };
	return store_get(store, M_INBOUND_SESSIONS, l);
}

static double get0(MetricId m)
{
	store_collect(store);
	return store_get(store, m, NULL);
}

static double deliveries(const char *tls, const char *status)
{
	Slice l[] = { SLICE_LIT("postfix"), slice_from(tls), slice_from(status) };
	return store_get(store, M_OUTBOUND_DELIVERIES, l);
}

static double failures(MetricId m, const char *sn, const char *reason)
{
	Slice l[] = { slice_from(sn), slice_from(reason) };
	return store_get(store, m, l);
}

static void test_interleaved_and_pid_reuse(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		"Nov 28 10:00:00 mx postfix/smtpd[100]: connect from a.example[192.0.2.1]",
		"Nov 28 10:00:00 mx postfix/smtpd[200]: connect from b.example[192.0.2.2]",
		"Nov 28 10:00:01 mx postfix/smtpd[100]: Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
		"Nov 28 10:00:01 mx postfix/smtpd[200]: SSL_accept error from b.example[192.0.2.2]: -1",
		"Nov 28 10:00:01 mx postfix/smtpd[200]: warning: TLS library problem: error:0A000102:SSL routines::unsupported protocol:../ssl/statem/statem_srvr.c:1664:",
		"Nov 28 10:00:01 mx postfix/smtpd[200]: lost connection after STARTTLS from b.example[192.0.2.2]",
		"Nov 28 10:00:02 mx postfix/smtpd[100]: 4ABC: client=a.example[192.0.2.1]",
		"Nov 28 10:00:02 mx postfix/smtpd[200]: disconnect from b.example[192.0.2.2] ehlo=1 starttls=0/1 commands=1/2",
		"Nov 28 10:00:03 mx postfix/smtpd[100]: disconnect from a.example[192.0.2.1] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
		/* PID 300: disconnect line lost, PID reused */
		"Nov 28 10:00:04 mx postfix/smtpd[300]: connect from c.example[192.0.2.3]",
		"Nov 28 10:00:05 mx postfix/smtpd[300]: connect from d.example[192.0.2.4]",
		"Nov 28 10:00:06 mx postfix/smtpd[300]: disconnect from d.example[192.0.2.4] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
		/* disconnect of a session whose connect we never saw: not classified */
		"Nov 28 10:00:07 mx postfix/smtpd[400]: disconnect from e.example[192.0.2.5] ehlo=1 quit=1 commands=2",
		NULL });
	check(sessions("postfix", "tls", "true") == 1);
	check(sessions("postfix", "starttls_failed", "false") == 1);
	check(sessions("postfix", "plaintext", "true") == 1);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "unsupported_protocol") == 1);
	Slice c[] = { SLICE_LIT("postfix") };
	check(store_get(store, M_INBOUND_CONNECTIONS, c) == 4);
	check(get0(M_SESSIONS_EXPIRED) == 1);
	check(get0(M_SESSIONS_OPEN) == 0);
	check(get0(M_LINES_READ) == 13);
	Slice h[] = { SLICE_LIT("postfix"), SLICE_LIT("anonymous"), SLICE_LIT("TLSv1.3"), SLICE_LIT("TLS_AES_256_GCM_SHA384"), SLICE_LIT("x25519") };
	check(store_get(store, M_INBOUND_HANDSHAKES, h) == 1);
	teardown();
}

static void test_expiry_and_limit(void)
{
	setup(2, NULL);
	feed((const char *const[]){
		"Nov 28 10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]",
		"Nov 28 10:00:01 mx postfix/smtpd[2]: connect from b[192.0.2.2]",
		"Nov 28 10:00:02 mx postfix/smtpd[3]: connect from c[192.0.2.3]", /* evicts pid 1 */
		NULL });
	check(get0(M_SESSIONS_EXPIRED) == 1);
	check(get0(M_SESSIONS_OPEN) == 2);
	/* two hours of log time later, the open ones have expired (max age 1h) */
	feed((const char *const[]){
		"Nov 28 12:00:00 mx postfix/smtpd[9]: connect from z[192.0.2.9]",
		NULL });
	check(get0(M_SESSIONS_EXPIRED) == 3);
	check(get0(M_SESSIONS_OPEN) == 1);
	teardown();
}

static void test_outbound(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		/* TLS to A, two recipients of one message, then a second message over a new plaintext session */
		"Nov 28 10:00:00 mx postfix/smtp[50]: Trusted TLS connection established to mx.a.example[192.0.2.7]:25: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
		"Nov 28 10:00:01 mx postfix/smtp[50]: 1111: to=<x@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		"Nov 28 10:00:01 mx postfix/smtp[50]: 1111: to=<y@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		"Nov 28 10:00:05 mx postfix/smtp[50]: 2222: to=<z@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		/* connection reuse through tlsproxy: tlsproxy's copy is not counted, "reused" is no handshake */
		"Nov 28 10:01:00 mx postfix/tlsproxy[60]: Verified TLS connection established to mx.b.example[192.0.2.8]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		"Nov 28 10:01:00 mx postfix/smtp[51]: Verified TLS connection established to mx.b.example[192.0.2.8]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		"Nov 28 10:01:01 mx postfix/smtp[51]: 3333: to=<u@b.example>, relay=mx.b.example[192.0.2.8]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		"Nov 28 10:01:02 mx postfix/smtp[52]: Verified TLS connection reused to mx.b.example[192.0.2.8]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519",
		"Nov 28 10:01:02 mx postfix/smtp[52]: 4444: to=<v@b.example>, relay=mx.b.example[192.0.2.8]:25, conn_use=2, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		/* required TLS not offered: one failure per attempt, not per recipient line */
		"Nov 28 10:02:00 mx postfix/smtp[53]: 5555: to=<a@c.example>, relay=mx.c.example[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.c.example[192.0.2.9])",
		"Nov 28 10:02:00 mx postfix/smtp[53]: 5555: to=<b@c.example>, relay=mx.c.example[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.c.example[192.0.2.9])",
		"Nov 28 10:07:00 mx postfix/smtp[53]: 5555: to=<a@c.example>, relay=mx.c.example[192.0.2.9]:25, delay=301, delays=300/0/0/1, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.c.example[192.0.2.9])",
		/* verification failure: several lines, one failure with the most specific reason */
		"Nov 28 10:03:00 mx postfix/smtp[54]: server certificate verification failed for mx.d.example[192.0.2.10]:25: num=21:unable to verify the first certificate",
		"Nov 28 10:03:00 mx postfix/smtp[54]: server certificate verification failed for mx.d.example[192.0.2.10]:25: certificate has expired",
		"Nov 28 10:03:00 mx postfix/smtp[54]: Untrusted TLS connection established to mx.d.example[192.0.2.10]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		"Nov 28 10:03:01 mx postfix/smtp[54]: 6666: to=<a@d.example>, relay=mx.d.example[192.0.2.10]:25, delay=1, delays=0/0/0/1, dsn=4.7.5, status=deferred (Server certificate not verified)",
		/* handshake failure, then plaintext fallback in the same attempt */
		"Nov 28 10:04:00 mx postfix/smtp[55]: SSL_connect error to mx.e.example[192.0.2.11]:25: -1",
		"Nov 28 10:04:00 mx postfix/smtp[55]: warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1602:SSL alert number 70:",
		"Nov 28 10:04:00 mx postfix/smtp[55]: 7777: Cannot start TLS: handshake failure",
		"Nov 28 10:04:01 mx postfix/smtp[55]: 7777: to=<a@e.example>, relay=mx.e.example[192.0.2.11]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		/* LMTP bounce, no TLS */
		"Nov 28 10:05:00 mx postfix/lmtp[56]: 8888: to=<u@f.example>, relay=mail.f.example[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host said: 550 unknown user)",
		/* STARTTLS offered but refused: a TLS failure known only from the reason */
		"Nov 28 10:06:00 mx postfix/smtp[58]: AAAA: to=<a@h.example>, relay=mx.h.example[192.0.2.13]:25, delay=1, delays=0/0/0/1, dsn=4.7.0, status=deferred (TLS is required, but host mx.h.example[192.0.2.13] refused to start TLS: 454 4.7.0 TLS not available due to local problem)",
		/* Postfix 2.2 wording */
		"Nov 28 10:06:30 mx postfix/smtp[59]: BBBB: to=<a@i.example>, relay=mx.i.example[192.0.2.14], delay=1, status=deferred (TLS failure: Cannot verify server hostname)",
		/* address verification probes are not deliveries */
		"Nov 28 10:05:01 mx postfix/smtp[57]: 9999: to=<p@g.example>, relay=mx.g.example[192.0.2.12]:25, delay=1, delays=0/0/0/1, dsn=2.1.5, status=deliverable (250 ok)",
		NULL });
	check(deliveries("trusted", "sent") == 2);
	check(deliveries("none", "sent") == 2);    /* 2222 (new session) + 7777 (fallback) */
	check(deliveries("verified", "sent") == 2);
	check(deliveries("none", "deferred") == 5);
	check(deliveries("untrusted", "deferred") == 1);
	check(deliveries("none", "bounced") == 0); /* the LMTP bounce is an internal hop */
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "not_offered") == 2);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "cert_expired") == 1);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "cert_untrusted") == 0);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "handshake_failed") == 1);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "other") == 1);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "hostname_mismatch") == 1);
	Slice hv[] = { SLICE_LIT("postfix"), SLICE_LIT("verified"), SLICE_LIT("TLSv1.3"), SLICE_LIT("TLS_AES_256_GCM_SHA384"), SLICE_LIT("x25519") };
	check(store_get(store, M_OUTBOUND_HANDSHAKES, hv) == 1);
	Slice hu[] = { SLICE_LIT("postfix"), SLICE_LIT("untrusted"), SLICE_LIT("TLSv1.3"), SLICE_LIT("TLS_AES_256_GCM_SHA384"), SLICE_LIT("x25519") };
	check(store_get(store, M_OUTBOUND_HANDSHAKES, hu) == 1);
	teardown();
}

static void test_postscreen(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		/* rejected by postscreen: a session of its own */
		"Nov 28 10:00:00 mx postfix/postscreen[70]: CONNECT from [192.0.2.1]:1000 to [192.0.2.100]:25",
		"Nov 28 10:00:00 mx postfix/postscreen[70]: DISCONNECT [192.0.2.1]:1000",
		/* STARTTLS during the deep tests, through tlsproxy */
		"Nov 28 10:00:01 mx postfix/postscreen[70]: CONNECT from [192.0.2.2]:1001 to [192.0.2.100]:25",
		"Nov 28 10:00:01 mx postfix/tlsproxy[71]: CONNECT from [192.0.2.2]:1001",
		"Nov 28 10:00:01 mx postfix/tlsproxy[71]: Anonymous TLS connection established from [192.0.2.2]:1001: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
		"Nov 28 10:00:02 mx postfix/postscreen[70]: PASS NEW [192.0.2.2]:1001",
		"Nov 28 10:00:02 mx postfix/postscreen[70]: DISCONNECT [192.0.2.2]:1001",
		"Nov 28 10:00:02 mx postfix/tlsproxy[71]: DISCONNECT [192.0.2.2]:1001",
		/* failed handshake in tlsproxy */
		"Nov 28 10:00:03 mx postfix/postscreen[70]: CONNECT from [192.0.2.3]:1002 to [192.0.2.100]:25",
		"Nov 28 10:00:03 mx postfix/tlsproxy[71]: CONNECT from [192.0.2.3]:1002",
		"Nov 28 10:00:03 mx postfix/tlsproxy[71]: warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:../ssl/record/ssl3_record.c:350:",
		"Nov 28 10:00:03 mx postfix/tlsproxy[71]: TLS handshake failed for service=smtpd peer=[192.0.2.3]:1002",
		"Nov 28 10:00:03 mx postfix/tlsproxy[71]: DISCONNECT [192.0.2.3]:1002",
		"Nov 28 10:00:03 mx postfix/postscreen[70]: DISCONNECT [192.0.2.3]:1002",
		/* passed and handed to smtpd: counted by smtpd only */
		"Nov 28 10:00:04 mx postfix/postscreen[70]: CONNECT from [192.0.2.4]:1003 to [192.0.2.100]:25",
		"Nov 28 10:00:04 mx postfix/postscreen[70]: PASS OLD [192.0.2.4]:1003",
		"Nov 28 10:00:04 mx postfix/smtpd[72]: connect from d.example[192.0.2.4]",
		"Nov 28 10:00:05 mx postfix/smtpd[72]: disconnect from d.example[192.0.2.4] ehlo=1 quit=1 commands=2",
		NULL });
	check(sessions("postfix", "plaintext", "false") == 2);
	check(sessions("postfix", "tls", "false") == 1);
	check(sessions("postfix", "starttls_failed", "false") == 1);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "wrong_version_number") == 1);
	Slice c[] = { SLICE_LIT("postfix") };
	check(store_get(store, M_INBOUND_CONNECTIONS, c) == 4);
	check(get0(M_SESSIONS_OPEN) == 0); /* the passed one is smtpd's now */
	/* the passed one never shows up as expired either */
	feed((const char *const[]){ "Nov 28 13:00:00 mx postfix/smtpd[73]: connect from e[192.0.2.5]", NULL });
	check(get0(M_SESSIONS_EXPIRED) == 0);
	teardown();
}

static void test_versions_and_names(void)
{
	setup(100, "^(postfix|mta-in)");
	feed((const char *const[]){
		/* Postfix 2.2-2.4: no trust word, no statistics, queue file = mail */
		"Mar  3 10:15:00 mx postfix/smtpd[2101]: connect from client.example.com[192.0.2.10]",
		"Mar  3 10:15:01 mx postfix/smtpd[2101]: setting up TLS connection from client.example.com[192.0.2.10]",
		"Mar  3 10:15:01 mx postfix/smtpd[2101]: TLS connection established from client.example.com[192.0.2.10]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
		"Mar  3 10:15:02 mx postfix/smtpd[2101]: 4ABC123DEF: client=client.example.com[192.0.2.10]",
		"Mar  3 10:15:03 mx postfix/smtpd[2101]: disconnect from client.example.com[192.0.2.10]",
		/* 3.10: queue-id prefix on lost connection, custom syslog name */
		"2026-11-28T10:00:00+00:00 mx mta-in/smtpd[9]: connect from unknown[198.51.100.9]",
		"2026-11-28T10:00:01+00:00 mx mta-in/smtpd[9]: NOQUEUE: lost connection after STARTTLS from unknown[198.51.100.9]",
		"2026-11-28T10:00:01+00:00 mx mta-in/smtpd[9]: disconnect from unknown[198.51.100.9] ehlo=1 starttls=0/1 commands=1/2",
		/* not Postfix by the configured rule: ignored */
		"2026-11-28T10:00:02+00:00 mx other/smtpd[10]: connect from unknown[198.51.100.10]",
		/* STARTTLS refused without a handshake error line */
		"2026-11-28T10:00:03+00:00 mx mta-in/smtpd[11]: connect from unknown[198.51.100.11]",
		"2026-11-28T10:00:04+00:00 mx mta-in/smtpd[11]: disconnect from unknown[198.51.100.11] ehlo=1 starttls=0/1 quit=1 commands=2/3",
		/* an unknown wording of a TLS line is counted, not guessed */
		"2026-11-28T10:00:05+00:00 mx mta-in/smtpd[12]: Anonymous TLS connection negotiated from h[192.0.2.1]: TLSv1.3",
		"not a syslog line at all",
		NULL });
	check(sessions("postfix", "tls", "true") == 1);
	check(sessions("mta-in", "starttls_failed", "false") == 2);
	check(failures(M_INBOUND_TLS_FAILURES, "mta-in", "starttls_rejected") == 2);
	Slice h[] = { SLICE_LIT("postfix"), SLICE_LIT("unknown"), SLICE_LIT("TLSv1"), SLICE_LIT("DHE-RSA-AES256-SHA"), SLICE_LIT("unknown") };
	check(store_get(store, M_INBOUND_HANDSHAKES, h) == 1);
	Slice other[] = { SLICE_LIT("other") };
	check(store_get(store, M_INBOUND_CONNECTIONS, other) == 0);
	Slice d[] = { SLICE_LIT("smtpd") };
	check(store_get(store, M_UNRECOGNIZED_LINES, d) == 1);
	check(get0(M_MALFORMED_LINES) == 1);
	teardown();
}

static double policy(const char *feature, const char *level, const char *final, const char *state)
{
	Slice l[] = { SLICE_LIT("postfix"), slice_from(feature), slice_from(level), slice_from(final), slice_from(state) };
	return store_get(store, M_OUTBOUND_TLS_POLICY, l);
}

static double unrecognized(const char *daemon)
{
	Slice l[] = { slice_from(daemon) };
	return store_get(store, M_UNRECOGNIZED_LINES, l);
}

/* Postfix 3.11 "tls=" (pol_stats_format()): deliveries count as before,
 * and every feature lands in the policy family. */
static void test_tls_policy_311(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		/* verbatim from postfix-users, 3.11 */
		"Nov 14 10:20:30 list postfix/smtp[793146]: Verified TLS connection established to list.sys4.de[45.90.5.195]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange x25519 server-signature ECDSA (secp384r1) server-digest SHA384",
		"Nov 14 10:20:31 list postfix/smtp[793146]: 01E12901F9D: to=<postfix-users@postfix.org>, relay=list.sys4.de[45.90.5.195]:25, delay=5.4, delays=0.08/0.01/3.5/1.9, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4cbdb56t4MzPjfw)",
		/* opportunistic, server without STARTTLS: used in plaintext */
		"Nov 14 10:21:00 mx postfix/smtp[801]: 1111: to=<a@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, tls=may:none, dsn=2.0.0, status=sent (250 ok)",
		"Nov 14 10:21:00 mx postfix/smtp[801]: 1111: to=<b@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, tls=may:none, dsn=2.0.0, status=sent (250 ok)",
		/* opportunistic DANE without DNSSEC */
		"Nov 14 10:22:00 mx postfix/smtp[802]: 2222: to=<a@b.example>, relay=mx.b.example[192.0.2.8]:25, delay=1, delays=0/0/0.5/0.5, tls=dane:halfdane, dsn=2.0.0, status=sent (250 ok)",
		/* no connection made */
		"Nov 14 10:23:00 mx postfix/smtp[803]: 3333: to=<a@c.example>, relay=none, delay=30, delays=0/0/30/0, tls=may?, dsn=4.4.1, status=deferred (connect to mx.c.example[192.0.2.9]:25: Connection timed out)",
		/* required TLS not offered: blocked, and still one not_offered failure */
		"Nov 14 10:24:00 mx postfix/smtp[804]: 4444: to=<a@d.example>, relay=mx.d.example[192.0.2.10]:25, delay=1, delays=0/0/0.5/0, tls=!encrypt, dsn=4.7.4, status=deferred (TLS is required, but was not offered by host mx.d.example[192.0.2.10])",
		/* REQUIRETLS: compliant, and blocked for lack of STARTTLS */
		"Nov 14 10:25:00 mx postfix/smtp[805]: 5555: to=<a@e.example>, relay=mx.e.example[192.0.2.11]:25, delay=1, delays=0/0/0.5/0.5, tls=verify/requiretls, dsn=2.0.0, status=sent (250 ok)",
		"Nov 14 10:26:00 mx postfix/smtp[806]: 6666: to=<a@f.example>, relay=mx.f.example[192.0.2.12]:25, delay=1, delays=0/0/0.5/0, tls=may?/!requiretls:nostarttls, dsn=5.7.30, status=bounced (Sender requested REQUIRETLS, but TLS service was not offered by host mx.f.example[192.0.2.12])",
		/* LMTP (lmtp_log_tls_feature_status) and a name no release writes */
		"Nov 14 10:27:00 mx postfix/lmtp[807]: 7777: to=<u@g.example>, relay=mail.g.example[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, tls=none, dsn=2.0.0, status=sent (250 2.0.0 Saved)",
		"Nov 14 10:28:00 mx postfix/smtp[808]: 8888: to=<a@h.example>, relay=mx.h.example[192.0.2.13]:25, delay=1, delays=0/0/0.5/0.5, tls=(may), dsn=2.0.0, status=sent (250 ok)",
		NULL });
	check(deliveries("verified", "sent") == 1);
	check(deliveries("none", "sent") == 5); /* not the LMTP delivery: an internal hop */
	check(deliveries("none", "deferred") == 2);
	check(deliveries("none", "bounced") == 1);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "not_offered") == 1);
	check(policy("security_level", "dane", "dane", "satisfied") == 1);
	check(policy("security_level", "may", "none", "downgraded") == 2);
	check(policy("security_level", "dane", "halfdane", "downgraded") == 1);
	check(policy("security_level", "may", "may", "undecided") == 2);
	check(policy("security_level", "encrypt", "encrypt", "blocked") == 1);
	check(policy("security_level", "verify", "verify", "satisfied") == 1);
	check(policy("requiretls", "requiretls", "requiretls", "satisfied") == 1);
	check(policy("requiretls", "requiretls", "nostarttls", "blocked") == 1);
	check(policy("security_level", "none", "none", "satisfied") == 0); /* LMTP: internal */
	check(policy("security_level", "other", "other", "satisfied") == 1);
	check(unrecognized("smtp") == 0 && unrecognized("lmtp") == 0);
	teardown();
}

/* postscreen allowlisting and tlsproxy outcomes logged after postscreen's DISCONNECT. */
static void test_postscreen_tlsproxy_shapes(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		/* allowlisted: handed to smtpd without a PASS line (3.6+ and 2.8-3.5 wordings) */
		"Nov 28 10:00:00 mx postfix/postscreen[70]: CONNECT from [192.0.2.1]:1000 to [192.0.2.100]:25",
		"Nov 28 10:00:00 mx postfix/postscreen[70]: ALLOWLISTED [192.0.2.1]:1000",
		"Nov 28 10:00:00 mx postfix/smtpd[72]: connect from a.example[192.0.2.1]",
		"Nov 28 10:00:01 mx postfix/postscreen[70]: CONNECT from [192.0.2.2]:1001 to [192.0.2.100]:25",
		"Nov 28 10:00:01 mx postfix/postscreen[70]: WHITELISTED [192.0.2.2]:1001",
		NULL });
	check(get0(M_SESSIONS_OPEN) == 1); /* smtpd's session only */
	feed((const char *const[]){
		"Nov 28 10:00:02 mx postfix/smtpd[72]: disconnect from a.example[192.0.2.1] ehlo=1 quit=1 commands=2",
		/* postscreen gives up first; tlsproxy times out the handshake later: one failure */
		"Nov 28 10:00:03 mx postfix/postscreen[70]: CONNECT from [192.0.2.3]:1002 to [192.0.2.100]:25",
		"Nov 28 10:00:04 mx postfix/tlsproxy[71]: CONNECT from [192.0.2.3]:1002",
		"Nov 28 10:00:10 mx postfix/postscreen[70]: DISCONNECT [192.0.2.3]:1002",
		NULL });
	check(get0(M_SESSIONS_OPEN) == 0);
	check(sessions("postfix", "starttls_failed", "false") == 0); /* waits for tlsproxy */
	feed((const char *const[]){
		"Nov 28 10:05:04 mx postfix/tlsproxy[71]: warning: ciphertext read/write timeout for [192.0.2.3]:1002",
		"Nov 28 10:05:04 mx postfix/tlsproxy[71]: TLS handshake failed for service=smtpd peer=[192.0.2.3]:1002",
		"Nov 28 10:05:04 mx postfix/tlsproxy[71]: DISCONNECT [192.0.2.3]:1002",
		NULL });
	check(sessions("postfix", "starttls_failed", "false") == 1);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "timeout") == 1);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "starttls_rejected") == 0);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "other") == 0);
	/* The next two end without tlsproxy's verdict: whatever the inbound
	 * classification makes of that, each is one session and not expired. */
	feed((const char *const[]){
		/* same order, tlsproxy ends without a failure line */
		"Nov 28 10:06:00 mx postfix/postscreen[70]: CONNECT from [192.0.2.4]:1003 to [192.0.2.100]:25",
		"Nov 28 10:06:01 mx postfix/tlsproxy[71]: CONNECT from [192.0.2.4]:1003",
		"Nov 28 10:06:02 mx postfix/postscreen[70]: DISCONNECT [192.0.2.4]:1003",
		"Nov 28 10:06:02 mx postfix/tlsproxy[71]: DISCONNECT [192.0.2.4]:1003",
		/* tlsproxy stays silent: the session ends as it is, it does not expire */
		"Nov 28 10:07:00 mx postfix/postscreen[70]: CONNECT from [192.0.2.5]:1004 to [192.0.2.100]:25",
		"Nov 28 10:07:01 mx postfix/tlsproxy[71]: CONNECT from [192.0.2.5]:1004",
		"Nov 28 10:07:02 mx postfix/postscreen[70]: DISCONNECT [192.0.2.5]:1004",
		NULL });
	check(sessions("postfix", "starttls_failed", "false") + sessions("postfix", "tls", "false") == 2);
	feed((const char *const[]){ "Nov 28 10:20:00 mx postfix/smtpd[73]: connect from e[192.0.2.9]", NULL });
	check(sessions("postfix", "starttls_failed", "false") + sessions("postfix", "tls", "false") == 3);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "timeout") == 1);
	check(failures(M_INBOUND_TLS_FAILURES, "postfix", "other") == 0);
	check(sessions("postfix", "plaintext", "false") == 1); /* the allowlisted one, by smtpd */
	Slice c[] = { SLICE_LIT("postfix") };
	check(store_get(store, M_INBOUND_CONNECTIONS, c) == 5);
	check(get0(M_SESSIONS_OPEN) == 1);
	/* hours later: nothing of the above expired (the allowlisted ones are smtpd's) */
	feed((const char *const[]){ "Nov 28 13:00:00 mx postfix/smtpd[74]: connect from f[192.0.2.10]", NULL });
	check(get0(M_SESSIONS_EXPIRED) == 1); /* smtpd[73] only */
	teardown();
}

/* Postfix 2.5-2.8 log verification failures for opportunistic TLS too. */
static void test_opportunistic_verify_28(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		"Mar  3 10:16:00 mx postfix/smtp[2102]: certificate verification failed for mx.a.example[192.0.2.7]:25: untrusted issuer /C=XX/O=Example CA",
		"Mar  3 10:16:00 mx postfix/smtp[2102]: Untrusted TLS connection established to mx.a.example[192.0.2.7]:25: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
		"Mar  3 10:16:01 mx postfix/smtp[2102]: 4ABC123DEF: to=<a@a.example>, relay=mx.a.example[192.0.2.7]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 Ok)",
		/* enforced (secure level): the connection is not used */
		"Mar  3 10:17:00 mx postfix/smtp[2103]: certificate verification failed for mx.b.example[192.0.2.8]:25: self-signed certificate",
		"Mar  3 10:17:00 mx postfix/smtp[2103]: Untrusted TLS connection established to mx.b.example[192.0.2.8]:25: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
		"Mar  3 10:17:00 mx postfix/smtp[2103]: 5ABC123DEF: Server certificate not verified",
		"Mar  3 10:17:01 mx postfix/smtp[2103]: 5ABC123DEF: to=<a@b.example>, relay=mx.b.example[192.0.2.8]:25, delay=1, delays=0/0/0.5/0, dsn=4.7.5, status=deferred (Server certificate not verified)",
		NULL });
	check(deliveries("untrusted", "sent") == 1);
	check(deliveries("untrusted", "deferred") == 1);
	check(failures(M_OUTBOUND_TLS_FAILURES, "postfix", "cert_untrusted") == 1);
	teardown();
}

/* Harmless lines are classified, not counted as unrecognized; sessions are unaffected. */
static void test_harmless_lines(void)
{
	setup(100, NULL);
	feed((const char *const[]){
		"Jul 24 06:00:00 mx postfix/postscreen[900]: CONNECT from [192.0.2.21]:41030 to [192.0.2.100]:25",
		"Jul 24 06:00:00 mx postfix/postscreen[900]: NOQUEUE: reject: CONNECT from [192.0.2.21]:41030: too many connections",
		"Jul 24 06:00:00 mx postfix/postscreen[900]: DISCONNECT [192.0.2.21]:41030",
		"Jul 24 06:00:01 mx postfix/postscreen[900]: CONNECT from [192.0.2.22]:41031 to [192.0.2.100]:25",
		"Jul 24 06:00:01 mx postfix/postscreen[900]: NOQUEUE: reject: CONNECT from [192.0.2.22]:41031: all server ports busy",
		"Jul 24 06:00:01 mx postfix/postscreen[900]: DISCONNECT [192.0.2.22]:41031",
		"Jul 24 06:00:02 mx postfix/postscreen[900]: CONNECT from [192.0.2.23]:41040 to [192.0.2.100]:25",
		"Jul 24 06:05:02 mx postfix/postscreen[900]: COMMAND TIME LIMIT from [192.0.2.23]:41040 after CONNECT",
		"Jul 24 06:05:02 mx postfix/postscreen[900]: DISCONNECT [192.0.2.23]:41040",
		"Jul 24 06:05:03 mx postfix/postscreen[900]: CONNECT from [192.0.2.24]:41050 to [192.0.2.100]:25",
		"Jul 24 06:05:04 mx postfix/postscreen[900]: NON-SMTP COMMAND from [192.0.2.24]:41050 after CONNECT: GET / HTTP/1.1 GET / HTTP/1.1",
		"Jul 24 06:05:04 mx postfix/postscreen[900]: DISCONNECT [192.0.2.24]:41050",
		/* smtpd_tls_loglevel = 2 and -v */
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: connect from client.example.com[192.0.2.10]",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: > client.example.com[192.0.2.10]: 250-STARTTLS",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: < client.example.com[192.0.2.10]: STARTTLS",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: setting up TLS connection from client.example.com[192.0.2.10]",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: client.example.com[192.0.2.10]: TLS cipher list \"aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH\"",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: SSL_accept:before SSL initialization",
		"Jul 24 06:06:00 mx postfix/smtpd[4110]: SSL_accept:SSLv3/TLS write server hello",
		"Jul 24 06:06:01 mx postfix/smtpd[4110]: Anonymous TLS connection established from client.example.com[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		"Jul 24 06:06:01 mx postfix/smtpd[4110]: discarding EHLO keywords: SILENT-DISCARD",
		"Jul 24 06:06:02 mx postfix/smtpd[4110]: bare <LF> received after DATA from client.example.com[192.0.2.10]",
		"Jul 24 06:06:02 mx postfix/smtpd[4110]: disconnect from client.example.com[192.0.2.10] ehlo=2 starttls=1 mail=1 rcpt=1 data=0/1 commands=5/6",
		/* 2.6 snapshot byte count */
		"Feb 11 09:30:10 mx postfix/smtpd[8812]: connect from client.example.com[192.0.2.11]",
		"Feb 11 09:30:12 mx postfix/smtpd[8812]: lost connection after DATA (approximately 0 bytes) from client.example.com[192.0.2.11]",
		"Feb 11 09:30:12 mx postfix/smtpd[8812]: disconnect from client.example.com[192.0.2.11]",
		/* smtp client notices */
		"Jul 24 06:07:00 mx postfix/smtp[4111]: discarding EHLO keywords: CHUNKING STARTTLS",
		"Jul 24 06:07:00 mx postfix/smtp[4111]: Host offered STARTTLS: [mx1.example.net]",
		"Jul 24 06:07:00 mx postfix/smtp[4111]: SSL_connect:SSLv3/TLS write client hello",
		"Jul 24 06:07:00 mx postfix/smtp[4111]: < mx1.example.net[192.0.2.7]:25: 250-STARTTLS",
		NULL });
	check(unrecognized("postscreen") == 0);
	check(unrecognized("smtpd") == 0);
	check(unrecognized("smtp") == 0);
	check(sessions("postfix", "plaintext", "false") == 5);
	check(sessions("postfix", "tls", "false") == 1);
	check(get0(M_SESSIONS_OPEN) == 0);
	check(get0(M_LINES_READ) == 30);
	teardown();
}

/* host_line - one line of a session on syslog host number h: the first
 * 4 500 names are short, then every other one is 300 bytes long (longer
 * than a queued record carries by number or inline) */
static void host_line(unsigned h, const char *what)
{
	char host[400], line[800];
	if (h < 4500 || h % 2)
		snprintf(host, sizeof(host), "mx%u", h);
	else
		snprintf(host, sizeof(host), "%0300u", h);
	snprintf(line, sizeof(line), "Nov 28 10:00:%02u %s postfix/smtpd[100]: %s", h % 60, host, what);
	ingest_line(in, line, strlen(line));
}

/* Queued records name a syslog host by number, for up to 4 096 of them,
 * and carry further or longer names themselves (ingest.c host_id()). Every
 * host's session has the same PID: a record given the wrong host joins
 * another host's session, and the counts below change. Half the hosts
 * complete TLS. The same in one thread, with the default blocks and with
 * blocks of 512 bytes, which the long names do not fit. */
static void test_pipeline_hosts(void)
{
	enum { HOSTS = 5000 };
	static const size_t blocks[] = { 1, 0, 512 }; /* 1: one thread */
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		setup(2 * HOSTS, NULL);
		if (blocks[b] != 1)
			require(ingest_pipeline_start(in, blocks[b]) == 0);
		for (unsigned h = 0; h < HOSTS; h++)
			host_line(h, "connect from a.example[192.0.2.1]");
		for (unsigned h = 0; h < HOSTS; h += 2)
			host_line(h, "Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with "
				     "cipher TLS_AES_256_GCM_SHA384 (256/256 bits)");
		for (unsigned h = 0; h < HOSTS; h++)
			host_line(h, h % 2 ? "disconnect from a.example[192.0.2.1] ehlo=1 quit=1 commands=2"
					   : "disconnect from a.example[192.0.2.1] ehlo=1 starttls=1 quit=1 commands=3");
		ingest_pipeline_stop(in);
		check(sessions("postfix", "tls", "false") == HOSTS / 2);
		check(sessions("postfix", "plaintext", "false") == HOSTS / 2);
		check(get0(M_SESSIONS_EXPIRED) == 0);
		check(get0(M_SESSIONS_OPEN) == 0);
		check(get0(M_LINES_READ) == HOSTS * 5 / 2);
		teardown();
	}
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_run(test_interleaved_and_pid_reuse);
	test_run(test_expiry_and_limit);
	test_run(test_outbound);
	test_run(test_postscreen);
	test_run(test_versions_and_names);
	test_run(test_tls_policy_311);
	test_run(test_postscreen_tlsproxy_shapes);
	test_run(test_opportunistic_verify_28);
	test_run(test_harmless_lines);
	test_run(test_pipeline_hosts);
	return test_exit();
}

/*
 * rules.c - the rule table (data only). Every pattern cites the Postfix
 * function whose format string it follows; versions are those of
 * the log-format catalogue (Postfix 2.2 - 3.11). Example lines from
 * Postfix 3.7 are verbatim from the corpus; others are built from the
 * format strings. tests/unit/test-rules.c feeds every example through the
 * whole parser and checks that exactly its own rule matches.
 */
#include <stddef.h>

#include "rules.h"

const char *const rules_group_names[_G_MAX] = {
	[G_TRUST] = "trust", [G_USAGE] = "usage", [G_DIR] = "dir", [G_PEER] = "peer",
	[G_SNI] = "sni", [G_PROTO] = "proto", [G_CIPHER] = "cipher", [G_KEX] = "kex",
	[G_KEXPARM] = "kexparm", [G_ERR] = "err", [G_QID] = "qid", [G_REASON] = "reason",
	[G_WHERE] = "where", [G_STATS] = "stats", [G_EP] = "ep", [G_WHAT] = "what",
	[G_WHY] = "why", [G_TO] = "to", [G_RELAY] = "relay", [G_STATUS] = "status",
	[G_PURPOSE] = "purpose", [G_TLSFEAT] = "tlsfeat",
};

#define EX(...) ((const char *const[]){ __VA_ARGS__, NULL })

const Rule rules[_R_MAX] = {
	[R_TLS_SUMMARY] = {
		.id = R_TLS_SUMMARY, .name = "tls_summary",
		.daemons = DAEMON_SMTPD | DAEMON_SMTP | DAEMON_TLSPROXY,
		.contains = "TLS connection ", .within = 10,
		/* 2.2-2.4: no trust word, client peer is a bare host; 2.5-3.3 trust
		 * word; 3.4+ (and 3.0.14/3.1.10/3.2.7/3.3.2) tls_log_summary() with
		 * "reused", SNI " to <name>" (server, 3.4+) and the key-exchange /
		 * signature suffixes (TLS 1.3 only). */
		.pattern = "^(?:(?<trust>Anonymous|Untrusted|Trusted|Verified) )?TLS connection "
			   "(?<usage>established|reused) (?<dir>from|to) (?<peer>\\S+)(?: to (?<sni>[^\\s:]+))?: "
			   "(?<proto>(?:SSL|TLS)v[0-9.]+) with cipher (?<cipher>\\S+) \\(\\d+/\\d+ bits\\)"
			   "(?: key-exchange (?<kex>\\S+)(?: \\((?<kexparm>[^)]*)\\))?)?"
			   "(?: server-signature \\S+(?: \\([^)]*\\))?(?: server-digest \\S+)?)?"
			   "(?: client-signature \\S+(?: \\([^)]*\\))?(?: client-digest \\S+)?)?$",
		.source = "tls/tls_misc.c tls_log_summary() (3.4+); tls/tls_server.c tls_server_post_accept(), "
			  "tls/tls_client.c tls_client_start() (2.2-3.3)",
		.examples = EX(
			"Nov 28 15:48:47 mx1 postfix/smtpd[24818]: Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
			"Nov 28 15:48:47 mx1 postfix/smtpd[24782]: Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
			"Nov 28 15:48:53 mx1 postfix/smtpd[24876]: Trusted TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256 client-signature ECDSA (prime256v1) client-digest SHA256",
			"Nov 28 15:48:53 mx1 postfix/smtpd[24782]: Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange ECDHE (prime256v1) server-signature RSA-PSS (2048 bits) server-digest SHA256",
			"Nov 28 15:48:37 mx1 postfix/smtp[24808]: Trusted TLS connection reused to 127.0.0.1[127.0.0.1]:2602: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)",
			"Nov 28 15:48:47 mx1 postfix/smtp[24823]: Anonymous TLS connection established to 127.0.0.1[127.0.0.1]:2602: TLSv1.2 with cipher ADH-AES256-GCM-SHA384 (256/256 bits)",
			"Nov 28 15:48:47 mx1 postfix/tlsproxy[24807]: Anonymous TLS connection established from [127.0.0.1]:55444: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
			"Jul  4 09:00:04 mx postfix/smtpd[5104]: Untrusted TLS connection established from client.example.com[192.0.2.10]:50312 to mail.example.org: TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange secp256r1 server-signature RSA-PSS (4096 bits) server-digest SHA256 client-signature RSA-PSS (2048 bits) client-digest SHA256",
			"Jul  4 09:00:05 mx postfix/smtp[5105]: Verified TLS connection reused to mx1.example.net[192.0.2.7]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange x25519",
			"Mar  3 10:15:01 mx postfix/smtpd[2101]: TLS connection established from client.example.com[192.0.2.10]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
			"Mar  3 10:16:02 mx postfix/smtp[2102]: TLS connection established to smtp.example.net: TLSv1 with cipher AES256-SHA (256/256 bits)",
			"Jun  2 08:00:09 mx postfix/smtpd[3309]: Anonymous TLS connection established from unknown[2001:db8::25]: TLSv1.3 with cipher AEAD-AES256-GCM-SHA384 (256/256 bits) server-signature RSA-PSS (4096 bits) server-digest SHA256"),
	},
	[R_CONNECT] = {
		.id = R_CONNECT, .name = "connect", .daemons = DAEMON_SMTPD, .prefix = "connect from ",
		.pattern = "^connect from (?<peer>\\S+)$",
		.source = "smtpd/smtpd.c smtpd_service() \"connect from %s\" (2.2+)",
		.examples = EX(
			"Nov 28 15:48:34 mx1 postfix/smtpd[24782]: connect from localhost[127.0.0.1]",
			"2026-11-28T15:48:48.101010+00:00 mx1 postfix/submission/smtpd[24825]: connect from localhost[127.0.0.1]",
			"Jul  4 09:05:01 mx postfix/smtpd[1234]: connect from unknown[2001:db8::1]"),
	},
	[R_DISCONNECT] = {
		.id = R_DISCONNECT, .name = "disconnect", .daemons = DAEMON_SMTPD, .prefix = "disconnect from ",
		.pattern = "^disconnect from (?<peer>\\S+)(?<stats>(?: [a-z]+=\\d+(?:/\\d+)?)*)(?: notes=\\S+)?$",
		.source = "smtpd/smtpd.c smtpd_service(), smtpd_format_cmd_stats() (stats 3.0+, notes= 3.9+)",
		.examples = EX(
			"Nov 28 15:48:34 mx1 postfix/smtpd[24782]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
			"Nov 28 15:48:47 mx1 postfix/smtpd[24818]: disconnect from localhost[127.0.0.1] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7",
			"Nov 28 15:49:14 mx1 postfix/smtps/smtpd[24887]: disconnect from localhost[127.0.0.1] commands=0/0",
			"Jul 24 04:40:05 mx postfix/smtpd[30605]: disconnect from mail.example.com[192.0.2.11] ehlo=1 mail=1 rcpt=1 bdat=2 quit=1 commands=6 notes=bare_lf",
			"Mar  3 10:15:09 mx postfix/smtpd[2101]: disconnect from client.example.com[192.0.2.10]"),
	},
	[R_ABNORMAL_END] = {
		.id = R_ABNORMAL_END, .name = "abnormal_end", .daemons = DAEMON_SMTPD, .contains = " after ", .within = 32,
		.pattern = "^(?:(?<qid>[0-9A-Za-z]+|NOQUEUE): )?(?<reason>lost connection|timeout|too many errors|bare <LF> received) after "
			   "(?<where>[A-Z-]+(?: content)?)(?: \\((?:approximately )?\\d+ bytes\\))? from (?<peer>\\S+)$",
		.source = "smtpd/smtpd.c smtpd_proto() \"%s after %s from %s\" (2.2+; queue-id prefix 3.10+; "
			  "\"(approximately %lu bytes)\" in 2.6 snapshots 20080629-20090403; reason REASON_BARE_LF "
			  "\"bare <LF> received\" 3.5.23, 3.6.13, 3.7.9, 3.8.4, 3.9+)",
		.examples = EX(
			"Nov 28 15:48:58 mx1 postfix/submission/smtpd[24825]: lost connection after STARTTLS from localhost[127.0.0.1]",
			"Nov 28 15:48:47 mx1 postfix/smtpd[24815]: timeout after CONNECT from localhost[127.0.0.1]",
			"Jul 24 04:41:30 mx postfix/smtpd[30607]: too many errors after RCPT from unknown[198.51.100.9]",
			"Jul 24 04:42:30 mx postfix/smtpd[30608]: 4ABC123DEF: lost connection after DATA (1234 bytes) from client.example.com[192.0.2.10]",
			"Jul 24 04:40:02 mx postfix/smtpd[30600]: NOQUEUE: lost connection after STARTTLS from client.example.com[192.0.2.10]",
			"Feb 11 09:30:12 mx postfix/smtpd[8812]: lost connection after DATA (approximately 0 bytes) from client.example.com[192.0.2.10]",
			"Jan  8 11:02:40 mx postfix/smtpd[4410]: bare <LF> received after DATA from client.example.com[192.0.2.10]",
			"Jul 24 04:44:00 mx postfix/smtpd[30611]: 4ABC123DEF: bare <LF> received after DATA from client.example.com[192.0.2.10]"),
	},
	[R_SSL_ACCEPT_ERROR] = {
		.id = R_SSL_ACCEPT_ERROR, .name = "ssl_accept_error", .daemons = DAEMON_SMTPD,
		.prefix = "SSL_accept error from ",
		.pattern = "^SSL_accept error from (?<peer>\\S+): (?<err>.+)$",
		.source = "tls/tls_server.c tls_server_start() \"SSL_accept error from %s: %d\" (2.2+), \": %m\" and \": lost connection\" (2.9+)",
		.examples = EX(
			"Nov 28 15:48:51 mx1 postfix/smtpd[24782]: SSL_accept error from localhost[127.0.0.1]: -1",
			"Nov 28 15:48:52 mx1 postfix/smtpd[24782]: SSL_accept error from localhost[127.0.0.1]: lost connection",
			"Nov 28 15:48:53 mx1 postfix/smtps/smtpd[24883]: SSL_accept error from localhost[127.0.0.1]: Connection timed out",
			"Nov 28 15:48:54 mx1 postfix/smtpd[24782]: SSL_accept error from localhost[127.0.0.1]: Connection reset by peer"),
	},
	[R_SSL_CONNECT_ERROR] = {
		.id = R_SSL_CONNECT_ERROR, .name = "ssl_connect_error", .daemons = DAEMON_SMTP,
		.prefix = "SSL_connect error to ",
		.pattern = "^SSL_connect error to (?<peer>\\S+): (?<err>.+)$",
		.source = "tls/tls_client.c tls_client_start() \"SSL_connect error to %s: %d\" (2.2+), \": %m\" (2.9+)",
		.examples = EX(
			"Nov 28 15:48:47 mx1 postfix/smtp[24829]: SSL_connect error to 127.0.0.1[127.0.0.1]:2604: -1",
			"Jul 24 05:00:00 mx postfix/smtp[4100]: SSL_connect error to mx1.example.net[192.0.2.7]:25: lost connection"),
	},
	[R_TLS_LIBRARY_PROBLEM] = {
		.id = R_TLS_LIBRARY_PROBLEM, .name = "tls_library_problem",
		.daemons = DAEMON_SMTPD | DAEMON_SMTP | DAEMON_TLSPROXY,
		.prefix = "warning: TLS library problem: ",
		.pattern = "^warning: TLS library problem: (?:\\d+:)?(?<err>.*)$",
		.source = "tls/tls_misc.c tls_print_errors() (thread id prefix 2.2-2.10)",
		.examples = EX(
			"Nov 28 15:48:51 mx1 postfix/smtpd[24782]: warning: TLS library problem: error:0A0000C1:SSL routines::no shared cipher:../ssl/statem/statem_srvr.c:2226:",
			"Nov 28 15:48:47 mx1 postfix/smtp[24829]: warning: TLS library problem: error:0A00042E:SSL routines::tlsv1 alert protocol version:../ssl/record/rec_layer_s3.c:1602:SSL alert number 70:",
			"Nov 28 15:49:11 mx1 postfix/tlsproxy[24807]: warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:../ssl/record/ssl3_record.c:350:",
			"Mar  3 10:15:01 mx postfix/smtpd[2101]: warning: TLS library problem: 2101:error:1408A0C1:SSL routines:SSL3_GET_CLIENT_HELLO:no shared cipher:s3_srvr.c:1352:"),
	},
	[R_CLIENT] = {
		.id = R_CLIENT, .name = "client", .daemons = DAEMON_SMTPD, .contains = ": client=", .within = 20,
		.pattern = "^(?<qid>[0-9A-Za-z]+): client=(?<peer>[^,\\s]+)",
		.source = "smtpd/smtpd.c mail_open_stream() \"%s: client=%s\" (2.2+)",
		.examples = EX(
			"Nov 28 15:48:34 mx1 postfix/smtpd[24782]: 696E910C167: client=localhost[127.0.0.1]",
			"Nov 28 15:48:48 mx1 postfix/submission/smtpd[24825]: 1811E10C172: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice@mx1.example.test"),
	},
	[R_TLS_ABORT] = {
		.id = R_TLS_ABORT, .name = "tls_abort", .daemons = DAEMON_SMTPD, .contains = ": abort: TLS from ", .within = 20,
		.pattern = "^(?<qid>[0-9A-Za-z]+|NOQUEUE): abort: TLS from (?<peer>\\S+): (?<why>.+)$",
		.source = "smtpd/smtpd.c smtpd_start_tls() / tls_reset(), smtpd_tls_req_ccert (2.2+)",
		.examples = EX(
			"Nov 28 15:48:59 mx1 postfix/smtpd[24782]: NOQUEUE: abort: TLS from localhost[127.0.0.1]: No client certificate presented",
			"Nov 28 15:49:00 mx1 postfix/smtpd[24782]: NOQUEUE: abort: TLS from localhost[127.0.0.1]: Client certificate not trusted"),
	},
	[R_TLSPROXY_ENDPOINT] = {
		.id = R_TLSPROXY_ENDPOINT, .name = "tlsproxy_endpoint", .daemons = DAEMON_TLSPROXY,
		.contains = "CONNECT ", .within = 0,
		.pattern = "^(?<what>CONNECT from|CONNECT to|DISCONNECT) (?<ep>\\[[^\\]]+\\]:\\d+)$",
		.source = "tlsproxy/tlsproxy.c tlsp_… \"CONNECT %s %s\", tlsproxy_state.c tlsp_state_free() \"DISCONNECT %s\" (2.8+; \"CONNECT to\" 3.4+)",
		.examples = EX(
			"Nov 28 15:48:47 mx1 postfix/tlsproxy[24807]: CONNECT from [127.0.0.1]:55444",
			"Nov 28 15:48:37 mx1 postfix/tlsproxy[24807]: CONNECT to [127.0.0.1]:2602",
			"Nov 28 15:48:37 mx1 postfix/tlsproxy[24807]: DISCONNECT [127.0.0.1]:2602"),
	},
	[R_TLSPROXY_HANDSHAKE_FAILED] = {
		.id = R_TLSPROXY_HANDSHAKE_FAILED, .name = "tlsproxy_handshake_failed", .daemons = DAEMON_TLSPROXY,
		.prefix = "TLS handshake failed for ",
		.pattern = "^TLS handshake failed for service=\\S+ peer=(?<ep>\\S+)$",
		.source = "tlsproxy/tlsproxy.c tlsp_eval_tls_error() (3.x)",
		.examples = EX(
			"Nov 28 15:49:11 mx1 postfix/tlsproxy[24807]: TLS handshake failed for service=smtpd peer=[127.0.0.1]:60114"),
	},
	[R_POSTSCREEN_CONNECT] = {
		.id = R_POSTSCREEN_CONNECT, .name = "postscreen_connect", .daemons = DAEMON_POSTSCREEN,
		.prefix = "CONNECT from ",
		.pattern = "^CONNECT from (?<ep>\\[[^\\]]+\\]:\\d+)(?: to \\[[^\\]]+\\]:\\d+)?$",
		.source = "postscreen/postscreen.c psc_service() \"CONNECT from [%s]:%s to [%s]:%s\" (2.9+; 2.8 without \"to\")",
		.examples = EX(
			"Nov 28 15:48:42 mx1 postfix/postscreen[24814]: CONNECT from [127.0.0.1]:55442 to [127.0.0.1]:2527",
			"Jul 24 06:00:00 mx postfix/postscreen[900]: CONNECT from [2001:db8::10]:50312"),
	},
	[R_POSTSCREEN_PASS] = {
		.id = R_POSTSCREEN_PASS, .name = "postscreen_pass", .daemons = DAEMON_POSTSCREEN, .prefix = "PASS ",
		.pattern = "^PASS (?:NEW|OLD) (?<ep>\\[[^\\]]+\\]:\\d+)$",
		.source = "postscreen/postscreen_misc.c psc_conclude(), postscreen.c \"PASS NEW|OLD [%s]:%s\" (2.8+)",
		.examples = EX(
			"Nov 28 15:48:47 mx1 postfix/postscreen[24814]: PASS NEW [127.0.0.1]:55444",
			"Nov 28 15:48:47 mx1 postfix/postscreen[24814]: PASS OLD [127.0.0.1]:59024"),
	},
	[R_POSTSCREEN_DISCONNECT] = {
		.id = R_POSTSCREEN_DISCONNECT, .name = "postscreen_disconnect", .daemons = DAEMON_POSTSCREEN,
		.prefix = "DISCONNECT ",
		.pattern = "^DISCONNECT (?<ep>\\[[^\\]]+\\]:\\d+)$",
		.source = "postscreen/postscreen_misc.c psc_conclude() \"DISCONNECT [%s]:%s\" (2.8+)",
		.examples = EX(
			"Nov 28 15:48:45 mx1 postfix/postscreen[24814]: DISCONNECT [127.0.0.1]:55442"),
	},
	[R_VERIFY_FAILED] = {
		.id = R_VERIFY_FAILED, .name = "verify_failed", .daemons = DAEMON_SMTP | DAEMON_SMTPD | DAEMON_TLSPROXY,
		.contains = "verification failed for ", .within = 24,
		.pattern = "^(?:(?<purpose>server|client|CA) )?certificate (?:peer name )?verification failed for (?<peer>\\S+): ?(?<why>.+)$",
		.source = "tls/tls_verify.c tls_log_verify_error() (2.11+), tls_verify_certificate_callback() (2.5-2.10)",
		.examples = EX(
			"Nov 28 15:48:50 mx1 postfix/smtp[24847]: certificate verification failed for 127.0.0.1[127.0.0.1]:2600: self-signed certificate",
			"Nov 28 15:49:10 mx1 postfix/smtp[24847]: certificate verification failed for 127.0.0.1[127.0.0.1]:2605: untrusted issuer /O=Untrusted Corp/CN=Untrusted Corp Issuing CA",
			"Nov 28 15:49:12 mx1 postfix/smtp[24847]: server certificate verification failed for 127.0.0.1[127.0.0.1]:2606: certificate has expired",
			"Nov 28 15:49:13 mx1 postfix/smtp[25014]: server certificate verification failed for 127.0.0.1[127.0.0.1]:2602: num=62:hostname mismatch"),
	},
	[R_DELIVERY] = {
		.id = R_DELIVERY, .name = "delivery", .daemons = DAEMON_SMTP, .contains = ": to=<", .within = 20,
		.pattern = "^(?<qid>[0-9A-Za-z]+): to=<(?<to>[^>]*)>,(?: orig_to=<[^>]*>,)? relay=(?<relay>[^,]+),"
			   "(?: conn_use=\\d+,)? delay=[0-9.]+,(?: delays=[0-9./]+,(?: tls=(?<tlsfeat>[^,\\s]+),)? dsn=[0-9.]+,)? "
			   "status=(?<status>\\S+) \\((?<reason>.*)\\)$",
		.source = "global/log_adhoc.c log_adhoc() (2.3+ with delays=/dsn=/conn_use=; 2.2 without); "
			  "\"tls=\" from global/pol_stats.c pol_stats_format() (3.11+, smtp_log_tls_feature_status = yes)",
		.examples = EX(
			"Nov 28 15:48:37 mx1 postfix/smtp[24797]: 8507A10C169: to=<rcpt2@out-cached.example.test>, relay=127.0.0.1[127.0.0.1]:2601, delay=2.5, delays=1.8/0.02/0.05/0.64, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 7034D11A07D)",
			"Nov 28 15:48:37 mx1 postfix/smtp[24804]: 696E910C167: to=<rcpt1@out-cached.example.test>, relay=127.0.0.1[127.0.0.1]:2601, conn_use=2, delay=2.8, delays=2/0.8/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 2C94911A07D)",
			"Nov 28 15:49:23 mx1 postfix/smtp[24861]: B764210C199: to=<rcpt1@out-refused.example.test>, relay=none, delay=0, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2699: Connection refused)",
			"Mar  3 10:16:03 mx postfix/smtp[2102]: 4ABC123DEF: to=<b@example.org>, relay=smtp.example.net[192.0.2.8], delay=1, status=sent (250 Ok)",
			"Jul 24 05:03:00 mx postfix/lmtp[4103]: 4ABC123DEF: to=<b@example.org>, orig_to=<c@example.org>, relay=mail.example.org[private/dovecot-lmtp], delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host mail.example.org[private/dovecot-lmtp] said: 550 5.1.1 unknown user (in reply to RCPT TO command))",
			"Nov 14 10:20:31 list postfix/smtp[793146]: 01E12901F9D: to=<postfix-users@postfix.org>, relay=list.sys4.de[45.90.5.195]:25, delay=5.4, delays=0.08/0.01/3.5/1.9, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4cbdb56t4MzPjfw)",
			"Nov 14 10:21:00 mx postfix/smtp[4104]: 4ABC123DEF: to=<b@example.org>, relay=mx1.example.org[192.0.2.7]:25, conn_use=2, delay=1.2, delays=0.1/0/0.6/0.5, tls=may:none, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
			"Nov 14 10:22:00 mx postfix/smtp[4105]: 4ABC123DEF: to=<b@example.org>, relay=mx1.example.org[192.0.2.7]:25, delay=1.2, delays=0.1/0/0.6/0.5, tls=may?/!requiretls:nostarttls, dsn=5.7.30, status=bounced (Sender requested REQUIRETLS, but TLS service was not offered by host mx1.example.org[192.0.2.7])",
			"Nov 14 10:23:00 mx postfix/smtp[4106]: 4ABC123DEF: to=<b@example.org>, relay=none, delay=30, delays=0/0/30/0, tls=may?, dsn=4.4.1, status=deferred (connect to mx1.example.org[192.0.2.7]:25: Connection timed out)"),
	},
	[R_NONFINAL] = {
		.id = R_NONFINAL, .name = "nonfinal", .daemons = DAEMON_SMTP, .contains = ": ", .within = 20,
		.pattern = "^(?<qid>[0-9A-Za-z]+): (?<reason>Cannot start TLS: handshake failure|TLS is required, .*|Server certificate not (?:verified|trusted)|TLS failure: .*)$",
		.source = "smtp/smtp_proto.c smtp_helo(), smtp_start_tls(); smtp/smtp_trouble.c smtp_misc_fail()",
		.examples = EX(
			"Nov 28 15:50:30 mx1 postfix/smtp[25351]: 24F9E10C174: Cannot start TLS: handshake failure",
			"Jul 24 05:01:00 mx postfix/smtp[4101]: 4ABC123DEF: TLS is required, but was not offered by host mx1.example.net[192.0.2.7]"),
	},
	[R_TLS_SETUP] = {
		.id = R_TLS_SETUP, .name = "tls_setup", .daemons = DAEMON_SMTPD | DAEMON_SMTP | DAEMON_TLSPROXY,
		.prefix = "setting up TLS connection ",
		.pattern = "^setting up TLS connection (?:from|to) \\S+$",
		.source = "tls/tls_server.c, tls/tls_client.c (loglevel 1 in 2.2-2.8)",
		.examples = EX("Mar  3 10:15:01 mx postfix/smtpd[2101]: setting up TLS connection from client.example.com[192.0.2.10]"),
	},
	[R_LEGACY_CERT] = {
		.id = R_LEGACY_CERT, .name = "legacy_cert", .daemons = DAEMON_SMTPD | DAEMON_SMTP,
		.contains = "subject_CN=", .within = 48,
		.pattern = "^(?:Verified|Unverified|Peer certificate|Trusted|Untrusted)[: ].*subject_CN=",
		.source = "tls/tls_client.c, tls/tls_server.c peer certificate summary (2.2-2.4; loglevel 2 later)",
		.examples = EX("Mar  3 10:16:02 mx postfix/smtp[2102]: Verified: subject_CN=smtp.example.net, issuer=Example CA"),
	},
	[R_PIPELINING] = {
		.id = R_PIPELINING, .name = "pipelining", .daemons = DAEMON_SMTPD,
		.prefix = "improper command pipelining after ",
		.pattern = "^improper command pipelining after \\S+ from \\S+(?: .*)?$",
		.source = "smtpd/smtpd.c smtpd_proto() (2.6+)",
		.examples = EX("Jul 24 04:43:00 mx postfix/smtpd[30609]: improper command pipelining after CONNECT from unknown[198.51.100.9]: EHLO example.com\\r\\n"),
	},
	[R_TLS_SNI] = {
		.id = R_TLS_SNI, .name = "tls_sni", .daemons = DAEMON_SMTPD | DAEMON_TLSPROXY, .contains = "TLS SNI ", .within = 9,
		.pattern = "^(?:warning: )?TLS SNI ",
		.source = "tls/tls_misc.c server_sni_callback() (3.4+)",
		.examples = EX("Jul  4 09:00:06 mx postfix/smtpd[5106]: warning: TLS SNI from client.example.com[192.0.2.10] is invalid: bad.example"),
	},
	[R_TLS_WARNING] = {
		.id = R_TLS_WARNING, .name = "tls_warning", .daemons = DAEMON_TLSPROXY,
		.prefix = "warning: ",
		.pattern = "^warning: (?<what>ciphertext read/write (?:timeout|error)|deadlock on (?:plaintext|ciphertext) stream) for ",
		.source = "tlsproxy/tlsproxy.c tlsp_strategy() warnings (2.8+)",
		.examples = EX("Jul 24 06:00:09 mx postfix/tlsproxy[901]: warning: ciphertext read/write timeout for [192.0.2.10]:50312"),
	},
	[R_POSTSCREEN_ALLOWLISTED] = {
		/* Permanently allowlisted: handed to smtpd like "PASS OLD", but
		 * psc_conclude() logs no PASS line for it. */
		.id = R_POSTSCREEN_ALLOWLISTED, .name = "postscreen_allowlisted", .daemons = DAEMON_POSTSCREEN,
		.contains = "LISTED ", .within = 5,
		.pattern = "^(?:WHITE|ALLOW)LISTED (?<ep>\\[[^\\]]+\\]:\\d+)$",
		.source = "postscreen/postscreen.c psc_endpt_lookup_done() \"WHITELISTED [%s]:%s\" (2.8+; 3.6+ only with "
			  "respectful_logging = no), \"ALLOWLISTED [%s]:%s\" (3.6+)",
		.examples = EX(
			"Jul 24 06:01:00 mx postfix/postscreen[900]: WHITELISTED [192.0.2.20]:41022",
			"Jul 24 06:01:01 mx postfix/postscreen[900]: ALLOWLISTED [2001:db8::20]:41023"),
	},
	[R_POSTSCREEN_CONNECT_REJECT] = {
		/* Ignored: PSC_DROP_SESSION_STATE() -> psc_conclude() logs the
		 * DISCONNECT that ends the session. */
		.id = R_POSTSCREEN_CONNECT_REJECT, .name = "postscreen_connect_reject", .daemons = DAEMON_POSTSCREEN,
		.prefix = "NOQUEUE: reject: CONNECT from ",
		.pattern = "^NOQUEUE: reject: CONNECT from \\[[^\\]]+\\]:\\d+: (?:too many connections|all server ports busy)$",
		.source = "postscreen/postscreen.c psc_endpt_lookup_done() \"NOQUEUE: reject: CONNECT from [%s]:%s: "
			  "too many connections\" / \"...: all server ports busy\" (2.8+)",
		.examples = EX(
			"Jul 24 06:02:00 mx postfix/postscreen[900]: NOQUEUE: reject: CONNECT from [192.0.2.21]:41030: too many connections",
			"Jul 24 06:02:01 mx postfix/postscreen[900]: NOQUEUE: reject: CONNECT from [192.0.2.22]:41031: all server ports busy"),
	},
	[R_POSTSCREEN_COMMAND_LIMIT] = {
		/* Ignored: the session ends with DISCONNECT (PSC_CLEAR_EVENT_DROP_SESSION_STATE). */
		.id = R_POSTSCREEN_COMMAND_LIMIT, .name = "postscreen_command_limit", .daemons = DAEMON_POSTSCREEN,
		.prefix = "COMMAND TIME LIMIT from ",
		.pattern = "^COMMAND TIME LIMIT from \\[[^\\]]+\\]:\\d+(?: after \\S+)?$",
		.source = "postscreen/postscreen_smtpd.c psc_smtpd_time_event() \"COMMAND TIME LIMIT from [%s]:%s\" (2.8), "
			  "\"... after %s\" (2.9+)",
		.examples = EX(
			"Jul 24 06:03:00 mx postfix/postscreen[900]: COMMAND TIME LIMIT from [192.0.2.23]:41040 after CONNECT",
			"Mar  3 10:20:00 mx postfix/postscreen[901]: COMMAND TIME LIMIT from [192.0.2.23]:41041"),
	},
	[R_POSTSCREEN_NON_SMTP] = {
		/* Ignored: a failed protocol test; the session ends with DISCONNECT or is handed on. */
		.id = R_POSTSCREEN_NON_SMTP, .name = "postscreen_non_smtp", .daemons = DAEMON_POSTSCREEN,
		.prefix = "NON-SMTP COMMAND from ",
		.pattern = "^NON-SMTP COMMAND from \\[[^\\]]+\\]:\\d+ .*$",
		.source = "postscreen/postscreen_smtpd.c psc_smtpd_read_event() \"NON-SMTP COMMAND from [%s]:%s %.100s\" (2.8), "
			  "\"... after %s: %.100s %s\" (2.9+)",
		.examples = EX(
			"Jul 24 06:04:00 mx postfix/postscreen[900]: NON-SMTP COMMAND from [192.0.2.24]:41050 after CONNECT: GET / HTTP/1.1 GET / HTTP/1.1",
			"Mar  3 10:21:00 mx postfix/postscreen[901]: NON-SMTP COMMAND from [192.0.2.24]:41051 Subject: hello"),
	},
	[R_EHLO_DISCARD] = {
		/* Ignored: smtp(8)/smtpd(8) configuration notice (smtp_discard_ehlo_keywords). */
		.id = R_EHLO_DISCARD, .name = "ehlo_discard", .daemons = DAEMON_SMTP | DAEMON_SMTPD,
		.prefix = "discarding EHLO keywords: ",
		.pattern = "^discarding EHLO keywords: .*$",
		.source = "smtp/smtp_proto.c smtp_helo(), smtpd/smtpd.c ehlo_cmd() \"discarding EHLO keywords: %s\" (2.2+)",
		.examples = EX(
			"Jul 24 05:04:00 mx postfix/smtp[4107]: discarding EHLO keywords: CHUNKING STARTTLS",
			"Jul 24 05:04:01 mx postfix/smtpd[4108]: discarding EHLO keywords: SILENT-DISCARD STARTTLS"),
	},
	[R_STARTTLS_OFFERED] = {
		/* Ignored: smtp_tls_note_starttls_offer = yes; the delivery line tells the outcome. */
		.id = R_STARTTLS_OFFERED, .name = "starttls_offered", .daemons = DAEMON_SMTP,
		.prefix = "Host offered STARTTLS: [",
		.pattern = "^Host offered STARTTLS: \\[[^\\]]*\\]$",
		.source = "smtp/smtp_proto.c smtp_helo() \"Host offered STARTTLS: [%s]\" (2.2+)",
		.examples = EX("Jul 24 05:05:00 mx postfix/smtp[4109]: Host offered STARTTLS: [mx1.example.net]"),
	},
	[R_TLS_STATE_TRACE] = {
		/* Ignored: smtpd/smtp/tlsproxy_tls_loglevel >= 2 handshake trace; the
		 * summary or the error line that follows carries the outcome. */
		.id = R_TLS_STATE_TRACE, .name = "tls_state_trace", .daemons = DAEMON_SMTPD | DAEMON_SMTP | DAEMON_TLSPROXY,
		.prefix = "SSL",
		.pattern = "^(?:SSL_accept|SSL_connect):|^SSL3 alert (?:read|write):",
		.source = "tls/tls_misc.c tls_info_callback() \"%s:%s\", \"%s:failed in %s\", \"%s:error in %s\", "
			  "\"SSL3 alert %s:%s:%s\" (2.2+, loglevel 2)",
		.examples = EX(
			"Jul 24 05:06:00 mx postfix/smtpd[4110]: SSL_accept:SSLv3/TLS write server hello",
			"Jul 24 05:06:01 mx postfix/smtpd[4110]: SSL_accept:error in SSLv3/TLS write finished",
			"Jul 24 05:06:02 mx postfix/smtp[4111]: SSL_connect:SSLv3/TLS read server certificate",
			"Jul 24 05:06:03 mx postfix/smtpd[4110]: SSL3 alert write:fatal:handshake failure"),
	},
	[R_TLS_CIPHER_LIST] = {
		/* Ignored: loglevel 2 (TLS_LOG_VERBOSE) detail. */
		.id = R_TLS_CIPHER_LIST, .name = "tls_cipher_list", .daemons = DAEMON_SMTPD | DAEMON_SMTP | DAEMON_TLSPROXY,
		.contains = ": TLS cipher list \"", .within = 300, /* after the peer name */
		.pattern = "^\\S+: TLS cipher list \"[^\"]*\"$",
		.source = "tls/tls_server.c tls_server_start(), tls/tls_client.c tls_client_start() "
			  "\"%s: TLS cipher list \\\"%s\\\"\" (2.5+, loglevel 2)",
		.examples = EX(
			"Jul 24 05:07:00 mx postfix/smtpd[4112]: client.example.com[192.0.2.10]: TLS cipher list \"aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH\"",
			"Jul 24 05:07:01 mx postfix/smtp[4113]: mx1.example.net[192.0.2.7]:25: TLS cipher list \"aNULL:-aNULL:ALL:!EXPORT:!LOW:+RC4:@STRENGTH\""),
	},
	[R_SMTP_CHAT] = {
		/* Ignored: "-v" / debug_peer_list protocol trace, "> " sent and "< "
		 * received; the literal filter is the space after the arrow. */
		.id = R_SMTP_CHAT, .name = "smtp_chat", .daemons = DAEMON_SMTPD | DAEMON_SMTP,
		.contains = " ", .within = 1,
		.pattern = "^[<>] \\S+: ",
		.source = "smtpd/smtpd_chat.c smtpd_chat_query_limit() (smtpd_chat_query() before 3.4), vsmtpd_chat_reply(); smtp/smtp_chat.c smtp_chat_cmd(), "
			  "smtp_chat_resp() \"> %s: %s\", \"< %s: %s\" (2.2+, verbose only)",
		.examples = EX(
			"Jul 24 05:08:00 mx postfix/smtpd[4114]: > client.example.com[192.0.2.10]: 250-STARTTLS",
			"Jul 24 05:08:01 mx postfix/smtpd[4114]: < client.example.com[192.0.2.10]: STARTTLS",
			"Jul 24 05:08:02 mx postfix/smtp[4115]: < mx1.example.net[192.0.2.7]:25: 250-STARTTLS"),
	},
};

/* What makes a line relevant (and its absence from every rule a finding). */
const RelevanceRule rules_relevance[] = {
	{ DAEMON_SMTPD, "TLS" },
	{ DAEMON_SMTPD, "SSL" },
	{ DAEMON_SMTPD, "connect from " },
	{ DAEMON_SMTPD, " after " },
	{ DAEMON_SMTPD, ": client=" },
	{ DAEMON_SMTP, "TLS" },
	{ DAEMON_SMTP, "SSL" },
	{ DAEMON_SMTP, ": to=<" },
	{ DAEMON_SMTP, "certificate" },
	{ DAEMON_TLSPROXY, "TLS" },
	{ DAEMON_TLSPROXY, "CONNECT" },
	{ DAEMON_TLSPROXY, "certificate" },
	{ DAEMON_POSTSCREEN, "CONNECT" },
	{ DAEMON_POSTSCREEN, "PASS " },
};
const unsigned rules_n_relevance = sizeof(rules_relevance) / sizeof(rules_relevance[0]);

/*
 * test-rules.c - every example line of every rule goes through the header
 * scanner and the rule engine, and matches exactly its own rule; no rule
 * shadows another; and the full corpus leaves nothing unrecognized.
 */
#include "../harness.h"

#include "logline.h"
#include "parse.h"
#include "rules.h"
#include "session.h"
#include "util.h"

static uint32_t class_of(Slice prog)
{
	Slice name, daemon;
	require(logline_split_prog(prog, &name, &daemon));
	if (slice_eq_str(daemon, "smtpd"))
		return DAEMON_SMTPD;
	if (slice_eq_str(daemon, "smtp") || slice_eq_str(daemon, "lmtp"))
		return DAEMON_SMTP;
	if (slice_eq_str(daemon, "tlsproxy"))
		return DAEMON_TLSPROXY;
	if (slice_eq_str(daemon, "postscreen"))
		return DAEMON_POSTSCREEN;
	return 0;
}

static void test_examples(void)
{
	Parser *p;
	require(parser_new(&p, NULL) == 0);
	LoglineClock *clk;
	require(logline_clock_new(&clk, now_realtime_usec()) == 0);
	unsigned n = 0;
	for (unsigned i = 0; i < _R_MAX; i++) {
		const Rule *r = &rules[i];
		check(r->id == i);
		check(r->source && *r->source);
		check(r->examples && r->examples[0]);
		for (const char *const *ex = r->examples; *ex; ex++, n++) {
			LogLine ll;
			if (!checkf(logline_parse(clk, *ex, strlen(*ex), &ll) == 0, "header not parsed: %s", *ex))
				continue;
			uint32_t cls = class_of(ll.prog);
			check(cls & r->daemons);
			Match m;
			int rc = parser_match(p, cls, ll.msg, &m);
			if (!checkf(rc == 0 && m.rule == r->id, "rule %s: example matched %s (rc %d): %s", r->name,
				    rc == 0 ? rules[m.rule].name : "nothing", rc, *ex))
				continue;
			/* no other rule of the class matches it too: rules do not
			 * overlap, so table order never decides a line's meaning */
			for (unsigned j = 0; j < _R_MAX; j++) {
				if (j == i || !(rules[j].daemons & cls))
					continue;
				Match other;
				checkf(parser_match_rule(p, (RuleId)j, ll.msg, &other) != 0,
				       "rule %s also matches example of %s: %s", rules[j].name, r->name, *ex);
			}
		}
	}
	fprintf(stderr, "%u examples matched their rules\n", n);
	parser_free(p);
	logline_clock_free(clk);
}

/* A sibling parser (the counting thread's) matches every example as its
 * parent does, with the same groups, and outlives nothing it shares: the
 * parent's patterns stay valid after the sibling is freed (ASan checks). */
static void test_sibling(void)
{
	Parser *p, *s;
	require(parser_new(&p, NULL) == 0);
	require(parser_new_sibling(&s, p) == 0);
	LoglineClock *clk;
	require(logline_clock_new(&clk, now_realtime_usec()) == 0);
	unsigned n = 0, total = 0;
	for (unsigned i = 0; i < _R_MAX; i++) {
		for (const char *const *ex = rules[i].examples; ex && *ex; ex++) {
			LogLine ll;
			total++;
			if (logline_parse(clk, *ex, strlen(*ex), &ll) < 0)
				continue;
			Match a, b;
			int ra = parser_match(p, class_of(ll.prog), ll.msg, &a);
			int rb = parser_match(s, class_of(ll.prog), ll.msg, &b);
			check(ra == 0 && rb == 0);
			check(a.rule == b.rule);
			for (unsigned g = 0; g < _G_MAX; g++)
				checkf(a.g[g].p == b.g[g].p && a.g[g].n == b.g[g].n, "group %s of %s", rules_group_names[g],
				       *ex);
			n++;
		}
	}
	check(total > 0);
	check_u64(n, total);
	parser_free(s);
	Match m;
	check(parser_match(p, DAEMON_SMTPD, SLICE_LIT("Anonymous TLS connection established from h[192.0.2.1]: "
						      "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
			   &m) == 0);
	check(m.rule == R_TLS_SUMMARY);
	parser_free(p);
	logline_clock_free(clk);
}

static void test_captures(void)
{
	Parser *p;
	require(parser_new(&p, NULL) == 0);
	Match m;
	Slice msg = SLICE_LIT("Untrusted TLS connection established from client.example.com[192.0.2.10]:50312 to mail.example.org: "
			      "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange secp256r1 "
			      "server-signature RSA-PSS (4096 bits) server-digest SHA256");
	check(parser_match(p, DAEMON_SMTPD, msg, &m) == 0);
	check(m.rule == R_TLS_SUMMARY);
	check(slice_eq_str(m.g[G_TRUST], "Untrusted"));
	check(slice_eq_str(m.g[G_PEER], "client.example.com[192.0.2.10]:50312"));
	check(slice_eq_str(m.g[G_SNI], "mail.example.org"));
	check(slice_eq_str(m.g[G_PROTO], "TLSv1.3"));
	check(slice_eq_str(m.g[G_CIPHER], "TLS_AES_128_GCM_SHA256"));
	check(slice_eq_str(m.g[G_KEX], "secp256r1"));
	check(m.g[G_KEXPARM].p == NULL);

	msg = SLICE_LIT("Anonymous TLS connection established from unknown[2001:db8::1]: TLSv1.3 with cipher "
			"TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange ECDHE (P-256) server-signature ECDSA (P-256) server-digest SHA256");
	check(parser_match(p, DAEMON_SMTPD, msg, &m) == 0);
	check(slice_eq_str(m.g[G_PEER], "unknown[2001:db8::1]"));
	check(slice_eq_str(m.g[G_KEX], "ECDHE"));
	check(slice_eq_str(m.g[G_KEXPARM], "P-256"));

	msg = SLICE_LIT("disconnect from a.example[192.0.2.1] ehlo=2 starttls=0/1 commands=2/3");
	check(parser_match(p, DAEMON_SMTPD, msg, &m) == 0);
	check(m.rule == R_DISCONNECT);
	check(slice_eq_str(m.g[G_PEER], "a.example[192.0.2.1]"));
	check(slice_eq_str(m.g[G_STATS], " ehlo=2 starttls=0/1 commands=2/3"));

	/* near misses: relevant but unknown, and irrelevant */
	check(parser_match(p, DAEMON_SMTPD, SLICE_LIT("Anonymous TLS connection negotiated from h[192.0.2.1]: TLSv1.3"), &m) == PARSE_NO_MATCH);
	check(parser_match(p, DAEMON_SMTPD, SLICE_LIT("NOQUEUE: reject: RCPT from h[192.0.2.1]: 554 5.7.1 <x@y>: Relay access denied; from=<SSL@x> to=<TLS@y> proto=ESMTP helo=<TLS>"), &m) == PARSE_IRRELEVANT);
	check(parser_match(p, DAEMON_SMTP, SLICE_LIT("4ABC: to=<a@b>, relay=x, delay=oops"), &m) == PARSE_NO_MATCH);
	check(parser_match(p, DAEMON_SMTPD, SLICE_LIT("warning: hostname x does not resolve to address 192.0.2.1"), &m) == PARSE_IRRELEVANT);

	/* 3.11 tls= between delays= and dsn= */
	msg = SLICE_LIT("01E12901F9D: to=<a@b>, relay=r[192.0.2.1]:25, delay=5.4, delays=0.08/0.01/3.5/1.9, tls=may?/!requiretls:nostarttls, dsn=5.7.30, status=bounced (x)");
	check(parser_match(p, DAEMON_SMTP, msg, &m) == 0);
	check(m.rule == R_DELIVERY);
	check(slice_eq_str(m.g[G_TLSFEAT], "may?/!requiretls:nostarttls"));
	check(slice_eq_str(m.g[G_STATUS], "bounced"));
	msg = SLICE_LIT("01E12901F9D: to=<a@b>, relay=r[192.0.2.1]:25, delay=5.4, delays=0.08/0.01/3.5/1.9, dsn=2.0.0, status=sent (x)");
	check(parser_match(p, DAEMON_SMTP, msg, &m) == 0);
	check(m.g[G_TLSFEAT].p == NULL);
	msg = SLICE_LIT("WHITELIST VETO [192.0.2.1]:1000");
	check(parser_match(p, DAEMON_POSTSCREEN, msg, &m) == PARSE_IRRELEVANT);
	parser_free(p);
}

static void test_mappings(void)
{
	char kex[64];
	struct {
		const char *kex, *parm, *want;
	} k[] = {
		{ "X25519", NULL, "x25519" },      { "x25519", NULL, "x25519" },
		{ "X448", NULL, "x448" },          { "ECDHE", "prime256v1", "secp256r1" },
		{ "ECDHE", "P-256", "secp256r1" }, { "secp256r1", NULL, "secp256r1" },
		{ "ECDHE", "secp384r1", "secp384r1" }, { "ECDHE", "P-384", "secp384r1" },
		{ "X25519MLKEM768", NULL, "x25519mlkem768" }, { "DHE", "2048 bits", "dhe2048" },
		{ "ffdhe3072", NULL, "ffdhe3072" }, { NULL, NULL, "unknown" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		sessions_key_exchange(slice_from(k[i].kex), slice_from(k[i].parm), kex, sizeof(kex));
		check_str(kex, k[i].want);
	}
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:0A0000C1:SSL routines::no shared cipher:../ssl/statem/statem_srvr.c:2226:")), "no_shared_cipher");
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:1417D18C:SSL routines:tls_process_client_hello:version too low:../ssl/statem/statem_srvr.c:1661:")), "unsupported_protocol");
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:0A00009C:SSL routines::http request:../ssl/record/ssl3_record.c:341:")), "http_request");
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:0A000418:SSL routines::tlsv1 alert unknown ca:x:1:SSL alert number 48:")), "unknown_ca");
	/* OpenSSL 1.0.x: the client's first bytes are not TLS */
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:140760FC:SSL routines:SSL23_GET_CLIENT_HELLO:unknown protocol:s23_srvr.c:640:")), "wrong_version_number");
	check_str(sessions_inbound_failure_reason(SLICE_LIT("error:something new")), "other");
	check_str(sessions_outbound_cert_reason(SLICE_LIT("certificate has expired")), "cert_expired");
	check_str(sessions_outbound_cert_reason(SLICE_LIT("num=62:hostname mismatch")), "hostname_mismatch");
	check_str(sessions_outbound_cert_reason(SLICE_LIT("untrusted issuer /O=X/CN=Y")), "cert_untrusted");
	check_str(sessions_outbound_cert_reason(SLICE_LIT("self-signed certificate")), "cert_untrusted");
	check_str(sessions_outbound_cert_reason(SLICE_LIT("certificate not yet valid")), "other");
}

int main(void)
{
	test_run(test_examples);
	test_run(test_sibling);
	test_run(test_captures);
	test_run(test_mappings);
	return test_exit();
}

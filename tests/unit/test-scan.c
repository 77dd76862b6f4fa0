/*
 * test-scan.c - scan.c's scanners answer as the PCRE2 patterns of rules.c
 * they replace: on every example line of every rule, on edge cases, and on
 * every string of up to 4 or 5 bytes from an alphabet of the patterns' hard
 * characters after prefixes of each scanned pattern.
 */
#include "../harness.h"

#include "../fuzz/scan_diff.h"
#include "logline.h"
#include "macro.h"
#include "util.h"

static Parser *p;

static void same(const char *msg, size_t n)
{
	char why[256];
	checkf(scan_diff(p, (Slice){ msg, n }, why, sizeof(why)) == 0, "%s: \"%.*s\"", why, (int)n, msg);
}

static void test_examples(void)
{
	LoglineClock *clk;
	require(logline_clock_new(&clk, now_realtime_usec()) == 0);
	unsigned matched = 0, own = 0;
	for (unsigned i = 0; i < _R_MAX; i++)
		for (const char *const *ex = rules[i].examples; *ex; ex++) {
			own += scan_for((RuleId)i) != NULL;
			LogLine ll;
			require(logline_parse(clk, *ex, strlen(*ex), &ll) == 0);
			same(ll.msg.p, ll.msg.n);
			Match m;
			if (scan_for((RuleId)i) && parser_match_rule(p, (RuleId)i, ll.msg, &m) == 0)
				matched++;
		}
	/* the scanned rules' own examples (connect 3, disconnect 5, TLS
	 * summary 12) all match through the scanner */
	check_u64(own, 20);
	check_u64(matched, own);
	logline_clock_free(clk);
}

static void test_edges(void)
{
	static const char *const cases[] = {
		"connect from localhost[127.0.0.1]", "connect from ", "connect from  x", "connect from x ",
		"connect from a\tb", "connect from a\vb", "connect from a\fb", "connect from a\rb", "connect from a\nb",
		"connect from \xc3\xa9[192.0.2.1]", "connect from x\x85y", "connect from x\xa0y", "connect fromx",
		"disconnect from ", "disconnect from x", "disconnect from x ", "disconnect from x  ehlo=1",
		"disconnect from x ehlo=1", "disconnect from x ehlo=1 ", "disconnect from x commands=0/0",
		"disconnect from x commands=0/", "disconnect from x commands=0/x", "disconnect from x a=1/2/3",
		"disconnect from x Ehlo=1", "disconnect from x =1", "disconnect from x a=", "disconnect from x a=b",
		"disconnect from x notes=bare_lf", "disconnect from x ehlo=1 notes=bare_lf", "disconnect from x notes=5",
		"disconnect from x notes=12abc", "disconnect from x notes=", "disconnect from x notes=a b",
		"disconnect from x notes=a notes=b", "disconnect from x ehlo=1 notes=a ehlo=1", "disconnect from x\tehlo=1",
		"disconnect from x ehlo=1\tnotes=a", "disconnect from x ehlo=1 notes=a\t", "disconnect from x notes=\xff",
		"disconnect from x ehlo=1x", "disconnect from x ehlo=99999999999999999999 quit=1",
	};
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		same(cases[i], strlen(cases[i]));
	static const char nul[] = "disconnect from a\0b ehlo=1";
	same(nul, sizeof(nul) - 1);
	static const char *const tls[] = {
		"TLS connection established from h: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h:: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h to s: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h: to s: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h:1 to s:x: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h to : TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h to s:: TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from : TLSv1 with cipher X (1/1 bits)",
		"TLS connection established from h:\tTLSv1 with cipher X (1/1 bits)",
		"Verified  TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits)",
		"verified TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits)",
		"TLS connection reused to h: SSLv3 with cipher X (1/1 bits)",
		"TLS connection reused to h: TLSv with cipher X (1/1 bits)",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/ bits)",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange X25519",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange ",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange x ()",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange x (a b) (c)",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange x (a",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) server-signature a (b) server-digest c",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) server-signature a server-digest",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) client-signature a server-signature b",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) server-signature a client-signature b (c) client-digest d",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange k (p) server-signature a (b) server-digest c client-signature d (e) client-digest f",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) key-exchange k (p) server-digest c",
		"TLS connection reused to h: TLSv1.3 with cipher X (1/1 bits) ",
	};
	for (size_t i = 0; i < ELEMENTSOF(tls); i++)
		same(tls[i], strlen(tls[i]));
}

/* every string over the alphabet up to max bytes, after prefix */
static void test_exhaustive(const char *prefix, unsigned max)
{
	static const char alpha[] = { ' ', 'a', '=', '1', '/', '\t', 'n', ':', '(', ')' };
	enum { A = sizeof(alpha) };
	char msg[160];
	size_t pl = strlen(prefix);
	require(pl + max <= sizeof(msg));
	memcpy(msg, prefix, pl);
	for (unsigned len = 0; len <= max; len++) {
		unsigned long total = 1;
		for (unsigned i = 0; i < len; i++)
			total *= A;
		for (unsigned long v = 0; v < total; v++) {
			unsigned long x = v;
			for (unsigned i = 0; i < len; i++, x /= A)
				msg[pl + i] = alpha[x % A];
			same(msg, pl + len);
		}
	}
}

static void test_alphabet(void)
{
	test_exhaustive("connect from ", 4);
	test_exhaustive("disconnect from a", 5);
	test_exhaustive("disconnect from a notes=", 4);
	test_exhaustive("disconnect from a ehlo=1", 4);
	test_exhaustive("TLS connection established from a", 4);
	test_exhaustive("TLS connection established from a to b", 4);
	test_exhaustive("TLS connection reused to h: TLSv1", 4);
	test_exhaustive("TLS connection reused to h: TLSv1 with cipher X (1/1 bits) key-exchange a", 4);
	test_exhaustive("TLS connection reused to h: TLSv1 with cipher X (1/1 bits) server-signature a", 4);
}

int main(void)
{
	require(parser_new(&p, NULL) == 0);
	test_run(test_examples);
	test_run(test_edges);
	test_run(test_alphabet);
	parser_free(p);
	return test_exit();
}

/*
 * test-logline.c - every header layout logline.h lists (one example each,
 * with the exact time, host, program and pid), program names with slashes,
 * and headers that must be refused.
 */
#include <errno.h>
#include <time.h>

#include "../harness.h"

#include "logline.h"
#include "macro.h"
#include "util.h"

static LoglineClock *clk;

static void parse_ok(const char *line, const char *host, const char *prog, uint32_t pid, const char *msg, int64_t ts)
{
	LogLine ll;
	if (!checkf(logline_parse(clk, line, strlen(line), &ll) == 0, "not parsed: %s", line))
		return;
	check(slice_eq_str(ll.host, host));
	check(slice_eq_str(ll.prog, prog));
	check(ll.pid == pid);
	check(slice_eq_str(ll.msg, msg));
	if (ts)
		check(ll.ts_usec == ts);
}

static int64_t local_ts(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
	return (int64_t)mktime(&tm) * 1000000;
}

static void test_formats(void)
{
	/* postlogd: zero-padded day */
	parse_ok("Nov 08 15:48:34 mx1 postfix/smtpd[24782]: connect from localhost[127.0.0.1]", "mx1", "postfix/smtpd",
		 24782, "connect from localhost[127.0.0.1]", local_ts(2026, 11, 8, 15, 48, 34));
	/* BSD syslog: space-padded day */
	parse_ok("Nov  8 15:48:35 mx1 postfix/submission/smtpd[1]: x", "mx1", "postfix/submission/smtpd", 1, "x",
		 local_ts(2026, 11, 8, 15, 48, 35));
	/* same minute again (cache) */
	parse_ok("Nov  8 15:48:59 mx1 postfix-out/smtp[2]: y", "mx1", "postfix-out/smtp", 2, "y",
		 local_ts(2026, 11, 8, 15, 48, 59));
	/* rsyslog RFC 3339 with fraction and offset */
	parse_ok("2026-11-28T15:48:34.397141+00:00 mx1 postfix/smtpd[24782]: connect from a[1.2.3.4]", "mx1",
		 "postfix/smtpd", 24782, "connect from a[1.2.3.4]",
		 (days_from_civil(2026, 11, 28) * 86400 + 15 * 3600 + 48 * 60 + 34) * 1000000 + 397141);
	parse_ok("2026-11-28T16:48:34+01:00 mx1 postfix/tlsproxy[7]: z", "mx1", "postfix/tlsproxy", 7, "z",
		 (days_from_civil(2026, 11, 28) * 86400 + 15 * 3600 + 48 * 60 + 34) * 1000000);
	/* journalctl -o short-iso "+0000" */
	parse_ok("2026-11-28T15:48:34+0000 mx1 postfix/smtp[9]: w", "mx1", "postfix/smtp", 9, "w",
		 (days_from_civil(2026, 11, 28) * 86400 + 15 * 3600 + 48 * 60 + 34) * 1000000);
	parse_ok("2026-11-28T15:48:34Z mx1 mta-in/smtpd[10]: v", "mx1", "mta-in/smtpd", 10, "v", 0);
	/* empty message */
	parse_ok("Nov 28 15:48:34 mx1 postfix/smtpd[3]:", "mx1", "postfix/smtpd", 3, "", 0);
	/* BSD date in the future (December read in January) is last year */
	LoglineClock *jan;
	require(logline_clock_new(&jan, local_ts(2027, 1, 2, 0, 0, 0)) == 0);
	LogLine ll;
	const char *dec = "Dec 31 23:59:59 mx1 postfix/smtpd[3]: x";
	check(logline_parse(jan, dec, strlen(dec), &ll) == 0);
	check(ll.ts_usec == local_ts(2026, 12, 31, 23, 59, 59));
	logline_clock_free(jan);
}

/* A wall clock the test moves: the daemon's New Year. */
static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

static int64_t bsd(LoglineClock *c, const char *line)
{
	LogLine ll;
	if (!checkf(logline_parse(c, line, strlen(line), &ll) == 0, "not parsed: %s", line))
		return 0;
	return ll.ts_usec;
}

static void test_new_year(void)
{
	/* started 31 Dec 23:59:50, runs into the new year */
	fake_now = local_ts(2026, 12, 31, 23, 59, 50);
	LoglineClock *c;
	require(logline_clock_new(&c, fake_now) == 0);
	logline_clock_set_now_fn(c, fake_clock);
	check(bsd(c, "Dec 31 23:59:55 mx1 postfix/smtpd[1]: a") == local_ts(2026, 12, 31, 23, 59, 55));
	fake_now = local_ts(2027, 1, 1, 0, 0, 6);
	check(bsd(c, "Jan  1 00:00:05 mx1 postfix/smtpd[1]: b") == local_ts(2027, 1, 1, 0, 0, 5));
	fake_now = local_ts(2027, 1, 1, 0, 1, 1);
	check(bsd(c, "Dec 31 23:59:58 mx1 postfix/smtpd[1]: late") == local_ts(2026, 12, 31, 23, 59, 58));
	check(bsd(c, "Jan  1 00:01:00 mx1 postfix/smtpd[1]: c") == local_ts(2027, 1, 1, 0, 1, 0));
	logline_clock_free(c);

	/* the log passes New Year a few seconds before the wall clock does */
	fake_now = local_ts(2026, 12, 31, 23, 59, 58);
	require(logline_clock_new(&c, fake_now) == 0);
	logline_clock_set_now_fn(c, fake_clock);
	check(bsd(c, "Dec 31 23:59:57 mx1 postfix/smtpd[1]: a") == local_ts(2026, 12, 31, 23, 59, 57));
	check(bsd(c, "Jan  1 00:00:02 mx1 postfix/smtpd[1]: b") == local_ts(2027, 1, 1, 0, 0, 2));
	logline_clock_free(c);

	/* an old log's January read on 31 December stays this year's */
	require(logline_clock_new(&c, local_ts(2026, 12, 31, 12, 0, 0)) == 0);
	check(bsd(c, "Jan  1 00:00:02 mx1 postfix/smtpd[1]: b") == local_ts(2026, 1, 1, 0, 0, 2));
	check(bsd(c, "Jan  1 00:10:02 mx1 postfix/smtpd[1]: b") == local_ts(2026, 1, 1, 0, 10, 2));
	logline_clock_free(c);
}

static void test_pid_range(void)
{
	LogLine ll;
	const char *max = "Nov 28 15:48:34 mx1 postfix/smtpd[4294967295]: x";
	check(logline_parse(clk, max, strlen(max), &ll) == 0 && ll.pid == 4294967295u);
	/* 4294967296 and 9999999999 used to wrap to 0 and 1410065407 */
	const char *wrap1 = "Nov 28 15:48:34 mx1 postfix/smtpd[4294967296]: x";
	const char *wrap2 = "Nov 28 15:48:34 mx1 postfix/smtpd[9999999999]: x";
	check(logline_parse(clk, wrap1, strlen(wrap1), &ll) == -EBADMSG);
	check(logline_parse(clk, wrap2, strlen(wrap2), &ll) == -EBADMSG);
}

static int64_t utc_ts(int y, int mon, int d, int h, int mi, int s)
{
	return (days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s) * 1000000;
}

/* The headers of issue 11, item 6. The clock's reference time is 2026-11-28,
 * so BSD-style examples use November dates (December would be last year's). */
static void test_formats_wild(void)
{
	/* RFC 3339 without zone: local time, 'T' or ' ' */
	parse_ok("2026-12-05T10:01:00 mx1 postfix/smtpd[1]: a", "mx1", "postfix/smtpd", 1, "a",
		 local_ts(2026, 12, 5, 10, 1, 0));
	parse_ok("2026-12-05 10:01:00.250 mx1 postfix/smtpd[2]: b", "mx1", "postfix/smtpd", 2, "b",
		 local_ts(2026, 12, 5, 10, 1, 0) + 250000);
	/* <PRI> before a BSD header (a network syslog receiver's file) */
	parse_ok("<22>Nov 27 10:01:00 mx1 postfix/smtpd[3]: c", "mx1", "postfix/smtpd", 3, "c",
		 local_ts(2026, 11, 27, 10, 1, 0));
	/* RFC 5424: nil MSGID and STRUCTURED-DATA */
	parse_ok("<22>1 2026-12-05T10:01:00.123456+01:00 mx1 postfix/smtpd 123 - - connect from a[192.0.2.1]", "mx1",
		 "postfix/smtpd", 123, "connect from a[192.0.2.1]", utc_ts(2026, 12, 5, 9, 1, 0) + 123456);
	/* RFC 5424 with structured data (escaped ']' in a value), nil PROCID, BOM */
	parse_ok("<22>1 2026-12-05T10:01:00Z mx1 postfix/smtp - ID47 [meta seq=\"1\" x=\"a\\]b\"][o y=\"2\"] \xef\xbb\xbfmsg",
		 "mx1", "postfix/smtp", 0, "msg", utc_ts(2026, 12, 5, 10, 1, 0));
	/* journalctl -o short-precise */
	parse_ok("Nov 27 10:01:00.123456 mx1 postfix/smtpd[4]: d", "mx1", "postfix/smtpd", 4, "d",
		 local_ts(2026, 11, 27, 10, 1, 0) + 123456);
	/* journalctl -o short-full: local zone abbreviation, or UTC */
	parse_ok("Fri 2026-11-27 10:01:00 CET mx1 postfix/smtpd[5]: e", "mx1", "postfix/smtpd", 5, "e",
		 local_ts(2026, 11, 27, 10, 1, 0));
	parse_ok("Sat 2026-12-05 10:01:00 UTC mx1 postfix/smtpd[5]: e", "mx1", "postfix/smtpd", 5, "e",
		 utc_ts(2026, 12, 5, 10, 1, 0));
	/* journalctl -o short-unix */
	parse_ok("1764928860.123456 mx1 postfix/smtpd[1]: f", "mx1", "postfix/smtpd", 1, "f", 1764928860123456LL);
	/* single-space day */
	parse_ok("Mar 7 10:01:00 mx1 postfix/smtpd[6]: g", "mx1", "postfix/smtpd", 6, "g", local_ts(2026, 3, 7, 10, 1, 0));
	/* no host (container images logging to stdout) */
	parse_ok("Nov 27 10:01:00 postfix/smtpd[7]: h", "", "postfix/smtpd", 7, "h", local_ts(2026, 11, 27, 10, 1, 0));
	parse_ok("2026-12-05T10:01:00Z postfix/master: i", "", "postfix/master", 0, "i", utc_ts(2026, 12, 5, 10, 1, 0));
}

static void test_malformed(void)
{
	const char *bad[] = {
		"", "garbage", "Nov 28 15:48:34", "Nov 28 15:48:34 mx1", "Nov 28 15:48:34 mx1 postfix/smtpd[12",
		"Xyz 28 15:48:34 mx1 postfix/smtpd[1]: x", "Nov 28 25:48:34 mx1 postfix/smtpd[1]: x",
		"2026-13-28T15:48:34Z mx1 postfix/smtpd[1]: x", "2026-11-28T15:48:34X mx1 postfix/smtpd[1]: x",
		"Nov 28 15:48:34 mx1 postfix/smtpd[]: x", "Nov 28 15:48:34 mx1 postfix/smtpd[12345678901]: x",
		"Nov 28 15:48:34 mx1 [1]: x",
		"<1000>Nov 28 15:48:34 mx1 postfix/smtpd[1]: x", "<>Nov 28 15:48:34 mx1 postfix/smtpd[1]: x",
		"<22>1 2026-12-05T10:01:00Z mx1 - 1 - - x", "<22>1 2026-12-05T10:01:00Z mx1 postfix/smtpd 1 - [a x",
		"<22>1 2026-12-05T10:01:00Z mx1 postfix/smtpd 1", "Sat 2026-12-05 10:01:00  mx1 postfix/smtpd[1]: x",
		"12345678 mx1 postfix/smtpd[1]: x", "1764928860x mx1 postfix/smtpd[1]: x",
		"Nov 7  10:01:00 mx1 postfix/smtpd[1]: x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		LogLine ll;
		checkf(logline_parse(clk, bad[i], strlen(bad[i]), &ll) != 0, "accepted: '%s'", bad[i]);
	}
}

static void test_split_prog(void)
{
	Slice n, d;
	check(logline_split_prog(SLICE_LIT("postfix/submission/smtpd"), &n, &d));
	check(slice_eq_str(n, "postfix/submission") && slice_eq_str(d, "smtpd"));
	check(logline_split_prog(SLICE_LIT("postfix-out/smtp"), &n, &d));
	check(slice_eq_str(n, "postfix-out") && slice_eq_str(d, "smtp"));
	check(!logline_split_prog(SLICE_LIT("sshd"), &n, &d));
	check(!logline_split_prog(SLICE_LIT("postfix/"), &n, &d));
	check(!logline_split_prog(SLICE_LIT("/smtpd"), &n, &d));
}

static void test_durations(void)
{
	int64_t v;
	check(parse_duration_usec("30s", &v) == 0 && v == 30 * 1000000LL);
	check(parse_duration_usec("1h30m", &v) == 0 && v == 5400 * 1000000LL);
	check(parse_duration_usec("7d", &v) == 0 && v == 7 * 86400 * 1000000LL);
	check(parse_duration_usec("500ms", &v) == 0 && v == 500000);
	check(parse_duration_usec("10", &v) < 0);
	check(parse_duration_usec("x", &v) < 0);
	check(parse_duration_usec("99999999999999999999d", &v) < 0);
	uint64_t u;
	check(parse_u64("18446744073709551615", &u) == 0 && u == UINT64_MAX);
	check(parse_u64("18446744073709551616", &u) == -ERANGE);
	check(parse_u64("-1", &u) < 0);
}

/* Every prefix of header shapes, in a heap block of exactly its length:
 * under AddressSanitizer a read past the end fails (the fuzzer found
 * "Sat 2026" read one byte past an 8-byte line). */
static void test_short_lines_no_overread(void)
{
	static const char *const shapes[] = {
		"Sat 2026-12-05 10:01:00 CET mx postfix/smtpd[1]: x",
		"2026-12-05T10:01:00 mx postfix/smtpd[1]: x",
		"1764928860.123456 mx postfix/smtpd[1]: x",
		"<22>1 2026-12-05T10:01:00.123456+01:00 mx postfix/smtpd 123 - - x",
		"Dec  5 10:01:00 mx postfix/smtpd[1]: x",
	};
	for (size_t k = 0; k < ELEMENTSOF(shapes); k++)
		for (size_t n = 0; n <= strlen(shapes[k]); n++) {
			char *b = malloc(n ? n : 1);
			require(b);
			memcpy(b, shapes[k], n);
			LogLine ll;
			int r = logline_parse(clk, b, n, &ll);
			free(b);
			if (n == strlen(shapes[k])) /* the whole line parses; its prefixes only must not overread */
				checkf(r == 0, "not parsed: %s", shapes[k]);
		}
}

/* Program names of every length to 40 (the SSE2 scan takes 16 bytes a
 * step), each ended by '[', ':' or ' ', in exact-length buffers. */
static void test_prog_lengths(void)
{
	static const char *const ends[] = { "[7]: m", ": m", " x: m" };
	for (size_t len = 1; len <= 40; len++)
		for (size_t k = 0; k < ELEMENTSOF(ends); k++) {
			char line[128];
			int n = snprintf(line, sizeof(line), "Dec  5 10:01:00 mx %.*s%s", (int)len,
					 "postfix/submission/smtpd-abcdefghijklmnopqrstuvwxyz", ends[k]);
			char *b = malloc((size_t)n);
			require(b);
			memcpy(b, line, (size_t)n);
			LogLine ll;
			int r = logline_parse(clk, b, (size_t)n, &ll);
			if (k == 2) {
				/* "name x: m": a space ends the name, and no ':' follows it */
				check(r == -EBADMSG);
			} else if (checkf(r == 0, "not parsed: %s", line)) {
				check(ll.prog.n == len && ll.prog.p == b + 19);
				check(ll.pid == (k == 0 ? 7u : 0u));
			}
			free(b);
			/* without a host: the name's '[' or trailing ':' says so;
			 * "name x: m" is host "name", program "x" */
			n = snprintf(line, sizeof(line), "Dec  5 10:01:00 %.*s%s", (int)len,
				     "postfix/submission/smtpd-abcdefghijklmnopqrstuvwxyz", ends[k]);
			if (!(b = malloc((size_t)n)))
				abort();
			memcpy(b, line, (size_t)n);
			if (checkf(logline_parse(clk, b, (size_t)n, &ll) == 0, "not parsed: %s", line)) {
				check(ll.host.n == (k == 2 ? len : 0));
				check(k == 2 ? slice_eq_str(ll.prog, "x") : ll.prog.n == len);
			}
			free(b);
		}
}

/* slice_eq() against memcmp() for every length to 20 and a difference at
 * every position (its 8-16 byte path compares two overlapping words). */
static void test_slice_eq(void)
{
	char a[24], b[24];
	for (size_t n = 0; n <= 20; n++) {
		memset(a, 'x', sizeof(a));
		memset(b, 'x', sizeof(b));
		check(slice_eq((Slice){ a, n }, (Slice){ b, n }));
		check(n == 0 || !slice_eq((Slice){ a, n }, (Slice){ b, n - 1 }));
		for (size_t i = 0; i < n; i++) {
			b[i] = 'y';
			check(!slice_eq((Slice){ a, n }, (Slice){ b, n }));
			b[i] = 'x';
		}
		b[n] = 'y'; /* past the end: not compared */
		check(slice_eq((Slice){ a, n }, (Slice){ b, n }));
	}
}

int main(void)
{
	test_run(test_slice_eq);
	setenv("TZ", "Europe/Berlin", 1); /* a zone with DST: local times must still round-trip */
	tzset();
	require(logline_clock_new(&clk, local_ts(2026, 11, 28, 16, 0, 0)) == 0);
	test_run(test_formats);
	test_run(test_formats_wild);
	test_run(test_malformed);
	test_run(test_split_prog);
	test_run(test_durations);
	test_run(test_new_year);
	test_run(test_pid_range);
	test_run(test_short_lines_no_overread);
	test_run(test_prog_lengths);
	logline_clock_free(clk);
	return test_exit();
}

/*
 * test-utf8.c - log bytes that are not valid UTF-8 never reach a label
 * value: each bad byte becomes U+FFFD, a long value is cut on a character
 * boundary, and every scrape is valid UTF-8.
 */
#include "../harness.h"

#include "expo.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"
#include "utf8.h"

#define FFFD "\xef\xbf\xbd"

static void test_clean(void)
{
	static const char *const good[] = { "", "plain ascii", "caf\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x94\x92", "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", NULL };
	static const char *const bad[] = { "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xf4\x90\x80\x80", "\xe2\x82", "\x80", "a\x1b[31m", "\x7f", "tab\there", NULL };
	for (const char *const *s = good; *s; s++)
		require(utf8_clean(*s, strlen(*s)));
	for (const char *const *s = bad; *s; s++)
		require(!utf8_clean(*s, strlen(*s)));
}

/* clean_bytewise - utf8_clean() without the 8-byte fast path. */
static bool clean_bytewise(const char *s, size_t n)
{
	Buf b = BUF_NULL;
	utf8_sanitize(&b, s, n);
	bool same = b.len == n && memcmp(b.data, s, n) == 0;
	buf_deinit(&b);
	return same;
}

/* The word-at-a-time path must agree with the decoder for every byte value
 * at every position and alignment of a printable string (borrows between
 * bytes of a word are where SWAR checks go wrong). */
static void test_clean_words(void)
{
	char s[26];
	for (size_t len = 1; len <= sizeof(s); len++)
		for (size_t pos = 0; pos < len; pos++)
			for (unsigned v = 0; v < 256; v++) {
				memset(s, 'a' + (int)(pos % 26), sizeof(s));
				s[pos] = (char)v;
				if (pos + 1 < len)
					s[pos + 1] = (char)(v ^ 0x20);
				checkf(utf8_clean(s, len) == clean_bytewise(s, len), "len %zu pos %zu byte %#x", len,
				       pos, v);
			}
	for (unsigned v = 0x20; v < 0x7f; v++) {
		memset(s, (int)v, sizeof(s));
		require(utf8_clean(s, sizeof(s)));
	}
}

static void check_sanitize(const char *in, const char *want)
{
	Buf b = BUF_NULL;
	utf8_sanitize(&b, in, strlen(in));
	check_str(buf_cstr(&b), want);
	require(utf8_clean(b.data, b.len));
	buf_deinit(&b);
}

/* utf8_line_end() against the obvious loop: every byte value at every
 * position of lines of 1 to 40 bytes (blocks of 16 and the tail), with and
 * without a '\n' after them, at every alignment of the start. */
static void test_line_end(void)
{
	char buf[64];
	for (size_t len = 1; len <= 40; len++)
		for (size_t pos = 0; pos < len; pos++)
			for (unsigned c = 0; c < 256; c++)
				for (size_t off = 0; off < 4; off++)
					for (int nl = 0; nl < 2; nl++) {
						char *s = buf + off;
						memset(s, 'a', len);
						s[pos] = (char)c;
						size_t n = len;
						if (nl)
							s[n++] = '\n';
						const char *want = memchr(s, '\n', n);
						bool want_printable = true;
						for (const char *q = s; q < (want ? want : s + n); q++)
							if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
								want_printable = false;
						bool printable = !want_printable;
						const char *got = utf8_line_end(s, s + n, &printable);
						check(got == want);
						check(printable == want_printable);
					}
	/* a printable line is clean, for utf8_clean() too */
	bool printable;
	const char *line = "Mar 11 00:00:00 mx1 postfix/smtpd[7010]: connect from a[192.0.2.1]\nnext";
	const char *nl = utf8_line_end(line, line + strlen(line), &printable);
	require(nl && printable && utf8_clean(line, (size_t)(nl - line)));
}

static void test_sanitize(void)
{
	check_sanitize("ok \xc3\xa9", "ok \xc3\xa9");
	check_sanitize("a\xff" "b", "a" FFFD "b");
	check_sanitize("\xc0\xaf", FFFD FFFD);                  /* overlong '/' */
	check_sanitize("\xed\xa0\x80", FFFD FFFD FFFD);         /* surrogate U+D800 */
	check_sanitize("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* past U+10FFFF */
	check_sanitize("x\xe2\x82", "x" FFFD FFFD);              /* truncated at the end */
	check_sanitize("\x1b[0m\x7f", FFFD "[0m" FFFD);
}

static void test_cut(void)
{
	/* "é" is 2 bytes, "€" 3: a cut never splits them */
	require(utf8_cut("abc", 3, 128) == 3);
	require(utf8_cut("a\xc3\xa9", 3, 2) == 1);
	require(utf8_cut("a\xc3\xa9", 3, 3) == 3);
	require(utf8_cut("\xe2\x82\xac\xe2\x82\xac", 6, 5) == 3);
	require(utf8_cut("\xe2\x82\xac\xe2\x82\xac", 6, 4) == 3);
	require(utf8_cut("\xe2\x82\xac\xe2\x82\xac", 6, 2) == 0);
}

/* line_valid_utf8 - every line of a scrape, newline excluded, is clean. */
static int scrape_valid(const Buf *b)
{
	const char *p = b->data, *end = b->data + b->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (!utf8_clean(p, n))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* One session through the pipeline with bad bytes in field `which`. */
static void session_with(const char *bad, int which, const char *want_label)
{
	Store *store;
	Ingest *in;
	require(store_new(&store, metrics_families, _M_MAX, 10000) == 0);
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	require(ingest_new(&in, store, &c, NULL) == 0);
	char name[64], cipher[64], kx[64], line[512];
	snprintf(name, sizeof(name), "postfix%s", which == 0 ? bad : "");
	snprintf(cipher, sizeof(cipher), "TLS_AES%s_256_GCM_SHA384", which == 1 ? bad : "");
	snprintf(kx, sizeof(kx), "X25519%s", which == 2 ? bad : "");
	snprintf(line, sizeof(line), "Nov 28 10:00:00 mx %s/smtpd[1]: connect from h.example.com[192.0.2.1]", name);
	ingest_line(in, line, strlen(line));
	snprintf(line, sizeof(line),
		 "Nov 28 10:00:01 mx %s/smtpd[1]: Anonymous TLS connection established from h.example.com[192.0.2.1]: "
		 "TLSv1.3 with cipher %s (256/256 bits) key-exchange %s server-signature ECDSA (prime256v1) "
		 "server-digest SHA256", name, cipher, kx);
	ingest_line(in, line, strlen(line));
	snprintf(line, sizeof(line), "Nov 28 10:00:02 mx %s/smtpd[1]: disconnect from h.example.com[192.0.2.1] "
		 "ehlo=2 starttls=1 quit=1 commands=4", name);
	ingest_line(in, line, strlen(line));

	Buf out = BUF_NULL;
	require(expo_render(store, EXPO_TEXT, false, &out) == 0);
	require(scrape_valid(&out));
	require(strstr(buf_cstr(&out), want_label) != NULL);
	/* the name is in all three lines, cipher and group only in the summary */
	require(strstr(out.data, which == 0 ? "postfix_tls_exporter_invalid_utf8_lines_total 3\n"
						: "postfix_tls_exporter_invalid_utf8_lines_total 1\n") != NULL);
	buf_clear(&out);
	require(expo_render(store, EXPO_OPENMETRICS, true, &out) == 0);
	require(scrape_valid(&out));
	buf_deinit(&out);
	ingest_free(in);
	store_free(store);
}

static void test_pipeline_matrix(void)
{
	static const struct { const char *bad, *repl; } seq[] = {
		{ "\xff", FFFD },
		{ "\xc0\xaf", FFFD FFFD },
		{ "\xed\xa0\x80", FFFD FFFD FFFD },
		{ "\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD },
		{ "\x1b", FFFD },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		char want[128];
		snprintf(want, sizeof(want), "syslog_name=\"postfix%s\"", seq[i].repl);
		session_with(seq[i].bad, 0, want);
		snprintf(want, sizeof(want), "cipher=\"TLS_AES%s_256_GCM_SHA384\"", seq[i].repl);
		session_with(seq[i].bad, 1, want);
		snprintf(want, sizeof(want), "key_exchange=\"x25519%s\"", seq[i].repl); /* groups are lower-cased */
		session_with(seq[i].bad, 2, want);
	}
}

static void test_long_label_cut_on_boundary(void)
{
	Store *store;
	require(store_new(&store, metrics_families, _M_MAX, 100) == 0);
	/* 127 ASCII bytes and a 2-byte character: 129 bytes, the limit is 128 */
	char v[160];
	memset(v, 'a', 127);
	strcpy(v + 127, "\xc3\xa9");
	Slice l[] = { slice_from(v) };
	require(store_add(store, M_UNRECOGNIZED_LINES, l, 1) == 0);
	Buf out = BUF_NULL;
	require(expo_render(store, EXPO_TEXT, false, &out) == 0);
	require(scrape_valid(&out));
	v[127] = '\0';
	char want[200];
	snprintf(want, sizeof(want), "{daemon=\"%s\"} 1\n", v);
	require(strstr(buf_cstr(&out), want) != NULL);
	buf_deinit(&out);
	store_free(store);
}

int main(void)
{
	test_run(test_clean);
	test_run(test_clean_words);
	test_run(test_line_end);
	test_run(test_sanitize);
	test_run(test_cut);
	test_run(test_pipeline_matrix);
	test_run(test_long_label_cut_on_boundary);
	return test_exit();
}

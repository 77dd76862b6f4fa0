/*
 * test-report.c - golden tests of the readiness report.
 *
 * A fixed scenario (inbound peers with plaintext mail, legacy protocols,
 * STARTTLS failures, clients without a name, outbound destinations with
 * and without TLS, and hostile strings where the log supplies them) is
 * rendered as text and Markdown and compared byte for byte with
 * golden/report.txt and golden/report.md. The HTML and JSON renderings are
 * checked for escaping and self-containment here; JSON against its schema
 * by check-report-json.py.
 *
 * Usage: test-report GOLDEN_DIR           compare (PTE_UPDATE_GOLDEN=1 rewrites)
 *        test-report --print FORMAT       print one format
 */
#include "../harness.h"

#include <errno.h>
#include <time.h>

#include "peers.h"
#include "report.h"

static int64_t ts(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm) * 1000000;
}

static void in(Peers *p, int64_t t, const char *syslog, const char *host, const char *addr, Encryption e, bool mail,
	       const char *proto, const char *cipher, const char *failure)
{
	PeerSession s = { t, slice_from(syslog), slice_from(host), slice_from(addr), e, mail,
			  slice_from(proto ? proto : ""), slice_from(cipher ? cipher : ""), failure };
	peers_inbound_session(p, &s);
}

static void out(Peers *p, int64_t t, const char *rcpt, const char *relay, Trust tls, const char *proto, DeliveryStatus st)
{
	PeerDelivery d = { t, SLICE_LIT("postfix"), slice_from(rcpt), slice_from(relay), tls,
			   slice_from(proto ? proto : ""), st };
	peers_outbound_delivery(p, &d);
}

static Peers *scenario(void)
{
	Peers *p = NULL;
	PeersConfig cfg = { 100, 1000, 3LL * 24 * 3600 * 1000000 };   /* a 3-day window */
	require(peers_new(&p, NULL, &cfg) >= 0);
	int64_t d1 = ts(2026, 11, 26, 9, 0, 0), d2 = ts(2026, 11, 27, 9, 0, 0), d3 = ts(2026, 11, 28, 9, 0, 0);
	int64_t m = 60 * 1000000LL;
	/* google.com: always TLS 1.3 */
	for (int i = 0; i < 6; i++)
		in(p, d1 + i * m, "postfix", i % 2 ? "mail-wr1-f54.google.com" : "mail-ej1-f41.google.com", "192.0.2.10",
		   ENC_TLS, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
	/* legacymail.co.uk: TLS 1.0 and plaintext mail */
	in(p, d1 + 10 * m, "postfix", "mx.legacymail.co.uk", "192.0.2.20", ENC_TLS, true, "TLSv1", "ECDHE-RSA-AES128-SHA", NULL);
	in(p, d2 + 10 * m, "postfix", "mx.legacymail.co.uk", "192.0.2.20", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	in(p, d3 + 10 * m, "postfix", "mx2.legacymail.co.uk", "192.0.2.21", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	/* oldbank.example: plaintext mail, TLS 1.1 with a hostile cipher name from the log */
	in(p, d2 + 20 * m, "postfix", "smtp.oldbank.example", "192.0.2.30", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	in(p, d2 + 21 * m, "postfix", "smtp.oldbank.example", "192.0.2.30", ENC_TLS, false, "TLSv1.1", "<img src=x>&\"'|*_", NULL);
	/* broken.example: STARTTLS failures, one with a hostile reason */
	in(p, d3 + 30 * m, "postfix", "mx.broken.example", "192.0.2.40", ENC_STARTTLS_FAILED, false, NULL, NULL, "no_shared_cipher");
	in(p, d3 + 31 * m, "postfix", "mx.broken.example", "192.0.2.40", ENC_STARTTLS_FAILED, false, NULL, NULL, "no_shared_cipher");
	in(p, d3 + 32 * m, "postfix", "mx.broken.example", "192.0.2.40", ENC_STARTTLS_FAILED, false, NULL, NULL, "evil\x01|`reason");
	/* submission: a plaintext session without mail, TLS with mail */
	in(p, d3 + 40 * m, "postfix/submission", "laptop.home.example.net", "198.51.100.5", ENC_PLAINTEXT, false, NULL, NULL, NULL);
	in(p, d3 + 41 * m, "postfix/submission", "laptop.home.example.net", "198.51.100.5", ENC_TLS, true, "TLSv1.3", "TLS_AES_128_GCM_SHA256", NULL);
	/* clients without a name */
	in(p, d2 + 50 * m, "postfix", "unknown", "203.0.113.7", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	in(p, d2 + 51 * m, "postfix", "unknown", "203.0.113.7", ENC_PLAINTEXT, false, NULL, NULL, NULL);
	in(p, d3 + 52 * m, "postfix", "unknown", "203.0.113.99", ENC_TLS, true, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", NULL);
	in(p, d3 + 53 * m, "postfix", "unknown", "2001:db8:1:2::5", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	/* a hostile syslog name (multi-instance names come from the log) */
	in(p, d3 + 60 * m, "postfix-mx/<b>|*x*", "mx.alpha.example", "192.0.2.60", ENC_TLS, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
	/* an event older than the window */
	in(p, ts(2026, 11, 20, 0, 0, 0), "postfix", "mx.ancient.example", "192.0.2.70", ENC_PLAINTEXT, true, NULL, NULL, NULL);

	/* outbound */
	for (int i = 0; i < 3; i++)
		out(p, d1 + i * m, "user@gmail.com", "gmail-smtp-in.l.google.com[192.0.2.100]:25", TRUST_VERIFIED, "TLSv1.3", DELIVERY_SENT);
	out(p, d2, "a@example.org", "mx.example.org[192.0.2.101]:25", TRUST_TRUSTED, "TLSv1.3", DELIVERY_SENT);
	out(p, d2 + m, "b@lists.example.org", "mx.example.org[192.0.2.101]:25", TRUST_ANONYMOUS, "TLSv1.2", DELIVERY_SENT);
	out(p, d2 + 2 * m, "c@plain.example.net", "mx.plain.example.net[192.0.2.102]:25", TRUST_NONE, NULL, DELIVERY_SENT);
	out(p, d3, "c@plain.example.net", "mx.plain.example.net[192.0.2.102]:25", TRUST_NONE, NULL, DELIVERY_DEFERRED);
	out(p, d3 + m, "x@mixed.example", "mx.mixed.example[192.0.2.103]:25", TRUST_UNTRUSTED, "TLSv1.2", DELIVERY_SENT);
	out(p, d3 + 2 * m, "y@mixed.example", "mx.mixed.example[192.0.2.103]:25", TRUST_NONE, NULL, DELIVERY_SENT);
	out(p, d3 + 3 * m, "z@down.example", "none", TRUST_NONE, NULL, DELIVERY_DEFERRED);
	return p;
}

static char *render(Peers *p, ReportFormat f)
{
	Buf b = BUF_NULL;
	int r = report_render(p, f, ts(2026, 11, 28, 12, 0, 0), 0, &b);
	check(r == 0);
	buf_cstr(&b);
	return buf_steal(&b, NULL);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	Buf b = BUF_NULL;
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	buf_cstr(&b);
	return buf_steal(&b, NULL);
}

static void golden(Peers *p, ReportFormat f, const char *dir, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *got = render(p, f);
	if (getenv("PTE_UPDATE_GOLDEN")) {
		FILE *o = fopen(path, "wb");
		fputs(got, o);
		fclose(o);
	}
	char *want = slurp(path);
	if (!checkf(want && !strcmp(got, want), "%s differs from the golden file; actual output written to ./%s", path,
		    name)) {
		FILE *o = fopen(name, "wb");   /* in the test's working directory, for diff */
		if (o) {
			fputs(got, o);
			fclose(o);
		}
	}
	free(got);
	free(want);
}

static Peers *scene;
static const char *golden_dir;

static void test_golden(void)
{
	golden(scene, REPORT_TEXT, golden_dir, "report.txt");
	golden(scene, REPORT_MARKDOWN, golden_dir, "report.md");
}

static void test_html(void)
{
	/* the same content twice: output is stable */
	char *a = render(scene, REPORT_HTML), *b = render(scene, REPORT_HTML);
	check(!strcmp(a, b));
	/* HTML: self-contained, no script, hostile strings escaped */
	check(!strstr(a, "<script"));
	check(!strstr(a, "src=\"http") && !strstr(a, "href=\"http") && !strstr(a, "url("));
	check(!strstr(a, "<img"));
	check(strstr(a, "&lt;img src=x&gt;&amp;&quot;&#39;|*_") != NULL);
	check(strstr(a, "evil&#x01;|`reason") != NULL);
	check(strstr(a, "postfix-mx/&lt;b&gt;|*x*") != NULL);
	check(strstr(a, "<svg") != NULL);
	check(strstr(a, "enforcing TLS on syslog_name postfix would have refused 5 mail sessions from 3 peers (38.5 % of mail)") != NULL);
	free(a);
	free(b);
}

static void test_escaping(void)
{
	/* text and markdown escape control bytes */
	char *t = render(scene, REPORT_TEXT), *md = render(scene, REPORT_MARKDOWN), *js = render(scene, REPORT_JSON);
	check(!strchr(t, '\001') && !strchr(md, '\001') && !strchr(js, '\001'));
	check(strstr(md, "\\<img src=x\\>\\&\"'\\|\\*\\_") != NULL);
	check(strstr(js, "\\u003cimg src=x\\u003e\\u0026\\\"'|*_") != NULL);
	/* the policy snippet */
	check(strstr(t, "    gmail.com         verify\n") != NULL);
	check(strstr(t, "    example.org       encrypt\n") != NULL);
	check(strstr(t, "    lists.example.org encrypt\n") != NULL);
	check(strstr(t, "plain.example.net encrypt") == NULL);
	check(strstr(t, "mixed.example encrypt") == NULL);
	free(t);
	free(md);
	free(js);
}

static void test_empty(void)
{
	/* an empty table renders too */
	Peers *e = NULL;
	require(peers_new(&e, NULL, NULL) == 0);
	for (ReportFormat f = REPORT_TEXT; f <= REPORT_HTML; f++) {
		Buf o = BUF_NULL;
		check(report_render(e, f, 0, 0, &o) == 0);
		check(o.len > 100);
		buf_deinit(&o);
	}
	Buf o = BUF_NULL;
	check(report_render(e, (ReportFormat)99, 0, 0, &o) == -EINVAL);
	buf_deinit(&o);
	ReportFormat f;
	check(report_format_from_string("json", &f) == 0 && f == REPORT_JSON);
	check(report_format_from_string("yaml", &f) == -EINVAL);
	peers_free(e);
}

int main(int argc, char **argv)
{
	scene = scenario();
	if (argc == 3 && !strcmp(argv[1], "--print")) {
		ReportFormat f;
		if (report_format_from_string(argv[2], &f) < 0)
			return 2;
		char *s = render(scene, f);
		fputs(s, stdout);
		free(s);
		peers_free(scene);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: test-report GOLDEN_DIR | --print FORMAT\n");
		return 2;
	}
	golden_dir = argv[1];
	test_run(test_golden);
	test_run(test_html);
	test_run(test_escaping);
	test_run(test_empty);
	peers_free(scene);
	return test_exit();
}

/*
 * test-peers-state.c - save/load round trips of the peer state and every
 * way a state file can be wrong: empty, bad magic, truncated at each
 * length, any flipped byte, a future or zero version, other dimensions,
 * implausible counts with a valid checksum, bad strings, disordered hours,
 * unknown combo ids, trailing garbage.
 */
#include "../harness.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "peers.h"
#include "report.h"

static int64_t ts(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm) * 1000000;
}

static Peers *mk(size_t max, size_t track)
{
	Peers *p = NULL;
	PeersConfig cfg = { max, track, 0 };
	require(peers_new(&p, NULL, &cfg) == 0);
	return p;
}

static void populate(Peers *p, int64_t base, int rounds)
{
	static const char *const hosts[] = { "mx1.alpha.example", "mail.bravo.example.co.uk", "unknown", "smtp.charlie.example",
					     "mx.delta.example", "out.echo.example" };
	for (int i = 0; i < rounds; i++) {
		PeerSession s = {
			.ts_usec = base + (int64_t)i * 600 * 1000000, /* every 10 minutes */
			.syslog_name = i % 5 ? SLICE_LIT("postfix") : SLICE_LIT("postfix/submission"),
			.client_name = slice_from(hosts[i % 6]), .client_addr = SLICE_LIT("192.0.2.55"),
			.encryption = (Encryption)(i % 3), .mail = i % 4 != 0,
			.protocol = i % 3 == 0 ? SLICE_LIT("TLSv1.2") : SLICE_NULL,
			.cipher = i % 3 == 0 ? SLICE_LIT("ECDHE-RSA-AES256-GCM-SHA384") : SLICE_NULL,
			.failure = i % 3 == 2 ? "no_shared_cipher" : NULL,
		};
		peers_inbound_session(p, &s);
		PeerDelivery d = {
			.ts_usec = s.ts_usec, .syslog_name = SLICE_LIT("postfix"),
			.recipient = i % 2 ? SLICE_LIT("u@example.org") : SLICE_LIT("v@plain.example.net"),
			.relay = i % 7 ? SLICE_LIT("mx[192.0.2.1]:25") : SLICE_LIT("none"),
			.tls = i % 2 ? TRUST_VERIFIED : TRUST_NONE, .protocol = i % 2 ? SLICE_LIT("TLSv1.3") : SLICE_NULL,
			.status = i % 7 ? DELIVERY_SENT : DELIVERY_DEFERRED,
		};
		peers_outbound_delivery(p, &d);
	}
}

static char *render(Peers *p, ReportFormat f)
{
	Buf b = BUF_NULL;
	check(report_render(p, f, 0, 0, &b) == 0);
	buf_cstr(&b);
	return buf_steal(&b, NULL);
}

static void patch_crc(uint8_t *d, size_t len)
{
	uint32_t c = (uint32_t)crc32(0L, d, (uInt)(len - 4));
	for (int i = 0; i < 4; i++)
		d[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

static void put32(uint8_t *d, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

static void test_roundtrip(void)
{
	/* 10 labels for 6 peers: nothing is folded, so the since-start
	 * "folded" figure in the reports agrees too */
	Peers *a = mk(10, 100);
	populate(a, ts(2026, 11, 25, 0, 0, 0), 500);
	Buf b = BUF_NULL;
	check(peers_save_buffer(a, &b) == 0);
	check(b.len > 100);

	Peers *c = mk(10, 100);
	char *err = NULL;
	check(peers_load_buffer(c, b.data, b.len, &err) == 0);
	check(err == NULL);
	/* the report is identical, which compares every window, peer and total */
	for (ReportFormat f = REPORT_TEXT; f <= REPORT_HTML; f++) {
		char *x = render(a, f), *y = render(c, f);
		check(x && y && !strcmp(x, y));
		free(x);
		free(y);
	}
	/* and saving again gives the same bytes */
	Buf b2 = BUF_NULL;
	check(peers_save_buffer(c, &b2) == 0);
	check(b.len == b2.len && !memcmp(b.data, b2.data, b.len));

	/* window counts after the restart keep growing */
	PeerStats before, after;
	check(peers_get_window(c, PEER_INBOUND, "alpha.example", 0, 0, &before) == 0);
	populate(c, ts(2026, 11, 28, 11, 30, 0), 6);
	check(peers_get_window(c, PEER_INBOUND, "alpha.example", 0, 0, &after) == 0);
	check_u64(after.total, before.total + 1);
	check(after.first_seen_usec == before.first_seen_usec);

	/* through the state directory */
	char dir[] = "/tmp/pte-peers-state-XXXXXX";
	check(mkdtemp(dir) != NULL);
	Peers *d = mk(10, 100);
	check(peers_load(d, dir, NULL) == -ENOENT);
	check(peers_save(a, dir) == 0);
	check(peers_load(d, dir, NULL) == 0);
	char *x = render(a, REPORT_JSON), *y = render(d, REPORT_JSON);
	check(x && y && !strcmp(x, y));
	free(x);
	free(y);
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, PEERS_STATE_FILE);
	unlink(path);
	rmdir(dir);

	/* a state saved with a 7 d window loads into a 1 h window: only the newest hour stays */
	{
		Peers *h = NULL;
		PeersConfig hc = { 10, 100, 3600LL * 1000000 };
		check(peers_new(&h, NULL, &hc) == 0);
		check(peers_load_buffer(h, b.data, b.len, NULL) == 0);
		PeersTotals T1, T7;
		peers_get_totals(h, 0, 0, &T1);
		peers_get_totals(a, 0, 0, &T7);
		uint64_t n1 = 0, n7 = 0;
		for (unsigned k = 0; k < 6; k++) {
			n1 += T1.in[k];
			n7 += T7.in[k];
		}
		check_u64(n1, 2);    /* 11:00 and 11:10, the last hour of the log */
		check_u64(n7, 500);
		peers_free(h);
	}

	/* a smaller table keeps the busiest peers */
	Peers *s = mk(1, 2);
	check(peers_load_buffer(s, b.data, b.len, NULL) == 0);
	PeersTotals T;
	peers_get_totals(s, 0, 0, &T);
	check_u64(T.tracked[PEER_INBOUND], 2);
	PeerStats st;
	check(peers_get_window(s, PEER_INBOUND, "unknown", 0, 0, &st) == 0 ||
	      peers_get_window(s, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);

	buf_deinit(&b);
	buf_deinit(&b2);
	peers_free(a);
	peers_free(c);
	peers_free(d);
	peers_free(s);
}

static void expect_reject(Peers *p, const uint8_t *d, size_t len, int want, const char *msg_part, const char *what)
{
	char *err = NULL;
	int r = peers_load_buffer(p, d, len, &err);
	checkf(r == want && err && strstr(err, msg_part), "%s: got %d '%s', want %d '...%s...'", what, r,
	       err ? err : "(none)", want, msg_part);
	free(err);
}

/* find - offset of the first s in d[len], or len */
static size_t find(const uint8_t *d, size_t len, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(d + i, s, n))
			return i;
	return len;
}

/* issue 15: one bad record (an ESC in a cipher name, a peer with invalid
 * UTF-8) is skipped and counted; the rest of the file is loaded. */
static void test_bad_record_skipped(void)
{
	Peers *src = mk(10, 100);
	populate(src, ts(2026, 11, 25, 0, 0, 0), 500);
	Buf b = BUF_NULL;
	check(peers_save_buffer(src, &b) == 0);
	uint8_t *d = malloc(b.len);
	require(d);
	char *want = render(src, REPORT_JSON);

	/* a control byte in a combo (cipher) */
	memcpy(d, b.data, b.len);
	size_t at = find(d, b.len, "ECDHE-RSA-AES256-GCM-SHA384");
	require(at < b.len);
	d[at + 5] = 0x1b;
	patch_crc(d, b.len);
	Peers *p = mk(10, 100);
	char *err = NULL;
	check(peers_load_buffer(p, d, b.len, &err) == 1);
	check(err == NULL);
	char *got = render(p, REPORT_JSON);
	/* the peers and the totals are all there; only that cipher reads "other" */
	check(got && strstr(got, "mx1.alpha.example") && strstr(got, "smtp.charlie.example"));
	check(got && !strstr(got, "ECDHE-RSA-AES256-GCM-SHA384"));
	free(got);
	peers_free(p);

	/* invalid UTF-8 in an example, then in a peer's key (length byte 13):
	 * that example, that peer with its slots, is skipped, the others kept */
	memcpy(d, b.data, b.len);
	at = find(d, b.len, "mx.delta.example");
	require(at < b.len);
	d[at] = 0xff;
	patch_crc(d, b.len);
	p = mk(10, 100);
	check(peers_load_buffer(p, d, b.len, NULL) == 1);
	got = render(p, REPORT_JSON);
	check(got && !strstr(got, "mx.delta.example") && strstr(got, "\"delta.example"));
	free(got);
	peers_free(p);
	memcpy(d, b.data, b.len);
	at = find(d, b.len, "\rdelta.example");
	require(at < b.len);
	d[at + 1] = 0xff;
	patch_crc(d, b.len);
	p = mk(10, 100);
	check(peers_load_buffer(p, d, b.len, NULL) == 1);
	got = render(p, REPORT_JSON);
	check(got && !strstr(got, "\"delta.example") && strstr(got, "alpha.example") && strstr(got, "echo.example"));
	free(got);
	peers_free(p);

	/* and a clean file still loads with nothing skipped */
	p = mk(10, 100);
	check(peers_load_buffer(p, b.data, b.len, NULL) == 0);
	got = render(p, REPORT_JSON);
	check(got && want && !strcmp(got, want));
	free(got);
	peers_free(p);
	free(want);
	free(d);
	buf_deinit(&b);
	peers_free(src);
}

static void test_corruption(void)
{
	Peers *src = mk(5, 100);
	populate(src, ts(2026, 11, 27, 0, 0, 0), 200);
	Buf b = BUF_NULL;
	check(peers_save_buffer(src, &b) == 0);
	const uint8_t *good = (const uint8_t *)b.data;
	size_t len = b.len;
	uint8_t *d = malloc(len + 64);

	Peers *p = mk(5, 100);
	populate(p, ts(2026, 11, 28, 0, 0, 0), 7);
	char *before = render(p, REPORT_JSON);

	expect_reject(p, (const uint8_t *)"", 0, -EBADMSG, "bad magic", "empty");
	expect_reject(p, (const uint8_t *)"GARBAGE!GARBAGE!GARBAGE!GARBAGE!GARBAGE!GARBAGE!", 48, -EBADMSG, "bad magic", "magic");
	expect_reject(p, good, 20, -EBADMSG, "truncated header", "short header");

	/* every truncation */
	unsigned bad = 0;
	for (size_t n = 0; n < len; n++)
		if (peers_load_buffer(p, good, n, NULL) != -EBADMSG)
			bad++;
	check_u64(bad, 0);
	memcpy(d, good, len);
	expect_reject(p, d, len - 1, -EBADMSG, "truncated", "truncated by one byte");

	/* every single-byte change is caught (checksum, or the header checks before it) */
	bad = 0;
	for (size_t i = 0; i < len; i++) {
		memcpy(d, good, len);
		d[i] ^= 0x5a;
		int r = peers_load_buffer(p, d, len, NULL);
		if (r != -EBADMSG && r != -EPROTONOSUPPORT)
			bad++;
	}
	check_u64(bad, 0);
	memcpy(d, good, len);
	d[len / 2] ^= 1;
	expect_reject(p, d, len, -EBADMSG, "checksum mismatch", "bit flip");

	/* future version, version 0 (with valid checksums) */
	memcpy(d, good, len);
	put32(d + 8, PEERS_STATE_VERSION + 1);
	patch_crc(d, len);
	expect_reject(p, d, len, -EPROTONOSUPPORT, "newer than supported", "future version");
	put32(d + 8, 0);
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "version 0", "version 0");
	/* other table dimensions */
	memcpy(d, good, len);
	put32(d + 12, 99);
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "dimensions", "dimensions");
	/* body length lies */
	memcpy(d, good, len);
	d[28] ^= 1;
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "length mismatch", "body length");

	/* hostile: a huge count with a valid checksum; the body starts at 36 */
	size_t body = 36, syslog_count = body + 24;
	memcpy(d, good, len);
	put32(d + syslog_count, 0xffffffffu);
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "implausible count", "huge count");
	/* a control byte in a syslog name */
	memcpy(d, good, len);
	d[syslog_count + 5] = '\n';
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "control byte", "control byte");
	/* a zero-length syslog name */
	memcpy(d, good, len);
	d[syslog_count + 4] = 0;
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "", "zero-length name");
	/* trailing garbage, with consistent length and checksum */
	memcpy(d, good, len - 4);
	memcpy(d + len - 4, "JUNK", 4);
	size_t l2 = len + 4;
	uint64_t blen = l2 - 36 - 4;
	for (int i = 0; i < 8; i++)
		d[28 + i] = (uint8_t)(blen >> (8 * i));
	patch_crc(d, l2);
	expect_reject(p, d, l2, -EBADMSG, "trailing garbage", "trailing garbage");
	/* a negative timestamp */
	memcpy(d, good, len);
	d[body + 15] = 0x80;
	patch_crc(d, len);
	expect_reject(p, d, len, -EBADMSG, "bad window or timestamp", "negative timestamp");

	/* a rejected file leaves the table as it was */
	char *after = render(p, REPORT_JSON);
	check(before && after && !strcmp(before, after));
	free(before);
	free(after);

	/* random garbage with a valid header and checksum never crashes */
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 2000; round++) {
		memcpy(d, good, len);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			size_t at = body + (size_t)(x % (len - body - 4));
			d[at] = (uint8_t)(x >> 32);
		}
		patch_crc(d, len);
		(void)peers_load_buffer(p, d, len, NULL);
	}
	check(peers_load_buffer(p, good, len, NULL) == 0);

	free(d);
	buf_deinit(&b);
	peers_free(p);
	peers_free(src);
}

int main(void)
{
	test_run(test_roundtrip);
	test_run(test_corruption);
	test_run(test_bad_record_skipped);
	return test_exit();
}

/*
 * test-peers.c - peer identity, Space-Saving folding with exact sums, and
 * hourly windows in log time.
 */
#include "../harness.h"

#include <errno.h>
#include <math.h>
#include <sys/mman.h>
#include <time.h>

#include "expo.h"
#include "macro.h"
#include "metrics.h"
#include "peers_int.h"
#include "peers.h"
#include "report.h"
#include "store.h"

static int64_t ts(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
	return (int64_t)timegm(&tm) * 1000000;
}

static Peers *new_peers(Store *store, size_t max, size_t track, int64_t window)
{
	Peers *p = NULL;
	PeersConfig cfg = { max, track, window };
	require(peers_new(&p, store, &cfg) == 0);
	return p;
}

static void in_session(Peers *p, int64_t t, const char *syslog, const char *host, const char *addr, Encryption enc,
		       bool mail, const char *proto, const char *cipher, const char *failure)
{
	PeerSession s = {
		.ts_usec = t, .syslog_name = slice_from(syslog), .client_name = slice_from(host),
		.client_addr = slice_from(addr), .encryption = enc, .mail = mail,
		.protocol = slice_from(proto ? proto : ""), .cipher = slice_from(cipher ? cipher : ""), .failure = failure,
	};
	peers_inbound_session(p, &s);
}

static void out_delivery(Peers *p, int64_t t, const char *rcpt, const char *relay, Trust tls, const char *proto,
			 DeliveryStatus st)
{
	PeerDelivery d = {
		.ts_usec = t, .syslog_name = SLICE_LIT("postfix"), .recipient = slice_from(rcpt),
		.relay = slice_from(relay), .tls = tls, .protocol = slice_from(proto ? proto : ""), .status = st,
	};
	peers_outbound_delivery(p, &d);
}

static void test_domains(void)
{
	Peers *p = new_peers(NULL, 10, 100, 0);
	static const struct { const char *in, *want; } cases[] = {
		{ "mail-wr1-f54.google.com", "google.com" },
		{ "a8-30.smtp-out.eu-west-1.amazonses.com", "amazonses.com" },
		{ "mx.example.co.uk", "example.co.uk" },
		{ "MX.Example.CO.UK.", "example.co.uk" },           /* case, trailing dot */
		{ "mx.example.com..", "example.com" },
		{ "deep.a.b.c.example.org", "example.org" },
		{ "www.Bücher.de", "xn--bcher-kva.de" },            /* IDN -> punycode */
		{ "xn--bcher-kva.de", "xn--bcher-kva.de" },
		{ "mail.例子.中国", "xn--fsqu00a.xn--fiqs8s" },      /* IDN public suffix */
		{ "mail.example.xn--fiqs8s", "example.xn--fiqs8s" },
		{ "ｍａｉｌ.ＥＸＡＭＰＬＥ.com", "example.com" },        /* NFKC full-width */
		{ "foo.blogspot.com", "foo.blogspot.com" },          /* private suffix */
		{ "mx1.alpha.example.test", "example.test" },        /* unlisted TLD: default rule */
		{ "localhost", "localhost" },                        /* a public suffix itself */
		{ "co.uk", "co.uk" },
		{ "unknown", "unknown" },
		{ "other", "unknown" },                              /* reserved for folding */
		{ "", "unknown" },
		{ "192.0.2.1", "unknown" },                          /* IP literals */
		{ "[192.0.2.1]", "unknown" },
		{ "2001:db8::1", "unknown" },
		{ "bad host.example.com", "unknown" },
		{ "a..b.example.com", "unknown" },
		{ "x\001.example.com", "unknown" },
		{ "\xff\xfe.example.com", "unknown" },               /* invalid UTF-8 */
		{ "<script>.example.com", "unknown" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", "unknown" }, /* 64-byte label */
		{ "under_score.example.net", "example.net" },
		/* 133 bytes: longer than a cache entry, normalised every time */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.Example.com", "example.com" },
	};
	PeerNamer *namer;
	require(peers_namer_new(&namer, p) == 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = peers_domain_of_host(p, slice_from(cases[i].in));
		check_str(got, cases[i].want);
		/* second lookup comes from the cache and agrees */
		check_str(peers_domain_of_host(p, slice_from(cases[i].in)), cases[i].want);
		/* a PeerNamer (the reading thread's) normalises the same way,
		 * from its own cache, the first time and the second */
		PeerName mine, theirs;
		for (int k = 0; k < 2; k++) {
			peers_normalize_host(&p->dc, slice_from(cases[i].in), &theirs);
			char want_norm[256];
			snprintf(want_norm, sizeof(want_norm), "%.*s", (int)theirs.norm.n, theirs.norm.p);
			peers_namer_host(namer, slice_from(cases[i].in), &mine);
			check_u64(mine.norm.n, strlen(want_norm));
			check(mine.norm.n == 0 || !memcmp(mine.norm.p, want_norm, mine.norm.n));
			check_u64(mine.reg_off, theirs.reg_off);
			if (strcmp(cases[i].want, "unknown") != 0) /* "unknown" itself is skipped before */
				check(mine.norm.n > mine.reg_off &&
				      !strncmp(mine.norm.p + mine.reg_off, cases[i].want, mine.norm.n - mine.reg_off));
		}
	}
	static const struct { const char *in, *want; } rcpt[] = {
		{ "user@Mail.Example.ORG", "example.org" },
		{ "<user@example.co.uk>", "example.co.uk" },
		{ "\"a@b\"@example.net", "example.net" },
		{ "user@[192.0.2.1]", "unknown" },
		{ "postmaster", "unknown" },
		{ "user@", "unknown" },
		{ "user@bücher.de", "xn--bcher-kva.de" },
	};
	for (size_t i = 0; i < sizeof(rcpt) / sizeof(rcpt[0]); i++) {
		check_str(peers_domain_of_recipient(p, slice_from(rcpt[i].in)), rcpt[i].want);
		PeerName mine;
		peers_namer_recipient(namer, slice_from(rcpt[i].in), &mine);
		char got[256] = "unknown"; /* an empty name has no bytes (norm.p NULL) */
		if (mine.norm.n)
			snprintf(got, sizeof(got), "%.*s", (int)(mine.norm.n - mine.reg_off), mine.norm.p + mine.reg_off);
		check_str(got, rcpt[i].want);
	}
	peers_namer_free(namer);
	peers_free(p);
}

/* Sessions and deliveries whose names a PeerNamer normalised (PeerSession.name,
 * PeerDelivery.dest, as the reading thread hands them on) count exactly as
 * those the Peers normalise: series and report byte for byte, with
 * examples, destinations, unknown names and folding. */
static void test_named(void)
{
	Store *st[2];
	Peers *p[2];
	PeerNamer *namer;
	for (int i = 0; i < 2; i++) {
		require(store_new(&st[i], metrics_families, _M_MAX, 2000) == 0);
		PeersConfig c = { 3, 8, 24 * 3600LL * 1000000 };
		require(peers_new(&p[i], st[i], &c) == 0);
	}
	require(peers_namer_new(&namer, p[1]) == 0);
	static const char *const hosts[] = { "mx1.Example.COM.", "mail.bücher.de", "unknown", "192.0.2.9",
					     "a.b.c.example.co.uk", "mx.peer3.example", "mx.peer4.example",
					     "mx.peer5.example", "mx.peer6.example", "mx.peer7.example", "mx.peer8.example",
					     "mx.peer9.example", "bad host" };
	static const char *const rcpts[] = { "<u@Example.ORG>", "u@[192.0.2.1]", "postmaster", "u@sub.example.net",
					     "<v@bücher.de>", "w@x.peer3.example", "w@x.peer4.example" };
	int64_t t0 = ts(2026, 11, 1, 0, 0, 0);
	for (int k = 0; k < 200; k++) {
		const char *h = hosts[(k * 7) % (sizeof(hosts) / sizeof(hosts[0]))];
		const char *r = rcpts[(k * 5) % (sizeof(rcpts) / sizeof(rcpts[0]))];
		int64_t t = t0 + k * 600LL * 1000000;
		PeerName name, dest;
		peers_namer_host(namer, slice_from(h), &name);
		char nbuf[256];
		memcpy(nbuf, name.norm.p ? name.norm.p : "", name.norm.n); /* valid until the next call */
		name.norm.p = nbuf;
		peers_namer_recipient(namer, slice_from(r), &dest);
		for (int i = 0; i < 2; i++) {
			PeerSession s = { .ts_usec = t, .syslog_name = SLICE_LIT("postfix"), .client_name = slice_from(h),
					  .client_addr = SLICE_LIT("192.0.2.7"), .encryption = (Encryption)(k % 3),
					  .mail = k % 2, .protocol = k % 3 == ENC_TLS ? SLICE_LIT("TLSv1.3") : SLICE_LIT(""),
					  .cipher = SLICE_LIT("TLS_AES_256_GCM_SHA384"), .name = i ? &name : NULL };
			peers_inbound_session(p[i], &s);
			PeerDelivery d = { .ts_usec = t, .syslog_name = SLICE_LIT("postfix"), .recipient = slice_from(r),
					   .relay = SLICE_LIT("mx.example.org[192.0.2.8]:25"), .tls = (Trust)(k % 3),
					   .protocol = SLICE_LIT("TLSv1.2"), .status = (DeliveryStatus)(k % 2),
					   .dest = i ? &dest : NULL };
			peers_outbound_delivery(p[i], &d);
		}
	}
	Buf b[2] = { BUF_NULL, BUF_NULL };
	for (int i = 0; i < 2; i++) {
		require(expo_render(st[i], EXPO_TEXT, false, &b[i]) == 0);
		require(report_render(p[i], REPORT_JSON, 0, 0, &b[i]) == 0);
	}
	check(b[0].len > 1000 && b[0].len == b[1].len && !memcmp(b[0].data, b[1].data, b[0].len));
	check(strstr(b[0].data, "xn--bcher-kva.de") != NULL && strstr(b[0].data, "peer_domain=\"other\"") != NULL);
	for (int i = 0; i < 2; i++) {
		buf_deinit(&b[i]);
		peers_free(p[i]);
		store_free(st[i]);
	}
	peers_namer_free(namer);
}

static void check_sums(Peers *p, PeerDirection d, const char *const *labelled, size_t n)
{
	for (unsigned c = 0; c < PEERS_CELLS; c++) {
		uint64_t sum = peers_series_value(p, d, "other", c);
		for (size_t i = 0; i < n; i++)
			sum += peers_series_value(p, d, labelled[i], c);
		check_u64(sum, peers_event_total(p, d, c));
	}
}

static void test_folding(void)
{
	Store *store = NULL;
	check(store_new(&store, metrics_families, _M_MAX, 100000) == 0);
	Peers *p = new_peers(store, 3, 10, 0);
	int64_t t = ts(2026, 11, 28, 12, 0, 0);
	unsigned cell = peers_in_cell(ENC_TLS, true);
	char host[64];

	/* s0..s2 take the free labels first come; s3, s4 are folded */
	for (int i = 0; i < 5; i++) {
		snprintf(host, sizeof(host), "mx.s%d.example", i);
		in_session(p, t, "postfix", host, "192.0.2.1", ENC_TLS, true, "TLSv1.3", "TLS_AES_256_GCM_SHA384", NULL);
	}
	check_u64(peers_labelled_count(p, PEER_INBOUND), 3);
	check_u64(peers_series_value(p, PEER_INBOUND, "other", cell), 2);
	{
		/* scraped now: three labelled singletons and "other" */
		store_collect(store);
		const Series *const *sv;
		size_t sn;
		check(store_sorted(store, M_INBOUND_PEER_SESSIONS, &sv, &sn) == 0);
		check_u64(sn, 4);
		store_collect(store);   /* a second scrape changes nothing */
		check(store_sorted(store, M_INBOUND_PEER_SESSIONS, &sv, &sn) == 0);
		check_u64(sn, 4);
	}
	/* heavy hitters take over labels from the singletons */
	for (int i = 0; i < 100; i++)
		in_session(p, t, "postfix", "mail-a.alpha.example", "192.0.2.2", ENC_TLS, true, "TLSv1.3", "X", NULL);
	for (int i = 0; i < 50; i++)
		in_session(p, t, "postfix", "mail-b.bravo.example", "192.0.2.3", ENC_TLS, true, "TLSv1.3", "X", NULL);
	for (int i = 0; i < 30; i++)
		in_session(p, t, "postfix", "mail-c.charlie.example", "192.0.2.4", ENC_TLS, true, "TLSv1.3", "X", NULL);
	/* a flood of distinct peers (cardinality attack) */
	for (int i = 0; i < 1000; i++) {
		snprintf(host, sizeof(host), "h%d.flood%d.example", i, i);
		in_session(p, t, "postfix", host, "198.51.100.1", ENC_TLS, true, "TLSv1.3", "X", NULL);
	}
	check_u64(peers_labelled_count(p, PEER_INBOUND), 3);
	/* first event of each heavy hitter was folded; then it displaced a singleton */
	check_u64(peers_series_value(p, PEER_INBOUND, "alpha.example", cell), 99);
	check_u64(peers_series_value(p, PEER_INBOUND, "bravo.example", cell), 49);
	check_u64(peers_series_value(p, PEER_INBOUND, "charlie.example", cell), 29);
	check_u64(peers_series_value(p, PEER_INBOUND, "other", cell), 2 + 3 + 3 + 1000);
	check_u64(peers_event_total(p, PEER_INBOUND, cell), 1185);
	static const char *const top[] = { "alpha.example", "bravo.example", "charlie.example" };
	check_sums(p, PEER_INBOUND, top, 3);

	/* the exposition: series per family bounded, sums exact */
	store_collect(store);
	const Series *const *v;
	size_t n;
	check(store_sorted(store, M_INBOUND_PEER_SESSIONS, &v, &n) == 0);
	check_u64(n, 4);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i]->value;
	check(sum == 1185.0);
	Slice k[3] = { SLICE_LIT("alpha.example"), SLICE_LIT("tls"), SLICE_LIT("true") };
	check(store_get(store, M_INBOUND_PEER_SESSIONS, k) == 99.0);
	/* the demoted singletons' series are gone, their counts are in "other" */
	Slice k0[3] = { SLICE_LIT("s0.example"), SLICE_LIT("tls"), SLICE_LIT("true") };
	Slice ko[3] = { SLICE_LIT("other"), SLICE_LIT("tls"), SLICE_LIT("true") };
	check(store_get(store, M_INBOUND_PEER_SESSIONS, k0) == 0.0);
	check(store_get(store, M_INBOUND_PEER_SESSIONS, ko) == 1008.0);
	Slice dir[1] = { SLICE_LIT("inbound") };
	check(store_get(store, M_PEERS_TRACKED, dir) == 10.0);
	check(store_get(store, M_PEERS_FOLDED, dir) == 2.0 + 1 + 1 + 1 + 1000);

	/* tracking is bounded and the heavy hitters are still tracked */
	PeerStats st;
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);
	check_u64(st.ss_count, 100);
	check_u64(st.ss_error, 0);
	check(peers_get_window(p, PEER_INBOUND, "flood0.example", 0, 0, &st) == -ENOENT);
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.tracked[PEER_INBOUND], 10);
	check_u64(T.evicted[PEER_INBOUND], 998);
	check_u64(T.in[cell], 1185);
	peers_free(p);
	store_free(store);
}

/* Until the table is full its eviction candidates are kept in no order
 * (peers_table.c); the first eviction must still take the least busy. Nine
 * tracked, one labelled (e0, the busiest); the least busy of the other
 * eight arrives in the middle, so neither end of the list is the answer. */
static void test_evict_least_busy(void)
{
	Peers *p = new_peers(NULL, 1, 9, 0);
	int64_t t = ts(2026, 11, 28, 12, 0, 0);
	static const unsigned counts[9] = { 20, 4, 6, 2, 7, 5, 8, 3, 9 };
	char host[64], key[64];
	PeerStats st;
	for (unsigned i = 0; i < 9; i++) {
		snprintf(host, sizeof(host), "mx.e%u.example", i);
		for (unsigned k = 0; k < counts[i]; k++)
			in_session(p, t, "postfix", host, "192.0.2.1", ENC_TLS, true, "TLSv1.3", "X", NULL);
	}
	check_u64(peers_labelled_count(p, PEER_INBOUND), 1);
	in_session(p, t, "postfix", "mx.new.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "X", NULL);
	check(peers_get_window(p, PEER_INBOUND, "e3.example", 0, 0, &st) == -ENOENT);
	for (unsigned i = 0; i < 9; i++) {
		snprintf(key, sizeof(key), "e%u.example", i);
		if (i != 3) {
			check(peers_get_window(p, PEER_INBOUND, key, 0, 0, &st) == 0);
			check_u64(st.ss_count, counts[i]);
		}
	}
	/* the newcomer inherits the evicted count as its error */
	check(peers_get_window(p, PEER_INBOUND, "new.example", 0, 0, &st) == 0);
	check_u64(st.ss_count, 3);
	check_u64(st.ss_error, 2);
	/* now a heap: the next newcomer pushes out one of the two at 3 (e7 or
	 * the first newcomer), not e1 at 4 */
	in_session(p, t, "postfix", "mx.new2.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "X", NULL);
	check((peers_get_window(p, PEER_INBOUND, "e7.example", 0, 0, &st) == -ENOENT) !=
	      (peers_get_window(p, PEER_INBOUND, "new.example", 0, 0, &st) == -ENOENT));
	check(peers_get_window(p, PEER_INBOUND, "e1.example", 0, 0, &st) == 0);
	check(peers_get_window(p, PEER_INBOUND, "new2.example", 0, 0, &st) == 0);
	check_u64(st.ss_count, 4);
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.tracked[PEER_INBOUND], 9);
	check_u64(T.evicted[PEER_INBOUND], 2);
	peers_free(p);
}

/* A skewed random stream: the true top peers stay labelled, sums stay exact. */
static void test_folding_random(void)
{
	Peers *p = new_peers(NULL, 20, 500, 0);
	uint64_t x = 88172645463325252ULL;
	static uint32_t freq[5000];
	int64_t t = ts(2026, 11, 1, 0, 0, 0);
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Zipf-like: rank = floor(5000^u) - 1 */
		double u = (double)(x % 1000000) / 1000000.0;
		unsigned rank = (unsigned)exp(u * log(5000.0)) - 1;
		if (rank >= 5000)
			rank = 4999;
		freq[rank]++;
		char host[64];
		snprintf(host, sizeof(host), "mx%u.peer%u.example", i % 7, rank);
		in_session(p, t + (int64_t)i * 1000000, "postfix", host, "192.0.2.1", (Encryption)(i % 3), i % 2, NULL, NULL, NULL);
	}
	/* the ten most frequent peers are labelled */
	for (unsigned r = 0; r < 10; r++) {
		char key[64];
		snprintf(key, sizeof(key), "peer%u.example", r);
		PeerStats st;
		check(peers_get_window(p, PEER_INBOUND, key, 0, 0, &st) == 0);
		check(st.labelled);
	}
	check(peers_labelled_count(p, PEER_INBOUND) == 20);
	uint64_t all = 0;
	for (unsigned c = 0; c < 6; c++) {
		uint64_t sum = peers_series_value(p, PEER_INBOUND, "other", c);
		PeerStats *v;
		size_t n;
		peers_list(p, PEER_INBOUND, 0, 0, &v, &n);
		for (size_t i = 0; i < n; i++)
			if (v[i].labelled)
				sum += peers_series_value(p, PEER_INBOUND, v[i].key, c);
		free(v);
		check_u64(sum, peers_event_total(p, PEER_INBOUND, c));
		all += sum;
	}
	check_u64(all, 200000);
	peers_free(p);
}

static void test_windows(void)
{
	/* window of 24 h */
	Peers *p = new_peers(NULL, 10, 100, 24LL * 3600 * 1000000);
	int64_t h23 = ts(2026, 11, 27, 23, 30, 0);
	in_session(p, h23, "postfix", "mx.alpha.example", "192.0.2.1", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	in_session(p, ts(2026, 11, 27, 23, 59, 59) + 999999, "postfix", "mx.alpha.example", "192.0.2.1", ENC_TLS, true, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", NULL);
	in_session(p, ts(2026, 11, 28, 0, 0, 0), "postfix", "mx.alpha.example", "192.0.2.1", ENC_TLS, false, "TLSv1", "AES256-SHA", NULL);
	in_session(p, ts(2026, 11, 28, 0, 10, 0), "postfix/submission", "mx.bravo.example", "192.0.2.2", ENC_STARTTLS_FAILED, false, NULL, NULL, "no_shared_cipher");

	PeerStats st;
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);
	check_u64(st.total, 3);
	check_u64(st.n[peers_in_cell(ENC_PLAINTEXT, true)], 1);
	check_u64(st.n[peers_in_cell(ENC_TLS, true)], 1);
	check_u64(st.n[peers_in_cell(ENC_TLS, false)], 1);
	check(st.first_seen_usec == h23);
	check(st.last_seen_usec == ts(2026, 11, 28, 0, 0, 0));
	check(st.last_plaintext_usec == h23);
	check_u64(st.n_examples, 1);
	check_str(st.examples[0], "mx.alpha.example");
	/* combos: TLS first (kind order), then plaintext mail by syslog_name */
	check_u64(st.n_combos, 3);
	check(st.combos[0].kind == COMBO_TLS);
	check_u64(st.combos[0].n, 1);
	check_str(st.combos[0].a, "TLSv1");         /* ties sorted by name */
	check_str(st.combos[1].a, "TLSv1.2");
	check(st.combos[2].kind == COMBO_PLAINMAIL);
	check_str(st.combos[2].a, "postfix");

	/* the same window seen from the end of 27 Nov (23:xx): only that hour */
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", ts(2026, 11, 27, 23, 59, 0), 0, &st) == 0);
	check_u64(st.total, 2);

	/* days: the 24 h window ending in hour 00 of 28 Nov spans two UTC days */
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.n_days, 2);
	check_u64(T.day_sessions[0], 2);
	check_u64(T.day_plain[0], 1);
	check_u64(T.day_plain_mail[0], 1);
	check_u64(T.day_mail[0], 2);
	check_u64(T.day_sessions[1], 2);
	check_u64(T.day_plain[1], 0);
	check_u64(T.n_syslog, 2);
	check_str(T.syslog[0].name, "postfix");
	check_str(T.syslog[1].name, "postfix/submission");
	check_u64(T.syslog[1].in[peers_in_cell(ENC_STARTTLS_FAILED, false)], 1);
	check_u64(T.proto_in[2], 1);  /* TLSv1 */
	check_u64(T.proto_in[4], 1);  /* TLSv1.2 */
	check(T.data_from_usec == ts(2026, 11, 27, 23, 0, 0));

	/* 24 h later (hour 00 of 29 Nov): hour 23 of 27 Nov leaves the window, hour 00 of 28 Nov stays */
	in_session(p, ts(2026, 11, 28, 23, 59, 0), "postfix", "mx.alpha.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "A", NULL);
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);
	check_u64(st.total, 2);
	check(st.last_plaintext_usec == h23);   /* timestamps are not windowed */
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.in[peers_in_cell(ENC_PLAINTEXT, true)], 0);
	check_u64(T.n_days, 1);

	/* a log-time jump backwards beyond the window: counted, not windowed */
	in_session(p, ts(2026, 11, 20, 10, 0, 0), "postfix", "mx.alpha.example", "192.0.2.1", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);
	check_u64(st.total, 2);
	check_u64(peers_event_total(p, PEER_INBOUND, peers_in_cell(ENC_PLAINTEXT, true)), 2);
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.late_events, 1);
	/* a backwards jump within the window lands in its own hour */
	in_session(p, ts(2026, 11, 28, 5, 0, 0), "postfix", "mx.alpha.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "A", NULL);
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == 0);
	check_u64(st.total, 3);

	/* a jump forward by 10 days: everything expires, peers not seen are dropped */
	in_session(p, ts(2026, 12, 8, 12, 0, 0), "postfix", "mx.charlie.example", "192.0.2.9", ENC_TLS, true, "TLSv1.3", "A", NULL);
	check(peers_get_window(p, PEER_INBOUND, "alpha.example", 0, 0, &st) == -ENOENT);
	check(peers_get_window(p, PEER_INBOUND, "bravo.example", 0, 0, &st) == -ENOENT);
	check(peers_get_window(p, PEER_INBOUND, "charlie.example", 0, 0, &st) == 0);
	peers_get_totals(p, 0, 0, &T);
	uint64_t n = 0;
	for (unsigned c = 0; c < 6; c++)
		n += T.in[c];
	check_u64(n, 1);
	peers_free(p);

	/* hour edges with a 1 h window */
	p = new_peers(NULL, 10, 100, 3600LL * 1000000);
	in_session(p, ts(2026, 11, 28, 10, 59, 59) + 999999, "postfix", "a.x.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "A", NULL);
	in_session(p, ts(2026, 11, 28, 11, 0, 0), "postfix", "a.x.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "A", NULL);
	check(peers_get_window(p, PEER_INBOUND, "x.example", 0, 0, &st) == 0);
	check_u64(st.total, 1);
	/* hour 10 was freed when hour 11 began: a 1 h window keeps one hour */
	check(peers_get_window(p, PEER_INBOUND, "x.example", ts(2026, 11, 28, 10, 30, 0), 0, &st) == 0);
	check_u64(st.total, 0);
	peers_free(p);
}

static void test_unknown_and_outbound(void)
{
	Peers *p = new_peers(NULL, 10, 100, 0);
	int64_t t = ts(2026, 11, 28, 9, 0, 0);
	in_session(p, t, "postfix", "unknown", "203.0.113.7", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	in_session(p, t, "postfix", "unknown", "203.0.113.7", ENC_PLAINTEXT, false, NULL, NULL, NULL);
	in_session(p, t, "postfix", "203.0.113.8", "203.0.113.8", ENC_TLS, true, "TLSv1.3", "A", NULL);
	in_session(p, t, "postfix", "unknown", "2001:db8:1:2::5", ENC_PLAINTEXT, true, NULL, NULL, NULL);
	PeerStats st;
	check(peers_get_window(p, PEER_INBOUND, "unknown", 0, 0, &st) == 0);
	check_u64(st.total, 4);
	check_u64(st.n_examples, 0);
	check(peers_get_window(p, PEER_UNKNOWN_ADDR, "203.0.113.7", 0, 0, &st) == 0);
	check_u64(st.total, 2);
	check_u64(st.n[peers_in_cell(ENC_PLAINTEXT, true)], 1);
	check(peers_get_window(p, PEER_UNKNOWN_ADDR, "203.0.113.8", 0, 0, &st) == 0);
	check_u64(st.total, 1);

	out_delivery(p, t, "a@example.org", "mx.example.org[192.0.2.7]:25", TRUST_VERIFIED, "TLSv1.3", DELIVERY_SENT);
	out_delivery(p, t, "b@Mail.Example.ORG", "mx.example.org[192.0.2.7]:25", TRUST_TRUSTED, "TLSv1.2", DELIVERY_SENT);
	out_delivery(p, t, "c@plain.example.net", "mx.plain.example.net[192.0.2.8]:25", TRUST_NONE, "", DELIVERY_SENT);
	out_delivery(p, t, "d@down.example.net", "none", TRUST_NONE, "", DELIVERY_DEFERRED);
	check(peers_get_window(p, PEER_OUTBOUND, "example.org", 0, 0, &st) == 0);
	check_u64(st.total, 2);
	check_u64(st.n[peers_out_cell(TRUST_VERIFIED, DELIVERY_SENT)], 1);
	check_u64(st.n[peers_out_cell(TRUST_TRUSTED, DELIVERY_SENT)], 1);
	check_u64(st.n_examples, 2);
	check_str(st.examples[0], "example.org");
	check_str(st.examples[1], "mail.example.org");
	check(st.last_plaintext_usec == 0);
	check(peers_get_window(p, PEER_OUTBOUND, "example.net", 0, 0, &st) == 0);
	check_u64(st.total, 2);
	check(st.last_plaintext_usec == t);
	check_u64(st.n_combos, 1);
	check(st.combos[0].kind == COMBO_NOCONN);
	check_str(st.combos[0].a, "deferred");
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.out_noconn, 1);
	check_u64(T.proto_out[5], 1);
	check_u64(T.proto_out[4], 1);
	peers_free(p);
}

/* Destinations (the policy-map keys), legacy mail sessions per peer and a
 * shorter window than the configured one; every figure exact, also after a
 * save and load. */
static void test_destinations_and_window(void)
{
	Peers *p = new_peers(NULL, 10, 100, 48LL * 3600 * 1000000);
	int64_t t0 = ts(2026, 11, 27, 9, 0, 0), t1 = ts(2026, 11, 28, 9, 0, 0);
	in_session(p, t0, "postfix", "mx.old.example", "192.0.2.1", ENC_TLS, true, "TLSv1", "A", NULL);
	in_session(p, t1, "postfix", "mx.old.example", "192.0.2.1", ENC_TLS, false, "TLSv1.1", "B", NULL);
	in_session(p, t1, "postfix", "mx.old.example", "192.0.2.1", ENC_TLS, true, "TLSv1.1", "B", NULL);
	in_session(p, t1, "postfix", "mx.old.example", "192.0.2.1", ENC_TLS, true, "TLSv1.3", "C", NULL);
	out_delivery(p, t0, "a@Mail.Example.ORG", "mx1.example.org[192.0.2.7]:25", TRUST_VERIFIED, "TLSv1.3", DELIVERY_SENT);
	out_delivery(p, t1, "b@mail.example.org", "mx2.example.org[192.0.2.8]:25", TRUST_UNTRUSTED, "TLSv1.3", DELIVERY_DEFERRED);
	out_delivery(p, t1, "c@example.org", "none", TRUST_NONE, "", DELIVERY_DEFERRED);

	Buf b = BUF_NULL;
	require(peers_save_buffer(p, &b) == 0);
	Peers *q = new_peers(NULL, 10, 100, 48LL * 3600 * 1000000);
	require(peers_load_buffer(q, b.data, b.len, NULL) == 0);
	buf_deinit(&b);
	Peers *both[] = { p, q };
	for (unsigned k = 0; k < 2; k++) {
		PeerStats st;
		PeersTotals T;
		require(peers_get_window(both[k], PEER_DESTINATION, "mail.example.org", 0, 0, &st) == 0);
		check_u64(st.total, 2);
		check_str(st.group, "example.org");
		check_u64(st.n[peers_out_cell(TRUST_VERIFIED, DELIVERY_SENT)], 1);
		check_u64(st.n[peers_out_cell(TRUST_UNTRUSTED, DELIVERY_DEFERRED)], 1);
		check_u64(st.n_examples, 2);
		check_str(st.examples[0], "mx1.example.org");
		check_str(st.examples[1], "mx2.example.org");
		require(peers_get_window(both[k], PEER_DESTINATION, "example.org", 0, 0, &st) == 0);
		check_u64(st.total, 1);
		check_u64(st.n_examples, 0);
		require(peers_get_window(both[k], PEER_OUTBOUND, "example.org", 0, 0, &st) == 0);
		check_u64(st.total, 3);

		require(peers_get_window(both[k], PEER_INBOUND, "old.example", 0, 0, &st) == 0);
		check_u64(st.legacy_mail, 2);
		check_u64(st.proto[2] + st.proto[3], 3);
		require(peers_get_totals(both[k], 0, 0, &T) == 0);
		check_u64(T.legacy_mail_in, 2);
		/* one hour: only t1's events */
		require(peers_get_window(both[k], PEER_INBOUND, "old.example", 0, 3600LL * 1000000, &st) == 0);
		check_u64(st.legacy_mail, 1);
		check_u64(st.total, 3);
		require(peers_get_totals(both[k], 0, 90LL * 60 * 1000000, &T) == 0);
		check(T.window_usec == 2LL * 3600 * 1000000);
		check_u64(T.legacy_mail_in, 1);
		check(peers_get_totals(both[k], 0, 49LL * 3600 * 1000000, &T) == -ERANGE);
		check(peers_get_window(both[k], PEER_INBOUND, "old.example", 0, -1, &st) == -ERANGE);
		Buf r = BUF_NULL;
		check(report_render(both[k], REPORT_TEXT, 0, 3LL * 86400 * 1000000, &r) == -ERANGE);
		check(report_render(both[k], REPORT_TEXT, 0, 3600LL * 1000000, &r) == 0);
		buf_deinit(&r);
	}
	peers_free(q);
	peers_free(p);
}

/* One peer, one hour: 40 cipher suites (10 of them on TLSv1) and 10
 * failure reasons. Every count is exact: per protocol, per kind (listed
 * plus "other"), after a save and load, and in the report. */
static void test_exact_combos(void)
{
	Peers *p = new_peers(NULL, 10, 100, 0);
	const int64_t t0 = 1764320400LL * 1000000; /* 2025-11-28 09:00 UTC */
	char cipher[16], reason[16];
	for (unsigned i = 0; i < 40; i++) {
		snprintf(cipher, sizeof(cipher), "C%02u", i);
		for (unsigned k = 0; k < 40 - i; k++)
			in_session(p, t0 + (int64_t)(i * 40 + k) * 1000000, "postfix", "mx.busy.example", "192.0.2.1",
				   ENC_TLS, true, i < 10 ? "TLSv1" : "TLSv1.2", cipher, NULL);
	}
	for (unsigned j = 0; j < 10; j++) {
		snprintf(reason, sizeof(reason), "r%02u", j);
		for (unsigned k = 0; k <= j; k++)
			in_session(p, t0 + 3000000000LL + (int64_t)(j * 10 + k) * 1000000, "postfix", "mx.busy.example",
				   "192.0.2.1", ENC_STARTTLS_FAILED, false, NULL, NULL, reason);
	}
	Buf saved = BUF_NULL;
	require(peers_save_buffer(p, &saved) == 0);
	Peers *q = new_peers(NULL, 10, 100, 0);
	require(peers_load_buffer(q, saved.data, saved.len, NULL) == 0);
	Peers *both[] = { p, q };
	for (unsigned w = 0; w < 2; w++) {
		PeerStats st;
		require(peers_get_window(both[w], PEER_INBOUND, "busy.example", 0, 0, &st) == 0);
		check_u64(st.proto[2], 355);           /* TLSv1: 40 + 39 + ... + 31 */
		check_u64(st.proto[4], 820 - 355);     /* TLSv1.2 */
		uint64_t tls = 0, fail = 0;
		unsigned n_tls = 0, n_fail = 0;
		for (unsigned i = 0; i < st.n_combos; i++) {
			if (st.combos[i].kind == COMBO_TLS)
				tls += st.combos[i].n, n_tls++;
			if (st.combos[i].kind == COMBO_FAILURE)
				fail += st.combos[i].n, n_fail++;
		}
		check_u64(n_tls, 14);                  /* the busiest 14 listed ... */
		check_str(st.combos[0].b, "C00");
		check_u64(st.combos[0].n, 40);
		check_u64(tls + st.combos_other[COMBO_TLS], 820); /* ... and the rest adds up */
		check_u64(st.combos_other[COMBO_TLS], 820 - (40 + 39 + 38 + 37 + 36 + 35 + 34 + 33 + 32 + 31 + 30 + 29 + 28 + 27));
		check_u64(n_fail, 10);                 /* every reason */
		check_u64(fail, 55);
		check_u64(st.combos_other[COMBO_FAILURE], 0);
	}
	Buf b = BUF_NULL;
	require(report_render(q, REPORT_TEXT, 0, 0, &b) == 0);
	const char *txt = buf_cstr(&b);
	check_contains(txt, "TLSv1 C00 x40, TLSv1 C01 x39");
	check_contains(txt, "TLSv1 C09 x31  ");          /* all ten legacy suites, nothing folded */
	check_contains(txt, "r09 x10, r08 x9");
	check_contains(txt, "r00 x1  ");                 /* all ten reasons */
	check_contains(txt, "busy.example (355)");       /* the protocol floor names the peer */
	check_contains(txt, "would have refused 0 mail sessions from 0 peers (0.0 % of mail); too little data");
	buf_deinit(&b);
	buf_deinit(&saved);
	peers_free(q);
	peers_free(p);
}

/* same_series - the two stores render the same text */
static void same_series(Store *full, Store *series, const char *when)
{
	Buf a = BUF_NULL, b = BUF_NULL;
	require(expo_render(full, EXPO_TEXT, false, &a) == 0 && expo_render(series, EXPO_TEXT, false, &b) == 0);
	checkf(a.len == b.len && !memcmp(a.data, b.data, a.len), "%s: the series differ:\n%.*s\n==== series only ====\n%.*s",
	       when, (int)a.len, a.data, (int)b.len, b.data);
	buf_deinit(&a);
	buf_deinit(&b);
}

/* --once and backfill keep only what the series need (series_only): the
 * series must come out the same through every way a peer leaves a table,
 * a label changes hands or a count folds: slots reclaimed from a full
 * pool, entries evicted from a full table, the window's sweep, unknown
 * hosts, deliveries, the host label. */
static void test_series_only(void)
{
	Store *st[2];
	Peers *p[2];
	for (int i = 0; i < 2; i++) {
		require(store_new(&st[i], metrics_families, _M_MAX, 2000) == 0);
		PeersConfig c = { 4, 16, 24 * 3600LL * 1000000, .series_only = i == 1, .huge_pages = i == 0 };
		require(peers_new(&p[i], st[i], &c) == 0);
	}
	static const char *const ciphers[] = { "TLS_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", NULL };
	int64_t t0 = ts(2026, 11, 1, 0, 0, 0);
	/* 1: fifteen peers (the table holds 16) every hour for 30 hours: their
	 * slots outgrow the pool (16 * 3 + 5 * 24), so slots are reclaimed by
	 * dropping peers, and the window's sweep prunes the rest */
	for (int h = 0; h < 30; h++)
		for (int k = 0; k < 15; k++)
			for (int i = 0; i < 2; i++) {
				char host[64];
				snprintf(host, sizeof(host), "mx.peer%d.example", k);
				in_session(p[i], t0 + (h * 3600LL + k * 60) * 1000000, k % 2 ? "postfix" : "postfix/submission", host,
					   "192.0.2.7", (Encryption)((h + k) % 3), (h + k) % 2, (h + k) % 3 == ENC_TLS ? "TLSv1.3" : NULL,
					   ciphers[k % 3], k == 3 ? "handshake" : NULL);
			}
	PeersTotals T;
	require(peers_get_totals(p[0], 0, 0, &T) == 0);
	check(T.evicted[PEER_INBOUND] > 0);  /* reclaimed: no more than 15 peers were ever tracked */
	check(T.tracked[PEER_INBOUND] <= 15);
	same_series(st[0], st[1], "slots reclaimed");

	/* 2: 3 000 sessions of 400 peers, Zipf-like, a third of them unknown,
	 * and deliveries: full tables evict, labels change hands */
	uint64_t x = 88172645463325252ULL;
	int64_t t1 = t0 + 31 * 3600LL * 1000000;
	for (int n = 0; n < 3000; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		unsigned rank = (unsigned)exp((double)(x % 1000) / 1000.0 * log(400.0)) - 1;
		char host[64], addr[32], rcpt[64];
		snprintf(host, sizeof(host), rank % 3 ? "mail%u.peer%u.example" : "unknown", rank % 5, rank);
		snprintf(addr, sizeof(addr), "198.51.100.%u", rank % 200);
		if (n % 7)
			snprintf(rcpt, sizeof(rcpt), "user%u@dept%u.dest%u.example", n, rank % 4, rank % 37);
		else
			snprintf(rcpt, sizeof(rcpt), n % 2 ? "postmaster" : "user@[192.0.2.%u]", rank % 9); /* "unknown" */
		int64_t t = t1 + (int64_t)n * 20 * 1000000;
		for (int i = 0; i < 2; i++) {
			in_session(p[i], t, "postfix", host, addr, (Encryption)(x % 3), x % 2, x % 3 == ENC_TLS ? "TLSv1.2" : NULL,
				   ciphers[x % 3], NULL);
			out_delivery(p[i], t, rcpt, x % 5 ? "mx.dest.example[203.0.113.5]:25" : "none", (Trust)(x % _TRUST_MAX),
				     x % _TRUST_MAX ? "TLSv1.3" : NULL, (DeliveryStatus)(x % _DELIVERY_MAX));
		}
	}
	require(peers_get_totals(p[0], 0, 0, &T) == 0);
	check(T.evicted[PEER_INBOUND] > 100 && T.evicted[PEER_OUTBOUND] > 100);
	check(T.folded[PEER_INBOUND] > 0 && T.folded[PEER_OUTBOUND] > 0);
	same_series(st[0], st[1], "full tables");

	/* 3: three days later, with the host label: the sweep drops every peer
	 * of before, and the new ones are tracked per MTA */
	for (int n = 0; n < 200; n++)
		for (int i = 0; i < 2; i++) {
			char host[64];
			snprintf(host, sizeof(host), "mx.peer%d.example", n % 23);
			PeerSession s = { .ts_usec = t1 + (4 * 24 * 3600LL + n) * 1000000, .syslog_name = SLICE_LIT("postfix"),
					  .client_name = slice_from(host), .client_addr = SLICE_LIT("192.0.2.9"),
					  .encryption = (Encryption)(n % 3), .mail = true,
					  .host = n % 2 ? SLICE_LIT("mx1") : SLICE_LIT("mx2") };
			peers_inbound_session(p[i], &s);
		}
	same_series(st[0], st[1], "swept, host label");

	/* what the series do not need is not kept, and not pretended */
	PeerStats *v = NULL, one;
	size_t n = 0;
	Buf b = BUF_NULL;
	check(peers_list(p[1], PEER_INBOUND, 0, 0, &v, &n) == -EOPNOTSUPP && !v);
	check(peers_get_window(p[1], PEER_INBOUND, "peer1.example", 0, 0, &one) == -EOPNOTSUPP);
	check(peers_get_totals(p[1], 0, 0, &T) == -EOPNOTSUPP);
	check(peers_save_buffer(p[1], &b) == -EOPNOTSUPP);
	check(report_render(p[1], REPORT_JSON, 0, 0, &b) < 0);
	buf_deinit(&b);
	for (int i = 0; i < 2; i++) {
		peers_free(p[i]);
		store_free(st[i]);
	}
}

/* resident - how many of the 4 KiB pages of [p, p + len) are in memory */
static size_t resident(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	size_t n = ((uintptr_t)p + len - a + 4095) / 4096, in = 0;
	unsigned char *v = malloc(n);
	require(v && mincore((void *)a, n * 4096, v) == 0);
	for (size_t i = 0; i < n; i++)
		in += v[i] & 1;
	free(v);
	return in;
}

/* The pools: zeroed, untouched until written; with huge, the larger ones
 * start on a 2 MB boundary, and writing their header (in a page of its
 * own, in front) does not make the first 2 MB page resident. */
static void test_pools(void)
{
	static const size_t sizes[] = { 1, 4096, (1u << 20) - 1, 1u << 20, (3u << 20) + 1, 9u << 20 };
	for (int huge = 0; huge < 2; huge++)
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			size_t n = sizes[i];
			unsigned char *p = peers_alloc_zeroed(n, 1, huge);
			require(p);
			if (huge && n >= (1u << 20) && !HAVE_ASAN) {
				checkf((uintptr_t)p % (2u << 20) == 0, "pool of %zu bytes at %p", n, (void *)p);
				checkf(resident(p, n) == 0, "pool of %zu bytes: %zu pages resident before use", n, resident(p, n));
			}
			check(p[0] == 0 && p[n / 2] == 0 && p[n - 1] == 0);
			p[0] = 1;
			p[n - 1] = 2;
			check((n == 1 || p[0] == 1) && p[n - 1] == 2 && (n < 3 || p[n / 2] == 0));
			peers_free_zeroed(p);
		}
	check(peers_alloc_zeroed(SIZE_MAX / 2, 4, true) == NULL);
	peers_free_zeroed(NULL);
}

static void test_config(void)
{
	Peers *p = NULL;
	PeersConfig bad = { 10, 100, (PEERS_WINDOW_MAX_HOURS + 1) * 3600LL * 1000000 };
	check(peers_new(&p, NULL, &bad) == -EINVAL);
	PeersConfig small = { 50, 10, 0 };   /* track raised to max + 1 */
	check(peers_new(&p, NULL, &small) == 0);
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	check_u64(T.max_tracked, 51);
	peers_free(p);
	check(peers_free(NULL) == NULL);
}

int main(void)
{
	test_run(test_domains);
	test_run(test_named);
	test_run(test_folding);
	test_run(test_evict_least_busy);
	test_run(test_folding_random);
	test_run(test_windows);
	test_run(test_unknown_and_outbound);
	test_run(test_exact_combos);
	test_run(test_destinations_and_window);
	test_run(test_series_only);
	test_run(test_pools);
	test_run(test_config);
	return test_exit();
}

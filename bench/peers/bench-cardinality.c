/*
 * bench-cardinality.c - the cardinality attack against the peer tables:
 * N distinct client host names over D registrable domains (and as many
 * distinct recipient domains outbound), with a few heavy hitters mixed in
 * (every 10th event). Prints the series counts of the two peer families,
 * the tracked peers, whether the sums are exact, and RSS.
 *
 * Usage: bench-peers-cardinality HOSTS DOMAINS [MAX [TRACK]]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "peers.h"
#include "store.h"

static long status_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s HOSTS DOMAINS [MAX [TRACK]]\n", argv[0]);
		return 2;
	}
	unsigned long hosts = strtoul(argv[1], NULL, 10), domains = strtoul(argv[2], NULL, 10);
	PeersConfig cfg = PEERS_CONFIG_DEFAULT;
	if (argc > 3)
		cfg.max_labelled = strtoul(argv[3], NULL, 10);
	if (argc > 4)
		cfg.max_tracked = strtoul(argv[4], NULL, 10);
	if (!hosts || !domains)
		return 2;

	Store *store = NULL;
	Peers *p = NULL;
	if (store_new(&store, metrics_families, _M_MAX, 1000000) < 0 || peers_new(&p, store, &cfg) < 0)
		return 1;
	long rss_start = status_kib("VmRSS");

	static const char *const heavy[] = { "mail-wr1-f54.google.com", "mail-eopbgr.outbound.protection.outlook.com",
					     "a8-30.smtp-out.eu-west-1.amazonses.com", "mx.example.co.uk" };
	static const char *const heavy_rcpt[] = { "u@gmail.com", "u@outlook.com", "u@example.co.uk", "u@yahoo.com" };
	int64_t t0 = 1795000000LL * 1000000;   /* 2026-11-18 */
	char host[128], rcpt[128];
	double start = now();
	unsigned long events = 0;
	for (unsigned long i = 0; i < hosts; i++) {
		int64_t ts = t0 + (int64_t)i * 500000;  /* two sessions a second: 1M spans ~6 days */
		const char *h = host, *r = rcpt;
		if (i % 10 == 0) {
			h = heavy[(i / 10) % 4];
			r = heavy_rcpt[(i / 10) % 4];
		} else {
			snprintf(host, sizeof(host), "mx%lu.d%lu.example", i, i % domains);
			snprintf(rcpt, sizeof(rcpt), "user@r%lu.d%lu.example", i, i % domains);
		}
		PeerSession s = { .ts_usec = ts, .syslog_name = SLICE_LIT("postfix"), .client_name = slice_from(h),
				  .client_addr = SLICE_LIT("192.0.2.1"), .encryption = (Encryption)(i % 3), .mail = i % 2,
				  .protocol = i % 3 == 0 ? SLICE_LIT("TLSv1.3") : SLICE_NULL,
				  .cipher = i % 3 == 0 ? SLICE_LIT("TLS_AES_256_GCM_SHA384") : SLICE_NULL };
		peers_inbound_session(p, &s);
		PeerDelivery d = { .ts_usec = ts, .syslog_name = SLICE_LIT("postfix"), .recipient = slice_from(r),
				   .relay = SLICE_LIT("mx.example[192.0.2.9]:25"), .tls = i % 2 ? TRUST_TRUSTED : TRUST_NONE,
				   .protocol = i % 2 ? SLICE_LIT("TLSv1.3") : SLICE_NULL, .status = DELIVERY_SENT };
		peers_outbound_delivery(p, &d);
		events += 2;
	}
	double secs = now() - start;

	store_collect(store);
	const Series *const *v;
	size_t n_in = 0, n_out = 0;
	double sum_in = 0, sum_out = 0;
	store_sorted(store, M_INBOUND_PEER_SESSIONS, &v, &n_in);
	for (size_t i = 0; i < n_in; i++)
		sum_in += v[i]->value;
	store_sorted(store, M_OUTBOUND_PEER_DELIVERIES, &v, &n_out);
	for (size_t i = 0; i < n_out; i++)
		sum_out += v[i]->value;
	bool heavy_labelled = true;
	for (unsigned i = 0; i < 3; i++) {
		PeerStats st;
		static const char *const hk[] = { "google.com", "outlook.com", "amazonses.com" };
		if (peers_get_window(p, PEER_INBOUND, hk[i], 0, 0, &st) < 0 || !st.labelled)
			heavy_labelled = false;
	}
	PeersTotals T;
	peers_get_totals(p, 0, 0, &T);
	printf("hosts=%lu domains=%lu events=%lu seconds=%.2f events_per_second=%.0f\n", hosts, domains, events, secs,
	       (double)events / secs);
	printf("series_inbound=%zu series_outbound=%zu max_series_inbound=%zu max_series_outbound=%zu\n", n_in, n_out,
	       (cfg.max_labelled + 1) * 6, (cfg.max_labelled + 1) * 15);
	printf("tracked_inbound=%zu tracked_outbound=%zu max_tracked=%zu evicted_inbound=%" PRIu64 "\n",
	       T.tracked[PEER_INBOUND], T.tracked[PEER_OUTBOUND], T.max_tracked, T.evicted[PEER_INBOUND]);
	printf("sum_inbound=%.0f sum_outbound=%.0f expected=%lu exact=%s heavy_hitters_labelled=%s\n", sum_in, sum_out,
	       hosts, sum_in == (double)hosts && sum_out == (double)hosts ? "yes" : "no", heavy_labelled ? "yes" : "no");
	printf("rss_kib_after_setup=%ld rss_kib=%ld rss_peak_kib=%ld\n", rss_start, status_kib("VmRSS"), status_kib("VmHWM"));
	peers_free(p);
	store_free(store);
	return 0;
}

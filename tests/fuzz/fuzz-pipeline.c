/*
 * fuzz-pipeline.c - differential: the same log ingested in one thread and
 * with the second thread (ingest_pipeline_start(), --source.pipeline) must
 * give the same metrics and the same report, byte for byte. The queue's
 * blocks are small (the first byte picks 64 to 1024 bytes), so records
 * often fill a block, wrap the ring, or do not fit at all and take the
 * path that applies them after a sync. The first byte also picks the
 * session and peer limits and a long --source.max-line-length. A clock
 * hook, as backfill has, renders the metrics at each new stamp: the two
 * runs must see the same store at the same points of the log. A third run
 * has the second thread match every rule (INGEST_MATCH_COUNTING), which
 * the default does only while that thread keeps up. A fourth keeps only
 * what the series need (PeersConfig.series_only, as --once and backfill
 * do): its metrics must be those of the first run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "feed.h"
#include "ingest.h"
#include "metrics.h"
#include "peers.h"
#include "report.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct Clock {
	Store *store;
	Buf *out;
	int64_t last;
} Clock;

/* on_clock - at each new stamp (the pipeline hands on only new ones), the
 * metrics as the back half has them */
static void on_clock(void *userdata, int64_t ts)
{
	Clock *c = userdata;
	if (ts == c->last)
		return;
	c->last = ts;
	buf_printf(c->out, "@%lld\n", (long long)ts);
	expo_render(c->store, EXPO_TEXT, false, c->out);
}

#define REPORT_MARK "\n----\n"

/* run - the metrics at each stamp, then at the end, then (unless
 * series_only) the JSON report, into out; false if it could not start */
static bool run(const uint8_t *data, size_t size, uint8_t knobs, size_t block, IngestMatch match, bool series_only,
		Buf *out)
{
	Store *store = NULL;
	Ingest *in = NULL;
	Peers *p = NULL;
	bool ok = false;
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	c.max_sessions = 1 + (knobs & 7);
	if (knobs & 8)
		c.max_line = 1 << 20;
	PeersConfig pc = { 4, 2 + (knobs >> 4), 7LL * 24 * 3600 * 1000000, series_only };
	if (store_new(&store, metrics_families, _M_MAX, 400) < 0 || ingest_new(&in, store, &c, NULL) < 0 ||
	    peers_new(&p, store, &pc) < 0)
		goto done;
	ingest_set_peers(in, p);
	Clock clock = { store, out, 0 };
	if (knobs & 0x80)
		ingest_set_clock_hook(in, on_clock, &clock);
	if (block && ingest_pipeline_start(in, block) < 0)
		goto done;
	ingest_pipeline_match(in, match);
	fuzz_feed(in, c.max_line, data, size);
	ingest_pipeline_stop(in);
	expo_render(store, EXPO_TEXT, false, out);
	buf_puts(out, REPORT_MARK);
	ok = series_only ? !buf_error(out) : report_render(p, REPORT_JSON, 0, 0, out) == 0 && !buf_error(out);
done:
	ingest_free(in);
	peers_free(p);
	store_free(store);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t knobs = data[0];
	size_t block = 64u << (knobs % 5); /* 64 .. 1024 bytes */
	Buf one = BUF_NULL;
	if (!run(data + 1, size - 1, knobs, 0, INGEST_MATCH_AUTO, false, &one)) {
		buf_deinit(&one);
		return 0;
	}
	static const IngestMatch matches[] = { INGEST_MATCH_AUTO, INGEST_MATCH_COUNTING };
	for (size_t i = 0; i < sizeof(matches) / sizeof(matches[0]); i++) {
		Buf two = BUF_NULL;
		if (run(data + 1, size - 1, knobs, block, matches[i], false, &two) &&
		    (one.len != two.len || memcmp(one.data, two.data, one.len) != 0)) {
			fprintf(stderr, "one thread and two differ (block %zu, %s):\n%.*s\n==== two threads ====\n%.*s\n",
				block, matches[i] == INGEST_MATCH_AUTO ? "matching where it is quicker" :
				"matching in the second thread", (int)one.len, one.data, (int)two.len, two.data);
			abort();
		}
		buf_deinit(&two);
	}
	Buf series = BUF_NULL;
	const char *mark = memmem(one.data, one.len, REPORT_MARK, strlen(REPORT_MARK));
	size_t n = mark ? (size_t)(mark - one.data) + strlen(REPORT_MARK) : one.len;
	if (run(data + 1, size - 1, knobs, block, INGEST_MATCH_AUTO, true, &series) &&
	    (series.len != n || memcmp(one.data, series.data, n) != 0)) {
		fprintf(stderr, "the series differ when only they are kept:\n%.*s\n==== series only ====\n%.*s\n", (int)n,
			one.data, (int)series.len, series.data);
		abort();
	}
	buf_deinit(&series);
	buf_deinit(&one);
	return 0;
}

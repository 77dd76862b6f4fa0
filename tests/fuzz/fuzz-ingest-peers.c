/*
 * fuzz-ingest-peers.c - the line pipeline with the peer tables attached,
 * then every report format, a save and a reload of the state (issue 15:
 * fuzz-ingest runs without peers, and this combination found a cipher
 * name that was saved but not loadable). Whatever the log held, the state
 * written must load again with no record skipped, and every report must
 * render. The first byte chooses small table limits, as in fuzz-ingest.
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

/* reports - every format; a failure other than out of memory is a bug */
static void reports(Peers *p, Buf *out)
{
	for (unsigned f = 0; f < _REPORT_FORMAT_MAX; f++) {
		buf_clear(out);
		if (report_render(p, (ReportFormat)f, 0, 0, out) < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Store *store;
	if (store_new(&store, metrics_families, _M_MAX, 400) < 0)
		return 0;
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	PeersConfig pc = { 4, 16, 7LL * 24 * 3600 * 1000000 };
	if (size > 0) {
		c.max_sessions = 1 + (data[0] & 7);
		pc.max_tracked = 2 + (data[0] >> 4);
		data++;
		size--;
	}
	Ingest *in = NULL;
	Peers *p = NULL, *again = NULL;
	Buf out = BUF_NULL;
	if (ingest_new(&in, store, &c, NULL) < 0 || peers_new(&p, store, &pc) < 0 || peers_new(&again, NULL, &pc) < 0)
		goto done;
	ingest_set_peers(in, p);
	fuzz_feed(in, c.max_line, data, size);
	expo_render(store, EXPO_TEXT, false, &out);
	reports(p, &out);
	buf_clear(&out);
	if (peers_save_buffer(p, &out) < 0)
		abort();
	char *err = NULL;
	int r = peers_load_buffer(again, out.data, out.len, &err);
	if (r != 0)
		{ fprintf(stderr, "reload: %d %s\n", r, err ? err : ""); abort(); } /* what we wrote must load whole: see err */
	free(err);
	reports(again, &out);
done:
	buf_deinit(&out);
	ingest_free(in);
	peers_free(again);
	peers_free(p);
	store_free(store);
	return 0;
}

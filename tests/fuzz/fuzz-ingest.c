/*
 * fuzz-ingest.c - the whole line pipeline (header scanner, rule engine,
 * session correlation, exposition) on arbitrary bytes. The input is split
 * into lines; the first byte chooses small table limits so that eviction
 * and expiry paths are reached too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expo.h"
#include "feed.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Store *store;
	if (store_new(&store, metrics_families, _M_MAX, 200) < 0)
		return 0;
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	if (size > 0) {
		c.max_sessions = 1 + (data[0] & 7);
		c.max_line = 64 + (size_t)(data[0] >> 3) * 64;
		data++;
		size--;
	}
	Ingest *in;
	if (ingest_new(&in, store, &c, NULL) < 0) {
		store_free(store);
		return 0;
	}
	fuzz_feed(in, c.max_line, data, size);
	Buf out = BUF_NULL;
	expo_render(store, EXPO_TEXT, false, &out);
	expo_render(store, EXPO_OPENMETRICS, true, &out);
	buf_deinit(&out);
	ingest_free(in);
	store_free(store);
	return 0;
}

/*
 * fuzz-peers-state.c - libFuzzer target for the peer state loader: any
 * input must be rejected with an error string or loaded, never crash or
 * hang. A loaded state is rendered as JSON and saved again, which walks
 * every table that was just filled.
 *
 * An input starting with 'B' is a body only: the harness wraps it in a
 * valid header, length and CRC-32, so the fuzzer reaches the parser
 * behind the checksum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "peers.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Peers *p;
	if (!p) {
		PeersConfig cfg = { 5, 64, 7LL * 24 * 3600 * 1000000 };
		if (peers_new(&p, NULL, &cfg) < 0)
			abort();
	}
	uint8_t *wrapped = NULL;
	if (size >= 1 && data[0] == 'B') {
		size_t body = size - 1, len = 36 + body + 4;
		wrapped = malloc(len);
		if (!wrapped)
			return 0;
		static const uint32_t hdr[5] = { PEERS_STATE_VERSION, PEERS_CELLS, PEERS_SYSLOG_MAX + 1, PEERS_PROTO_MAX, 6 };
		memcpy(wrapped, "PTEPEERS", 8);
		for (unsigned i = 0; i < 5; i++)
			for (unsigned k = 0; k < 4; k++)
				wrapped[8 + 4 * i + k] = (uint8_t)(hdr[i] >> (8 * k));
		for (unsigned k = 0; k < 8; k++)
			wrapped[28 + k] = (uint8_t)((uint64_t)body >> (8 * k));
		memcpy(wrapped + 36, data + 1, body);
		uint32_t c = (uint32_t)crc32(0L, wrapped, (uInt)(len - 4));
		for (unsigned k = 0; k < 4; k++)
			wrapped[len - 4 + k] = (uint8_t)(c >> (8 * k));
		data = wrapped;
		size = len;
	}
	char *err = NULL;
	int r = peers_load_buffer(p, data, size, &err);
	if (r < 0 && (!err || !err[0]))
		abort(); /* every rejection says why */
	free(err);
	if (r >= 0) {
		Buf b = BUF_NULL;
		if (report_render(p, REPORT_JSON, 0, 0, &b) < 0)
			abort();
		buf_clear(&b);
		if (peers_save_buffer(p, &b) < 0)
			abort();
		buf_deinit(&b);
	}
	free(wrapped);
	return 0;
}

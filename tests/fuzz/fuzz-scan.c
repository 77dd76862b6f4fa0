/*
 * fuzz-scan.c - differential: scan.c's hand-written scanners against the
 * PCRE2 patterns of rules.c they replace. The first byte puts one of the
 * scanned prefixes in front of the rest, so the fuzzer works on what
 * follows them; any difference in match or group aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = {
		"", "connect from ", "disconnect from ", "disconnect from h[192.0.2.1]",
		"Anonymous TLS connection established from ", "TLS connection reused to h[192.0.2.1]:25",
		"Trusted TLS connection established to h: TLSv1.3 with cipher X (256/256 bits)",
		"TLS connection established from h: TLSv1.2 with cipher X (1/1 bits) key-exchange",
	};
	static Parser *p;
	if (!p && parser_new(&p, NULL) < 0)
		abort();
	const char *pre = size ? prefixes[data[0] & 7] : "";
	if (size) {
		data++;
		size--;
	}
	size_t pl = strlen(pre);
	char *msg = malloc(pl + size + 1);
	if (!msg)
		return 0;
	memcpy(msg, pre, pl);
	if (size)
		memcpy(msg + pl, data, size);
	char why[256];
	if (scan_diff(p, (Slice){ msg, pl + size }, why, sizeof(why))) {
		fprintf(stderr, "fuzz-scan: %s\n", why);
		abort();
	}
	free(msg);
	return 0;
}

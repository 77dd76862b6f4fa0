/*
 * feed.h - hand a fuzz input to the ingest as the file source would: split
 * at newlines (a last line without one counts), lines over max_line counted
 * as oversized and not parsed, lines of printable ASCII handed over as
 * such (utf8_line_end()). Shared by the fuzz targets that ingest.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "ingest.h"
#include "utf8.h"

static inline void fuzz_feed(Ingest *in, size_t max_line, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		bool printable;
		const char *nl = utf8_line_end(p, end, &printable);
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n > max_line)
			ingest_oversized(in);
		else if (printable)
			ingest_line_printable(in, p, n);
		else
			ingest_line(in, p, n);
		p += n + 1;
	}
}

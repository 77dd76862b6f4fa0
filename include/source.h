/*
 * source.h - where log records come from: a file (tail -F) or the journal.
 *
 * A source is driven by the event loop: when its fd is readable (or its
 * timeout expires) the loop calls process() with a deadline; the source
 * feeds records to the Ingest until it has nothing more or the deadline
 * passes, so a scrape never waits behind a long replay.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ingest.h"

typedef struct Source Source;

typedef struct SourceOps {
	const char *kind;
	/* fd to poll for input, or -1 */
	int (*fd)(Source *s);
	/* µs until process() should run even without input; -1 for never */
	int64_t (*timeout_usec)(Source *s);
	/* read until idle or deadline (CLOCK_MONOTONIC µs). Return: 1 more input
	 * is pending, 0 idle (at the end of the input), negative errno on error */
	int (*process)(Source *s, int64_t deadline_usec);
	/* persist the position into the state directory (may be NULL) */
	int (*save_state)(Source *s);
	Source *(*free)(Source *s);
} SourceOps;

struct Source {
	const SourceOps *ops;
	char *name;   /* label value for postfix_tls_exporter_source_up */
	bool up;
};

typedef enum SourceStart {
	SOURCE_START_END,
	SOURCE_START_BEGINNING,
} SourceStart;

static inline Source *source_free(Source *s) { return s ? s->ops->free(s) : NULL; }

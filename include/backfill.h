/*
 * backfill.h - history for Prometheus from old logs.
 *
 * DESCRIPTION
 *	The backfill subcommand reads logs with the daemon's own parser and
 *	correlation and, at every step of log time, takes the value of every
 *	Postfix family (postfix_tls_*). backfill_write() then prints them as
 *	OpenMetrics with timestamps, one family at a time and each series in
 *	time order, ending with "# EOF": the input of
 *	`promtool tsdb create-blocks-from openmetrics`.
 *
 *	A snapshot at step boundary B holds every record stamped before B;
 *	the last one, at the first boundary after the newest record, equals
 *	what --once prints. The exporter's own health families and process_*
 *	describe the backfill run, not the log, and are left out.
 * LIMITS
 *	Output is one sample per series per step from the step the series
 *	appears: series x steps. backfill_write() computes that number first
 *	and refuses (-E2BIG, with a message naming the flag) above
 *	max_samples. Memory holds only the changes between snapshots.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "store.h"

typedef struct BackfillConfig {
	int64_t step_usec;
	const char *const *labels; /* "name=value", added to every series */
	size_t n_labels;
	uint64_t max_samples;
} BackfillConfig;

#define BACKFILL_STEP_DEFAULT_USEC (300 * 1000000LL)
#define BACKFILL_MAX_SAMPLES_DEFAULT 50000000ULL

typedef struct Backfill Backfill;

/* backfill_new - on failure, *ret_error (malloc'd) says what was wrong with
 * which --label. */
int backfill_new(Backfill **ret, Store *store, const BackfillConfig *cfg, char **ret_error);
Backfill *backfill_free(Backfill *b);
/* backfill_observe - call before a record stamped ts_usec is applied:
 * snapshots every step boundary the log time has passed. */
void backfill_observe(Backfill *b, int64_t ts_usec);
/* backfill_write - final snapshot, then the OpenMetrics text. Returns the
 * number of samples written (>= 0) or a negative errno; *ret_error says why. */
int64_t backfill_write(Backfill *b, FILE *out, char **ret_error);

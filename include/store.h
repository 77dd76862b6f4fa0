/*
 * store.h - the counter store: metric families with fixed label schemas,
 * series keyed by their label values.
 *
 * DESCRIPTION
 *	Families are declared once (a static FamilyDesc table) and addressed by
 *	index. store_add()/store_set() create a series on first use and copy the
 *	label values. Iteration for the exposition is in sorted label order, so
 *	output is deterministic.
 * LIMITS
 *	max_series over all families; beyond it a new series is not created
 *	(except in the exporter's health families, postfix_tls_exporter_* and
 *	process_*, which are never capped), store_add() returns STORE_FULL and
 *	the drop is counted
 *	(store_series_dropped()). Label values longer than STORE_LABEL_MAX are
 *	truncated.
 * SECURITY
 *	Label values may come from the log (hostnames, domains): the hash is
 *	seeded at random, and values are escaped by the exposition.
 * THREADS
 *	None. The store belongs to the event-loop thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slice.h"

#define STORE_LABELS_MAX 6 /* 5 of a Postfix family, and host */
#define STORE_LABEL_MAX 128

typedef enum MetricType {
	METRIC_COUNTER,
	METRIC_GAUGE,
} MetricType;

typedef struct FamilyDesc {
	const char *name;
	const char *help;
	MetricType type;
	unsigned n_labels;
	const char *labels[STORE_LABELS_MAX];
} FamilyDesc;

typedef struct Series {
	double value;
	double created;    /* realtime seconds when the series was created */
	unsigned family;
	Slice values[STORE_LABELS_MAX]; /* owned copies, NUL-terminated */
} Series;

typedef struct Store Store;

enum { STORE_FULL = 1 };

int store_new(Store **ret, const FamilyDesc *families, unsigned n_families, size_t max_series);
Store *store_free(Store *s);

/* store_add - add delta to a counter (or gauge) series, creating it at 0. */
int store_add(Store *s, unsigned family, const Slice *values, double delta);
/* store_set - set a gauge series. */
int store_set(Store *s, unsigned family, const Slice *values, double value);
/* store_get - value of a series, 0 if it does not exist. */
double store_get(const Store *s, unsigned family, const Slice *values);
/* store_reset_family - drop every series of a family (gauges recomputed per scrape). */
void store_reset_family(Store *s, unsigned family);

const FamilyDesc *store_family(const Store *s, unsigned family);
unsigned store_n_families(const Store *s);
size_t store_n_series(const Store *s);
uint64_t store_series_dropped(const Store *s);

/* store_sorted - the series of one family, sorted by label values (kept
 * sorted as series are created, so this is a lookup, not a sort).
 * The array is owned by the store and valid until the next store_* call. */
int store_sorted(Store *s, unsigned family, const Series *const **ret, size_t *ret_n);
/* store_started - realtime seconds when the store was created (the _created
 * time of label-less counters that have not moved yet). */
double store_started(const Store *s);

/* Collectors run before each exposition to refresh computed gauges
 * (sessions open, peers tracked, process_*). */
typedef void (*StoreCollectFn)(Store *s, void *userdata);
int store_add_collector(Store *s, StoreCollectFn fn, void *userdata);
void store_collect(Store *s);

/*
 * expo.h - render the store in the Prometheus text format 0.0.4 or
 * OpenMetrics 1.0.0.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "store.h"

#define EXPO_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define EXPO_CONTENT_TYPE_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum ExpoFormat {
	EXPO_TEXT,
	EXPO_OPENMETRICS,
} ExpoFormat;

/* expo_render - run the store's collectors, then append every family.
 * Families are in table order, series sorted by label values; label values
 * and HELP are escaped. with_created adds OpenMetrics _created samples. */
int expo_render(Store *s, ExpoFormat fmt, bool with_created, Buf *out);
/* expo_escape_label - append v escaped for a label value (\\, \", \n). */
void expo_escape_label(Buf *out, const char *v, size_t n);
/* expo_family_header - the "# HELP" and "# TYPE" lines of one family. */
void expo_family_header(Buf *out, const FamilyDesc *f, ExpoFormat fmt);
/* expo_series_name - the name and labels of a sample line, as expo_sample()
 * writes them (for writers that repeat one series many times). */
void expo_series_name(Buf *out, const FamilyDesc *f, const Series *se, ExpoFormat fmt, const char *extra_labels);
/* expo_value - a sample value as expo_sample() writes it. */
void expo_value(Buf *out, double value);
/* expo_sample - one sample line of series se with the given value;
 * extra_labels ("a=\"b\",c=\"d\"", already escaped) follow the family's
 * labels; ts_sec >= 0 adds a timestamp (only backfill output has them). */
void expo_sample(Buf *out, const FamilyDesc *f, const Series *se, ExpoFormat fmt, double value,
		 const char *extra_labels, int64_t ts_sec);

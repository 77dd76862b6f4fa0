/*
 * expo.h - render the store in the Prometheus text format 0.0.4 or
 * OpenMetrics 1.0.0.
 */
#pragma once

#include <stdbool.h>

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

/*
 * expo.c - exposition writers.
 *
 * Text format 0.0.4: "# HELP" escapes \\ and \n, label values escape \\, \"
 * and \n; no timestamps. OpenMetrics 1.0.0: counters are declared without
 * the _total suffix and sampled with it, HELP also escapes \", and the body
 * ends with "# EOF".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expo.h"

void expo_escape_label(Buf *out, const char *v, size_t n)
{
	/* Append runs between the bytes that need escaping: label values rarely
	 * contain any, and this runs for every label of every series per scrape. */
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c != '\\' && c != '"' && c != '\n')
			continue;
		buf_append(out, v + start, i - start);
		buf_append(out, c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n", 2);
		start = i + 1;
	}
	buf_append(out, v + start, n - start);
}

static void put_help(Buf *out, const char *h, bool om)
{
	for (; *h; h++) {
		if (*h == '\\')
			buf_append(out, "\\\\", 2);
		else if (*h == '\n')
			buf_append(out, "\\n", 2);
		else if (om && *h == '"')
			buf_append(out, "\\\"", 2);
		else
			buf_putc(out, *h);
	}
}

static void put_value(Buf *out, double v)
{
	if (v >= 0 && v < 9007199254740992.0 && v == floor(v))
		buf_put_u64(out, (unsigned long long)v);
	else if (isnan(v))
		buf_puts(out, "NaN");
	else if (isinf(v))
		buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	else
		buf_printf(out, "%.17g", v);
}

static void put_labels(Buf *out, const FamilyDesc *f, const Series *se, const char *extra)
{
	if (f->n_labels == 0 && !extra)
		return;
	buf_putc(out, '{');
	for (unsigned i = 0; i < f->n_labels; i++) {
		if (i)
			buf_putc(out, ',');
		buf_puts(out, f->labels[i]);
		buf_append(out, "=\"", 2);
		expo_escape_label(out, se->values[i].p, se->values[i].n);
		buf_putc(out, '"');
	}
	if (extra) {
		if (f->n_labels)
			buf_putc(out, ',');
		buf_puts(out, extra);
	}
	buf_putc(out, '}');
}

/* base_name - OpenMetrics declares counters without "_total". */
static size_t base_len(const FamilyDesc *f, bool om)
{
	size_t n = strlen(f->name);
	if (om && f->type == METRIC_COUNTER && n > 6 && strcmp(f->name + n - 6, "_total") == 0)
		return n - 6;
	return n;
}

void expo_family_header(Buf *out, const FamilyDesc *f, ExpoFormat fmt)
{
	bool om = fmt == EXPO_OPENMETRICS;
	size_t bl = base_len(f, om);
	buf_append(out, "# HELP ", 7);
	buf_append(out, f->name, bl);
	buf_putc(out, ' ');
	put_help(out, f->help, om);
	buf_append(out, "\n# TYPE ", 8);
	buf_append(out, f->name, bl);
	buf_puts(out, f->type == METRIC_COUNTER ? " counter\n" : " gauge\n");
}

void expo_series_name(Buf *out, const FamilyDesc *f, const Series *se, ExpoFormat fmt, const char *extra_labels)
{
	bool om = fmt == EXPO_OPENMETRICS;
	buf_append(out, f->name, base_len(f, om));
	if (om && f->type == METRIC_COUNTER)
		buf_puts(out, "_total");
	put_labels(out, f, se, extra_labels);
}

void expo_value(Buf *out, double value)
{
	put_value(out, value);
}

void expo_sample(Buf *out, const FamilyDesc *f, const Series *se, ExpoFormat fmt, double value,
		 const char *extra_labels, int64_t ts_sec)
{
	expo_series_name(out, f, se, fmt, extra_labels);
	buf_putc(out, ' ');
	put_value(out, value);
	if (ts_sec >= 0) {
		buf_putc(out, ' ');
		buf_put_u64(out, (unsigned long long)ts_sec);
	}
	buf_putc(out, '\n');
}

int expo_render(Store *s, ExpoFormat fmt, bool with_created, Buf *out)
{
	bool om = fmt == EXPO_OPENMETRICS;
	store_collect(s);
	for (unsigned fi = 0; fi < store_n_families(s); fi++) {
		const FamilyDesc *f = store_family(s, fi);
		const Series *const *series;
		size_t n;
		int r = store_sorted(s, fi, &series, &n);
		if (r < 0)
			return r;
		Series zero = { .family = fi, .created = store_started(s) };
		if (n == 0 && f->n_labels == 0) {
			/* Label-less families always exist: 0 until something happens. */
			static const Series *one[1];
			one[0] = &zero;
			series = one;
			n = 1;
		}
		if (n == 0)
			continue;
		expo_family_header(out, f, fmt);
		for (size_t i = 0; i < n; i++) {
			const Series *se = series[i];
			expo_sample(out, f, se, fmt, se->value, NULL, -1);
			if (om && with_created && f->type == METRIC_COUNTER && se->created > 0) {
				buf_append(out, f->name, base_len(f, om));
				buf_puts(out, "_created");
				put_labels(out, f, se, NULL);
				buf_printf(out, " %.3f\n", se->created);
			}
		}
	}
	if (om)
		buf_puts(out, "# EOF\n");
	return buf_error(out);
}

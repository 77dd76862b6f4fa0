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

int expo_escape_label(Buf *out, const char *v, size_t n)
{
	/* Append runs between the bytes that need escaping: label values rarely
	 * contain any, and this runs for every label of every series per scrape. */
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (c != '\\' && c != '"' && c != '\n')
			continue;
		int r = buf_append(out, v + start, i - start);
		if (r >= 0)
			r = buf_append(out, c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n", 2);
		if (r < 0)
			return r;
		start = i + 1;
	}
	return buf_append(out, v + start, n - start);
}

static int put_help(Buf *out, const char *h, bool om)
{
	int r = 0;
	for (; *h && r >= 0; h++) {
		if (*h == '\\')
			r = buf_append(out, "\\\\", 2);
		else if (*h == '\n')
			r = buf_append(out, "\\n", 2);
		else if (om && *h == '"')
			r = buf_append(out, "\\\"", 2);
		else
			r = buf_putc(out, *h);
	}
	return r;
}

static int put_value(Buf *out, double v)
{
	if (v >= 0 && v < 9007199254740992.0 && v == floor(v))
		return buf_put_u64(out, (unsigned long long)v);
	if (isnan(v))
		return buf_puts(out, "NaN");
	if (isinf(v))
		return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
	char tmp[40];
	snprintf(tmp, sizeof(tmp), "%.17g", v);
	return buf_puts(out, tmp);
}

static int put_labels(Buf *out, const FamilyDesc *f, const Series *se)
{
	if (f->n_labels == 0)
		return 0;
	int r = buf_putc(out, '{');
	for (unsigned i = 0; i < f->n_labels && r >= 0; i++) {
		if (i)
			r = buf_putc(out, ',');
		if (r >= 0)
			r = buf_puts(out, f->labels[i]);
		if (r >= 0)
			r = buf_append(out, "=\"", 2);
		if (r >= 0)
			r = expo_escape_label(out, se->values[i].p, se->values[i].n);
		if (r >= 0)
			r = buf_putc(out, '"');
	}
	if (r >= 0)
		r = buf_putc(out, '}');
	return r;
}

/* base_name - OpenMetrics declares counters without "_total". */
static size_t base_len(const FamilyDesc *f, bool om)
{
	size_t n = strlen(f->name);
	if (om && f->type == METRIC_COUNTER && n > 6 && strcmp(f->name + n - 6, "_total") == 0)
		return n - 6;
	return n;
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
		size_t bl = base_len(f, om);
		const char *type = f->type == METRIC_COUNTER ? "counter" : "gauge";
		if ((r = buf_append(out, "# HELP ", 7)) < 0 || (r = buf_append(out, f->name, bl)) < 0 ||
		    (r = buf_putc(out, ' ')) < 0 || (r = put_help(out, f->help, om)) < 0 ||
		    (r = buf_append(out, "\n# TYPE ", 8)) < 0 || (r = buf_append(out, f->name, bl)) < 0 ||
		    (r = buf_printf(out, " %s\n", type)) < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			const Series *se = series[i];
			if ((r = buf_append(out, f->name, bl)) < 0)
				return r;
			if (om && f->type == METRIC_COUNTER && (r = buf_puts(out, "_total")) < 0)
				return r;
			if ((r = put_labels(out, f, se)) < 0 || (r = buf_putc(out, ' ')) < 0 ||
			    (r = put_value(out, se->value)) < 0 || (r = buf_putc(out, '\n')) < 0)
				return r;
			if (om && with_created && f->type == METRIC_COUNTER && se->created > 0) {
				if ((r = buf_append(out, f->name, bl)) < 0 || (r = buf_puts(out, "_created")) < 0 ||
				    (r = put_labels(out, f, se)) < 0 || (r = buf_printf(out, " %.3f\n", se->created)) < 0)
					return r;
			}
		}
	}
	if (om)
		return buf_puts(out, "# EOF\n");
	return 0;
}

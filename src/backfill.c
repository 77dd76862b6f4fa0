/*
 * backfill.c - snapshots of the Postfix families at each step of log time,
 * written as timestamped OpenMetrics (see backfill.h).
 *
 * OpenMetrics wants every family in one block and every series in time
 * order, but snapshots come in time order. So a snapshot only records what
 * changed (a new value, or a series that disappeared, as peer domains do
 * when they leave the labelled top), and backfill_write() replays the
 * changes series by series. A second Store numbers the series by their
 * labels: peer families are rebuilt on every collect, so a series' address
 * in the daemon's store is not its identity.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "buf.h"
#include "expo.h"
#include "utf8.h"

#define FLUSH_BYTES (1u << 20)
#define ID_SERIES_MAX (1u << 22)

typedef struct Change {
	uint32_t id;
	uint32_t step;
	double value; /* NAN: the series is gone from this step on */
} Change;

struct Backfill {
	Store *store; /* the daemon's */
	Store *ids;   /* (family, labels) -> id + 1 */
	BackfillConfig cfg;
	char *extra;  /* the --label pairs, rendered */
	int64_t base_usec;
	int64_t next_usec; /* next boundary; 0 until the first record */
	uint32_t n_steps;
	uint32_t taken;    /* step of the latest snapshot taken + 1; 0: none */
	double *last;      /* per id: value in the latest snapshot */
	uint32_t *seen;    /* per id: last step present + 1 */
	size_t n_ids, cap_ids;
	Change *ch;
	size_t n_ch, cap_ch;
	int error;
};

static bool is_postfix_family(const FamilyDesc *f)
{
	return strncmp(f->name, "postfix_tls_", 12) == 0 && strncmp(f->name, "postfix_tls_exporter_", 21) != 0;
}

static bool label_name_ok(const char *s, size_t n)
{
	if (n == 0 || (n >= 2 && s[0] == '_' && s[1] == '_'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/* label_clash - a family label of that name, or NULL. */
static const char *label_clash(Store *s, const char *name, size_t n)
{
	for (unsigned fi = 0; fi < store_n_families(s); fi++) {
		const FamilyDesc *f = store_family(s, fi);
		if (!is_postfix_family(f))
			continue;
		for (unsigned i = 0; i < f->n_labels; i++)
			if (strlen(f->labels[i]) == n && memcmp(f->labels[i], name, n) == 0)
				return f->name;
	}
	return NULL;
}

static int render_labels(Backfill *b, char **ret_error)
{
	Buf out = BUF_NULL;
	for (size_t i = 0; i < b->cfg.n_labels; i++) {
		const char *l = b->cfg.labels[i], *eq = strchr(l, '=');
		size_t n = eq ? (size_t)(eq - l) : 0;
		const char *why = NULL, *fam = NULL;
		if (!eq || !label_name_ok(l, n))
			why = "expected NAME=VALUE with NAME of [a-zA-Z_][a-zA-Z0-9_]* not starting with __";
		else if (!utf8_clean(eq + 1, strlen(eq + 1)))
			why = "the value is not valid UTF-8 or has control characters";
		else if ((fam = label_clash(b->store, l, n)))
			why = "the exporter already uses this label name";
		for (size_t j = 0; !why && j < i; j++)
			if (strncmp(b->cfg.labels[j], l, n + 1) == 0)
				why = "the label is given twice";
		if (why) {
			buf_deinit(&out);
			if (asprintf(ret_error, "--label=%s: %s%s%s", l, why, fam ? " in " : "", fam ? fam : "") < 0)
				*ret_error = NULL;
			return -EINVAL;
		}
		if (i)
			buf_putc(&out, ',');
		buf_append(&out, l, n);
		buf_append(&out, "=\"", 2);
		expo_escape_label(&out, eq + 1, strlen(eq + 1));
		buf_putc(&out, '"');
	}
	if (buf_error(&out))
		return buf_error(&out);
	b->extra = b->cfg.n_labels ? buf_steal(&out, NULL) : NULL;
	buf_deinit(&out);
	return 0;
}

int backfill_new(Backfill **ret, Store *store, const BackfillConfig *cfg, char **ret_error)
{
	*ret_error = NULL;
	if (cfg->step_usec < 1000000) {
		if (asprintf(ret_error, "--step must be at least 1s") < 0)
			*ret_error = NULL;
		return -EINVAL;
	}
	Backfill *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->store = store;
	b->cfg = *cfg;
	int r = store_new(&b->ids, store_family(store, 0), store_n_families(store), ID_SERIES_MAX);
	if (r >= 0)
		r = render_labels(b, ret_error);
	if (r < 0) {
		backfill_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

Backfill *backfill_free(Backfill *b)
{
	if (!b)
		return NULL;
	store_free(b->ids);
	free(b->extra);
	free(b->last);
	free(b->seen);
	free(b->ch);
	free(b);
	return NULL;
}

static void record(Backfill *b, uint32_t id, double value)
{
	if (b->n_ch == b->cap_ch) {
		size_t cap = b->cap_ch ? b->cap_ch * 2 : 4096;
		Change *c = realloc(b->ch, cap * sizeof(*c));
		if (!c) {
			b->error = -ENOMEM;
			return;
		}
		b->ch = c;
		b->cap_ch = cap;
	}
	b->ch[b->n_ch++] = (Change){ id, b->n_steps, value };
}

/* series_id - the number of a series by family and labels; new ones get
 * the next. UINT32_MAX on failure (b->error set). */
static uint32_t series_id(Backfill *b, const Series *se)
{
	double v = store_get(b->ids, se->family, se->values);
	if (v > 0)
		return (uint32_t)v - 1;
	if (b->n_ids == b->cap_ids) {
		size_t cap = b->cap_ids ? b->cap_ids * 2 : 1024;
		double *last = realloc(b->last, cap * sizeof(*last));
		if (last)
			b->last = last;
		uint32_t *seen = realloc(b->seen, cap * sizeof(*seen));
		if (seen)
			b->seen = seen;
		if (!last || !seen) {
			b->error = -ENOMEM;
			return UINT32_MAX;
		}
		b->cap_ids = cap;
	}
	if (store_set(b->ids, se->family, se->values, (double)(b->n_ids + 1)) != 0) {
		b->error = -E2BIG;
		return UINT32_MAX;
	}
	b->seen[b->n_ids] = 0;
	return (uint32_t)b->n_ids++;
}

/* snapshot - record the changes at step n_steps against the latest snapshot
 * taken (b->taken - 1), which may be an earlier step: the steps between
 * were repeats of it (see backfill_observe). */
static void snapshot(Backfill *b)
{
	uint32_t k = b->n_steps, prev = b->taken;
	store_collect(b->store);
	for (unsigned fi = 0; fi < store_n_families(b->store) && !b->error; fi++) {
		if (!is_postfix_family(store_family(b->store, fi)))
			continue;
		const Series *const *series;
		size_t n;
		if (store_sorted(b->store, fi, &series, &n) < 0)
			continue;
		for (size_t i = 0; i < n && !b->error; i++) {
			uint32_t id = series_id(b, series[i]);
			if (id == UINT32_MAX)
				break;
			bool was_present = prev > 0 && b->seen[id] == prev;
			if (!was_present || b->last[id] != series[i]->value)
				record(b, id, series[i]->value);
			b->last[id] = series[i]->value;
			b->seen[id] = k + 1;
		}
	}
	for (size_t id = 0; id < b->n_ids && prev > 0; id++)
		if (b->seen[id] == prev) /* present in the last snapshot, not in this one */
			record(b, (uint32_t)id, NAN);
	b->taken = k + 1;
	b->n_steps++;
}

void backfill_observe(Backfill *b, int64_t ts_usec)
{
	if (ts_usec <= 0 || b->error)
		return;
	if (!b->next_usec) {
		b->base_usec = (ts_usec / b->cfg.step_usec + 1) * b->cfg.step_usec;
		b->next_usec = b->base_usec;
	}
	if (ts_usec < b->next_usec)
		return;
	/* A record far in the future would take a snapshot per step up to it:
	 * stop at the output bound instead of running for hours. */
	if ((uint64_t)((ts_usec - b->next_usec) / b->cfg.step_usec) >= b->cfg.max_samples) {
		b->error = -E2BIG;
		return;
	}
	/* Nothing was read between the boundaries this record crosses after
	 * the first: their snapshots would repeat it, so they only count. A
	 * quiet night at 5-minute steps costs nothing. */
	bool first = true;
	while (ts_usec >= b->next_usec && !b->error) {
		if (first)
			snapshot(b);
		else
			b->n_steps++;
		first = false;
		b->next_usec += b->cfg.step_usec;
	}
}

/* by_id - stable counting sort of the changes by series; within one series
 * they stay in step order. Returns the start of each id's run in *ret_start. */
static int by_id(Backfill *b, Change **ret, size_t **ret_start)
{
	size_t *start = calloc(b->n_ids + 1, sizeof(*start));
	Change *out = malloc((b->n_ch ? b->n_ch : 1) * sizeof(*out));
	if (!start || !out) {
		free(start);
		free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n_ch; i++)
		start[b->ch[i].id + 1]++;
	for (size_t i = 0; i < b->n_ids; i++)
		start[i + 1] += start[i];
	size_t *pos = malloc((b->n_ids ? b->n_ids : 1) * sizeof(*pos));
	if (!pos) {
		free(start);
		free(out);
		return -ENOMEM;
	}
	memcpy(pos, start, b->n_ids * sizeof(*pos));
	for (size_t i = 0; i < b->n_ch; i++)
		out[pos[b->ch[i].id]++] = b->ch[i];
	free(pos);
	*ret = out;
	*ret_start = start;
	return 0;
}

/* emit_run - the lines "NAME{LABELS} VALUE TS" of one value over steps
 * [from, end): the part before the timestamp is rendered once (a month at
 * 5-minute steps repeats it 8640 times). */
static void emit_run(const Backfill *b, const Buf *name, double value, uint32_t from, uint32_t end, Buf *out,
		     Buf *line)
{
	buf_clear(line);
	buf_append(line, name->data, name->len);
	buf_putc(line, ' ');
	expo_value(line, value);
	buf_putc(line, ' ');
	if (buf_error(line)) {
		if (!out->error) /* out keeps the first error, as appends do */
			out->error = buf_error(line);
		return;
	}
	int64_t step = b->cfg.step_usec;
	for (uint32_t k = from; k < end; k++) {
		buf_append(out, line->data, line->len);
		buf_put_u64(out, (unsigned long long)((b->base_usec + (int64_t)k * step) / 1000000));
		buf_putc(out, '\n');
	}
}

/* emit - the samples of one series (out == NULL: count them only). A
 * counter also gets a 0 at the step before it first appears: it was 0 then,
 * and without that sample increase() over a window that starts before the
 * series would miss its first increments. */
static uint64_t emit(const Backfill *b, const Change *c, size_t n, const FamilyDesc *f, const Series *se, Buf *out)
{
	uint64_t samples = 0;
	Buf name = BUF_NULL, line = BUF_NULL;
	if (out)
		expo_series_name(&name, f, se, EXPO_OPENMETRICS, b->extra);
	if (n && f->type == METRIC_COUNTER && !isnan(c[0].value)) {
		samples++;
		if (out) {
			/* the step before the first: (step - 1) may be -1 */
			int64_t ts = (b->base_usec + ((int64_t)c[0].step - 1) * b->cfg.step_usec) / 1000000;
			buf_append(out, name.data, name.len);
			buf_puts(out, " 0 ");
			buf_put_u64(out, (unsigned long long)ts);
			buf_putc(out, '\n');
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t end = i + 1 < n ? c[i + 1].step : b->n_steps;
		if (isnan(c[i].value))
			continue;
		samples += end - c[i].step;
		if (out)
			emit_run(b, &name, c[i].value, c[i].step, end, out, &line);
	}
	if (out && buf_error(&name) && !out->error)
		out->error = buf_error(&name);
	buf_deinit(&name);
	buf_deinit(&line);
	return samples;
}

static int flush(Buf *out, FILE *f, bool always)
{
	if (buf_error(out))
		return buf_error(out);
	if (!always && out->len < FLUSH_BYTES)
		return 0;
	if (out->len && fwrite(out->data, 1, out->len, f) != out->len)
		return -EIO;
	buf_clear(out);
	return 0;
}

/* walk - every series of the Postfix families in exposition order; with
 * out, write them (and the family headers) to f. Returns samples or errno. */
static int64_t walk(Backfill *b, const Change *ch, const size_t *start, Buf *out, FILE *f)
{
	uint64_t samples = 0;
	for (unsigned fi = 0; fi < store_n_families(b->ids); fi++) {
		const FamilyDesc *fam = store_family(b->ids, fi);
		const Series *const *series;
		size_t n;
		if (!is_postfix_family(fam) || store_sorted(b->ids, fi, &series, &n) < 0 || n == 0)
			continue;
		if (out)
			expo_family_header(out, fam, EXPO_OPENMETRICS);
		for (size_t i = 0; i < n; i++) {
			uint32_t id = (uint32_t)series[i]->value - 1;
			samples += emit(b, ch + start[id], start[id + 1] - start[id], fam, series[i], out);
			int r = out ? flush(out, f, false) : 0;
			if (r < 0)
				return r;
		}
	}
	return (int64_t)samples;
}

int64_t backfill_write(Backfill *b, FILE *f, char **ret_error)
{
	*ret_error = NULL;
	if (b->next_usec && !b->error)
		snapshot(b); /* the boundary after the newest record: equals --once */
	if (b->error) {
		if (asprintf(ret_error, b->error == -E2BIG ? "the log spans more steps than --backfill.max-samples=%llu "
			     "allows (a line stamped far in the future?); use a larger --step" : "out of memory",
			     (unsigned long long)b->cfg.max_samples) < 0)
			*ret_error = NULL;
		return b->error;
	}
	Change *ch;
	size_t *start;
	int r = by_id(b, &ch, &start);
	if (r < 0)
		return r;
	int64_t samples = walk(b, ch, start, NULL, NULL);
	if ((uint64_t)samples > b->cfg.max_samples) {
		if (asprintf(ret_error, "%lld samples (%zu series over %u steps) exceed --backfill.max-samples=%llu; "
			     "use a larger --step or raise the limit", (long long)samples, b->n_ids, b->n_steps,
			     (unsigned long long)b->cfg.max_samples) < 0)
			*ret_error = NULL;
		r = -E2BIG;
	} else {
		Buf out = BUF_NULL;
		int64_t w = walk(b, ch, start, &out, f);
		buf_puts(&out, "# EOF\n");
		r = w < 0 ? (int)w : flush(&out, f, true);
		buf_deinit(&out);
	}
	free(ch);
	free(start);
	return r < 0 ? r : samples;
}

/*
 * store.c - counter store: a hash table (htable) of series keyed by
 * (family, label values), seeded hash, series cap.
 *
 * LIMITS
 *	The cap applies to the families whose label values come from the log.
 *	The exporter's own health (postfix_tls_exporter_*, process_*: a fixed,
 *	small set of series) is exempt, or a log that fills the store before
 *	the first scrape would read lines_read_total and series_dropped_total
 *	as 0 forever, and the alert on this very condition would never fire.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "store.h"
#include "utf8.h"
#include "util.h"

typedef struct Collector {
	StoreCollectFn fn;
	void *userdata;
} Collector;

struct Store {
	const FamilyDesc *families;
	unsigned n_families;
	size_t max_series;
	HTable map;            /* Series *, by key_hash() */
	size_t n;
	uint64_t dropped;
	Series **order;        /* every series, sorted by (family, label values) */
	size_t order_cap;
	double started;        /* realtime seconds at store_new() */
	Collector *collectors;
	size_t n_collectors;
};

int store_new(Store **ret, const FamilyDesc *families, unsigned n_families, size_t max_series)
{
	Store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->families = families;
	s->n_families = n_families;
	s->max_series = max_series;
	s->started = (double)now_realtime_usec() / 1e6;
	if (htable_init(&s->map, 256) < 0) {
		free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

Store *store_free(Store *s)
{
	if (!s)
		return NULL;
	htable_deinit(&s->map, free);
	free(s->order);
	free(s->collectors);
	free(s);
	return NULL;
}

/* clamp_len - label values are valid UTF-8 (the ingest repairs them), so
 * a long one is cut at a character boundary, never inside one. */
static inline size_t clamp_len(Slice v)
{
	return v.p ? utf8_cut(v.p, v.n, STORE_LABEL_MAX) : 0;
}

_Static_assert(STORE_LABEL_MAX < 256, "key_hash packs a value's length in one byte");

/* key_hash - of the family and the (clamped) values. Short keys, nearly
 * all of them, are packed with their lengths and hashed in one call: a
 * call per value cost twice as much for the four or five short values of
 * a typical series. */
static uint64_t key_hash(const Store *s, unsigned family, const Slice *values, unsigned n)
{
	unsigned char packed[256];
	size_t k = 0;
	memcpy(packed, &family, sizeof(family));
	k += sizeof(family);
	for (unsigned i = 0; i < n; i++) {
		size_t len = clamp_len(values[i]);
		if (k + 1 + len > sizeof(packed)) {
			uint64_t h = htable_hash(&s->map, &family, sizeof(family));
			for (unsigned j = 0; j < n; j++)
				h = hash64(values[j].p ? values[j].p : "", clamp_len(values[j]), h ^ (j + 1));
			return h;
		}
		packed[k++] = (unsigned char)len;
		if (len)
			memcpy(packed + k, values[i].p, len);
		k += len;
	}
	return htable_hash(&s->map, packed, k);
}

typedef struct Key {
	unsigned family;
	unsigned n;
	const Slice *values;
} Key;

static bool key_eq(const void *item, const void *key)
{
	const Series *se = item;
	const Key *k = key;
	if (se->family != k->family)
		return false;
	for (unsigned i = 0; i < k->n; i++) {
		size_t len = clamp_len(k->values[i]);
		if (se->values[i].n != len || (len && memcmp(se->values[i].p, k->values[i].p, len) != 0))
			return false;
	}
	return true;
}

/* order_cmp - (family, label values) order of the exposition. */
static int order_cmp(const Store *s, const Series *x, const Series *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	unsigned n = s->families[x->family].n_labels;
	for (unsigned i = 0; i < n; i++) {
		int c = strcmp(x->values[i].p, y->values[i].p);
		if (c)
			return c;
	}
	return 0;
}

/* order_insert - series are created rarely and scraped often: keep them
 * sorted at creation, so a scrape is a linear walk. */
static int order_insert(Store *s, Series *se)
{
	if (s->n + 1 > s->order_cap) {
		size_t cap = s->order_cap ? s->order_cap * 2 : 256;
		Series **o = realloc(s->order, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		s->order = o;
		s->order_cap = cap;
	}
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (order_cmp(s, s->order[mid], se) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(s->order + lo + 1, s->order + lo, (s->n - lo) * sizeof(*s->order));
	s->order[lo] = se;
	return 0;
}

static uint64_t series_hash(const Store *s, const Series *se)
{
	return key_hash(s, se->family, se->values, s->families[se->family].n_labels);
}

/* is_health - a family of the exporter's own health, never capped. */
static bool is_health(const FamilyDesc *f)
{
	return !strncmp(f->name, "postfix_tls_exporter_", 21) || !strncmp(f->name, "process_", 8);
}

/* lookup - find the series, or create it when create is set. */
static int lookup(Store *s, unsigned family, const Slice *values, bool create, Series **ret)
{
	if (family >= s->n_families)
		return -EINVAL;
	unsigned n = s->families[family].n_labels;
	uint64_t h = key_hash(s, family, values, n);
	Series *found = htable_find(&s->map, h, key_eq, &(Key){ family, n, values });
	if (found) {
		*ret = found;
		return 0;
	}
	if (!create)
		return -ENOENT;
	if (s->n >= s->max_series && !is_health(&s->families[family])) {
		s->dropped++;
		return STORE_FULL;
	}
	size_t extra = 0;
	for (unsigned i = 0; i < n; i++)
		extra += clamp_len(values[i]) + 1;
	Series *se = calloc(1, sizeof(*se) + extra);
	if (!se)
		return -ENOMEM;
	se->family = family;
	se->created = (double)now_realtime_usec() / 1e6;
	char *p = (char *)(se + 1);
	for (unsigned i = 0; i < n; i++) {
		size_t len = clamp_len(values[i]);
		if (len)
			memcpy(p, values[i].p, len);
		p[len] = '\0';
		se->values[i] = (Slice){ p, len };
		p += len + 1;
	}
	int r = htable_insert(&s->map, h, se);
	if (r >= 0 && order_insert(s, se) < 0) {
		htable_remove(&s->map, h, se);
		r = -ENOMEM;
	}
	if (r < 0) {
		free(se);
		return r;
	}
	s->n++;
	*ret = se;
	return 0;
}

int store_add(Store *s, unsigned family, const Slice *values, double delta)
{
	Series *se;
	int r = lookup(s, family, values, true, &se);
	if (r != 0)
		return r;
	se->value += delta;
	return 0;
}

int store_set(Store *s, unsigned family, const Slice *values, double value)
{
	Series *se;
	int r = lookup(s, family, values, true, &se);
	if (r != 0)
		return r;
	se->value = value;
	return 0;
}

double store_get(const Store *s, unsigned family, const Slice *values)
{
	Series *se;
	if (lookup((Store *)s, family, values, false, &se) != 0)
		return 0;
	return se->value;
}

void store_reset_family(Store *s, unsigned family)
{
	/* Runs per scrape for the few gauges that are recomputed: the family is
	 * one run of order[], removed from the map one by one. */
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		Series *se = s->order[i];
		if (se->family != family) {
			s->order[k++] = se;
			continue;
		}
		htable_remove(&s->map, series_hash(s, se), se);
		free(se);
	}
	s->n = k;
}

const FamilyDesc *store_family(const Store *s, unsigned family)
{
	return family < s->n_families ? &s->families[family] : NULL;
}

unsigned store_n_families(const Store *s)
{
	return s->n_families;
}

size_t store_n_series(const Store *s)
{
	return s->n;
}

uint64_t store_series_dropped(const Store *s)
{
	return s->dropped;
}

int store_sorted(Store *s, unsigned family, const Series *const **ret, size_t *ret_n)
{
	if (family >= s->n_families)
		return -EINVAL;
	/* the family's series are one run of the sorted order */
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->order[mid]->family < family)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < s->n && s->order[end]->family == family)
		end++;
	*ret = (const Series *const *)(s->order + lo);
	*ret_n = end - lo;
	return 0;
}

double store_started(const Store *s)
{
	return s->started;
}

int store_add_collector(Store *s, StoreCollectFn fn, void *userdata)
{
	Collector *c = realloc(s->collectors, (s->n_collectors + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	c[s->n_collectors++] = (Collector){ fn, userdata };
	s->collectors = c;
	return 0;
}

void store_collect(Store *s)
{
	for (size_t i = 0; i < s->n_collectors; i++)
		s->collectors[i].fn(s, s->collectors[i].userdata);
}

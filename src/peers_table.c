/*
 * peers_table.c - the tracking tables behind peers.c: entries in a chained
 * hash, the Space-Saving heaps and labels, hour slots and their combo cell
 * pools, the sweep of hours older than the window, relabelling after a load,
 * and a table's life cycle.
 *
 * DESCRIPTION
 *	Three tables (inbound domains, outbound domains, addresses of inbound
 *	clients without a name) share one implementation. A table is a hash
 *	of at most cap entries plus two min-heaps ordered by Space-Saving count:
 *	uheap holds the unlabelled entries (the eviction candidates), lheap the
 *	labelled ones (the promotion threshold). Each entry owns a list of hour
 *	slots, newest first, taken from a per-table pool.
 *
 *	uheap is only asked for its least busy entry when one must go (a full
 *	table, or no slot left), which a table that the input never fills
 *	never asks. Until then it is a plain list (entries in any order, which
 *	spares a sift per event), and uheap_order() heaps it the first time.
 * LIMITS
 *	cap entries per table (--peers.track), max_labelled labelled peers
 *	(--peers.max), cap * 3 + (max_labelled + 1) * window_hours slots.
 *	Every pool is mapped in peers_table_init() (peers_alloc_zeroed()) and not
 *	touched there: an element is handed out from the pool's free list
 *	(elements given back) or else its never-used tail (the high-water mark),
 *	and hash buckets hold index + 1 so that zero is empty. Memory grows with
 *	what the input uses, up to the bounds; events never allocate.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "macro.h"
#include "peers_int.h"
#include "utf8.h"

/*
 * Heaps (min by count). The heap an entry is in follows from its label.
 */
static uint32_t *heap_of(Table *t, const Entry *e, size_t **ret_n)
{
	if (e->label == PEERS_NIL) {
		*ret_n = &t->nu;
		return t->uheap;
	}
	*ret_n = &t->nl;
	return t->lheap;
}

static void heap_swap(Table *t, uint32_t *h, size_t a, size_t b)
{
	uint32_t x = h[a];
	h[a] = h[b];
	h[b] = x;
	t->e[h[a]].heap = (uint32_t)a;
	t->e[h[b]].heap = (uint32_t)b;
}

static void heap_up(Table *t, uint32_t *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (t->e[h[parent]].count <= t->e[h[i]].count)
			break;
		heap_swap(t, h, i, parent);
		i = parent;
	}
}

static void heap_down(Table *t, uint32_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && t->e[h[l]].count < t->e[h[m]].count)
			m = l;
		if (r < n && t->e[h[r]].count < t->e[h[m]].count)
			m = r;
		if (m == i)
			return;
		heap_swap(t, h, i, m);
		i = m;
	}
}

/* ordered - whether h keeps the heap order now (see uheap_order) */
static bool ordered(const Table *t, const uint32_t *h)
{
	return h != t->uheap || t->uheap_ordered;
}

static void heap_push(Table *t, uint32_t idx)
{
	size_t *n;
	uint32_t *h = heap_of(t, &t->e[idx], &n);
	h[*n] = idx;
	t->e[idx].heap = (uint32_t)*n;
	(*n)++;
	if (ordered(t, h))
		heap_up(t, h, *n - 1);
}

static void heap_remove(Table *t, uint32_t idx)
{
	size_t *n;
	uint32_t *h = heap_of(t, &t->e[idx], &n);
	size_t i = t->e[idx].heap;
	(*n)--;
	if (i != *n) {
		heap_swap(t, h, i, *n);
		if (ordered(t, h)) {
			heap_up(t, h, i);
			heap_down(t, h, *n, i);
		}
	}
	t->e[idx].heap = PEERS_NIL;
}

/* uheap_order - heap uheap (Floyd's, O(n)) the first time its least busy
 * entry is asked for; it stays a heap until the table is cleared. */
static void uheap_order(Table *t)
{
	if (t->uheap_ordered)
		return;
	for (size_t i = t->nu / 2; i-- > 0;)
		heap_down(t, t->uheap, t->nu, i);
	t->uheap_ordered = true;
}

/*
 * Slots and combo cells: free list first, then the never-used tail.
 */
static bool slot_available(const Table *t)
{
	return t->slot_free != PEERS_NIL || t->slot_hwm < t->slot_cap;
}

static uint32_t slot_take(Table *t)
{
	uint32_t s = t->slot_free;
	if (s != PEERS_NIL)
		t->slot_free = peers_slot_at(t, s)->next;
	else if (t->slot_hwm < t->slot_cap)
		s = (uint32_t)t->slot_hwm++;
	return s;
}

static uint32_t cell_take(Table *t)
{
	uint32_t c = t->cc_free;
	if (c != PEERS_NIL)
		t->cc_free = t->cc[c].next;
	else if (t->cc_hwm < t->cc_cap)
		c = (uint32_t)t->cc_hwm++;
	return c;
}

static void cells_free(Table *t, uint32_t c)
{
	while (c != PEERS_NIL) {
		uint32_t next = t->cc[c].next;
		t->cc[c].next = t->cc_free;
		t->cc_free = c;
		c = next;
	}
}

static void slot_free_list(Table *t, uint32_t s)
{
	while (s != PEERS_NIL) {
		Slot *sl = peers_slot_at(t, s);
		uint32_t next = sl->next;
		cells_free(t, sl->combos);
		sl->next = t->slot_free;
		t->slot_free = s;
		t->n_slots--;
		s = next;
	}
}

/* prune - free the slots of e at or before cutoff (the list is newest first);
 * returns the hour of the oldest slot kept. */
static int32_t prune(Table *t, Entry *e, int32_t cutoff)
{
	/* the walk reads every slot kept (a busy peer has one per hour of
	 * the window): only take it when the oldest has expired */
	if (e->oldest > cutoff)
		return e->oldest;
	int32_t oldest = INT32_MAX;
	uint32_t *link = &e->slots;
	while (*link != PEERS_NIL && peers_slot_at(t, *link)->hour > cutoff) {
		oldest = peers_slot_at(t, *link)->hour;
		link = &peers_slot_at(t, *link)->next;
	}
	uint32_t rest = *link;
	*link = PEERS_NIL;
	slot_free_list(t, rest);
	e->oldest = oldest;
	return oldest; /* of the slots kept; INT32_MAX: none */
}

/*
 * Entries.
 */
Entry *peers_entry_lookup(Table *t, const Peers *p, const char *key, size_t len)
{
	uint64_t h = hash64(key, len, p->seed);
	/* a bucket holds index + 1: zero (calloc) is empty, and 0 - 1 is PEERS_NIL */
	for (uint32_t i = t->hash[h & t->hash_mask] - 1; i != PEERS_NIL; i = t->e[i].hnext)
		if (t->e[i].key_len == len && !memcmp(t->e[i].key, key, len))
			return &t->e[i];
	return NULL;
}

static void label_demote(Table *t, Entry *e)
{
	Label *l = &t->labels[e->label];
	t->series_stale = true;
	for (unsigned c = 0; c < PEERS_CELLS; c++)
		t->other[c] += l->cum[c];
	uint32_t idx = (uint32_t)(e - t->e);
	heap_remove(t, idx);
	t->label_free[t->n_label_free++] = e->label;
	e->label = PEERS_NIL;
	heap_push(t, idx);
}

static void label_promote(Table *t, Entry *e)
{
	uint32_t idx = (uint32_t)(e - t->e);
	heap_remove(t, idx);
	uint32_t l = t->n_label_free > 0 ? t->label_free[--t->n_label_free] : (uint32_t)t->label_hwm++;
	memset(&t->labels[l], 0, sizeof(t->labels[l]));
	t->labels[l].entry = idx;
	e->label = l;
	heap_push(t, idx);
}

static void entry_remove(Peers *p, Table *t, Entry *e)
{
	uint32_t idx = (uint32_t)(e - t->e);
	if (e->label != PEERS_NIL)
		label_demote(t, e);
	heap_remove(t, idx);
	uint32_t *bucket = &t->hash[hash64(e->key, e->key_len, p->seed) & t->hash_mask];
	if (*bucket - 1 == idx) {
		*bucket = e->hnext + 1;
	} else {
		uint32_t i = *bucket - 1;
		while (t->e[i].hnext != idx)
			i = t->e[i].hnext;
		t->e[i].hnext = e->hnext;
	}
	slot_free_list(t, e->slots);
	for (unsigned i = 0; i < e->n_examples; i++)
		t->ex_free[t->n_ex_free++] = e->ex[i];
	memset(e, 0, sizeof(*e));
	e->slots = PEERS_NIL;
	e->label = PEERS_NIL;
	e->heap = PEERS_NIL;
	e->hnext = t->free_entry;
	t->free_entry = idx;
	t->n--;
}

Entry *peers_entry_insert(Peers *p, Table *t, const char *key, size_t len)
{
	uint64_t inherit = 0;
	if (len >= PEERS_DOMAIN_MAX)
		return NULL;
	if (t->n >= t->cap) {
		if (t->nu == 0)
			return NULL;
		uheap_order(t);
		inherit = t->e[t->uheap[0]].count;
		entry_remove(p, t, &t->e[t->uheap[0]]);
		t->evicted++;
	}
	/* n < cap here: with no entry given back, the tail has one */
	uint32_t idx = t->free_entry;
	if (idx != PEERS_NIL)
		t->free_entry = t->e[idx].hnext;
	else
		idx = (uint32_t)t->e_hwm++;
	Entry *e = &t->e[idx];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, len);
	e->key_len = (uint8_t)len;
	e->used = 1;
	e->label = PEERS_NIL;
	e->slots = PEERS_NIL;
	e->oldest = INT32_MAX;
	e->count = e->err = inherit;
	uint32_t *bucket = &t->hash[hash64(key, len, p->seed) & t->hash_mask];
	e->hnext = *bucket - 1;
	*bucket = idx + 1;
	heap_push(t, idx);
	t->n++;
	return e;
}

/* peers_entry_count - count one event for e (Space-Saving) and give e a
 * label when one is free or e now outranks the least busy labelled peer. */
void peers_entry_count(Table *t, Entry *e)
{
	e->count++;
	{
		size_t *n;
		uint32_t *h = heap_of(t, e, &n);
		if (ordered(t, h))
			heap_down(t, h, *n, e->heap);
	}
	if (t->max_labelled > 0 && e->label == PEERS_NIL) {
		if (t->nl < t->max_labelled)
			label_promote(t, e);
		else if (e->count - e->err > t->e[t->lheap[0]].count) {
			label_demote(t, &t->e[t->lheap[0]]);
			label_promote(t, e);
		}
	}
}

/* reclaim - free slots by dropping the least busy unlabelled peer other than keep. */
static bool reclaim(Peers *p, Table *t, const Entry *keep)
{
	while (!slot_available(t)) {
		uheap_order(t);
		uint32_t victim = PEERS_NIL;
		for (size_t i = 0; i < 3 && i < t->nu; i++) {
			uint32_t c = t->uheap[i];
			if (&t->e[c] == keep)
				continue;
			if (victim == PEERS_NIL || t->e[c].count < t->e[victim].count)
				victim = c;
		}
		if (victim == PEERS_NIL)
			return false;
		entry_remove(p, t, &t->e[victim]);
		t->evicted++;
	}
	return true;
}

Slot *peers_slot_get(Peers *p, Table *t, Entry *e, int32_t hour)
{
	uint32_t *link = &e->slots;
	while (*link != PEERS_NIL && peers_slot_at(t, *link)->hour > hour)
		link = &peers_slot_at(t, *link)->next;
	if (*link != PEERS_NIL && peers_slot_at(t, *link)->hour == hour)
		return peers_slot_at(t, *link);
	if (!slot_available(t)) {
		if (!reclaim(p, t, e))
			return NULL;
		/* reclaim() cannot touch e's list, but recompute the link anyway */
		link = &e->slots;
		while (*link != PEERS_NIL && peers_slot_at(t, *link)->hour > hour)
			link = &peers_slot_at(t, *link)->next;
	}
	uint32_t s = slot_take(t);
	Slot *sl = peers_slot_at(t, s);
	t->n_slots++;
	memset(sl, 0, t->slot_size);
	sl->hour = hour;
	sl->combos = PEERS_NIL;
	sl->next = *link;
	*link = s;
	if (sl->next == PEERS_NIL)
		e->oldest = hour;
	peers_table_note_hour(t, hour);
	return sl;
}

void peers_slot_combo_add(Table *t, Slot *sl, PeerComboKind kind, int id, uint32_t n)
{
	uint32_t *link = &sl->combos;
	for (; id >= 0 && *link != PEERS_NIL; link = &t->cc[*link].next)
		if (t->cc[*link].id == (uint32_t)id) {
			t->cc[*link].n += n;
			return;
		}
	uint32_t c = id < 0 ? PEERS_NIL : cell_take(t);
	if (c == PEERS_NIL) {
		sl->combo_other[kind] += n;
		return;
	}
	t->cc[c] = (ComboCell){ (uint32_t)id, n, PEERS_NIL };
	*link = c;
}

void peers_add_example(Table *t, Entry *e, const char *s, size_t len)
{
	/* more_examples: all PEERS_EXAMPLES are kept and another was seen, so
	 * whatever s is, nothing changes; the busiest peers (a provider's
	 * many hosts) are these, and the compares would read three strings */
	if (!t->ex || len == 0 || e->more_examples)
		return;
	len = utf8_cut(s, len, PEERS_EXAMPLE_MAX - 1); /* on a character boundary */
	/* equal bytes and then the stored string's NUL: the same string, found
	 * without a strlen (len < PEERS_EXAMPLE_MAX, so the compare stays in
	 * the stored buffer; s from a log line holds no NUL) */
	for (unsigned i = 0; i < e->n_examples; i++)
		if (!memcmp(t->ex[e->ex[i]], s, len) && t->ex[e->ex[i]][len] == '\0')
			return;
	if (e->n_examples >= PEERS_EXAMPLES) {
		e->more_examples = 1;
		return;
	}
	/* the pool holds PEERS_EXAMPLES per entry: it cannot run out */
	uint32_t x = t->n_ex_free > 0 ? t->ex_free[--t->n_ex_free] : (uint32_t)t->ex_hwm++;
	memcpy(t->ex[x], s, len);
	t->ex[x][len] = '\0';
	e->ex[e->n_examples++] = x;
}

/*
 * Time: the sweep when "now" enters a new hour, and what follows a load.
 */
/* peers_sweep - free slots older than the window, drop peers not seen in it. */
void peers_sweep(Peers *p)
{
	int32_t cutoff = p->now_hour - p->window_hours;
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
		Table *t = &p->t[d];
		/* A log shorter than the window never expires anything: skip
		 * the walk over every entry and slot (once an hour of log). */
		if (cutoff < t->sweep_due)
			continue;
		int32_t due = INT32_MAX;
		for (size_t i = 0; i < t->e_hwm && t->n > 0; i++) {
			Entry *e = &t->e[i];
			if (!e->used)
				continue;
			int32_t oldest = prune(t, e, cutoff), last = peers_hour_of(e->last_seen);
			if (last <= cutoff)
				entry_remove(p, t, e);
			else
				due = MIN(due, MIN(oldest, last));
		}
		t->sweep_due = due;
	}
}

void peers_entry_set_count(Table *t, Entry *e, uint64_t count, uint64_t err)
{
	uint32_t idx = (uint32_t)(e - t->e);
	heap_remove(t, idx);
	e->count = count;
	e->err = err;
	heap_push(t, idx);
}

int peers_entry_cmp_count(const void *a, const void *b, void *table)
{
	const Table *t = table;
	const Entry *x = &t->e[*(const uint32_t *)a], *y = &t->e[*(const uint32_t *)b];
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* relabel - give the free labels to the busiest unlabelled peers (after a load). */
static void relabel(Table *t)
{
	if (t->nl >= t->max_labelled || t->nu == 0)
		return;
	uint32_t *v = malloc(t->nu * sizeof(*v));
	if (!v)
		return;
	size_t n = t->nu;
	memcpy(v, t->uheap, n * sizeof(*v));
	qsort_r(v, n, sizeof(*v), peers_entry_cmp_count, t);
	for (size_t i = 0; i < n && t->nl < t->max_labelled; i++)
		label_promote(t, &t->e[v[i]]);
	free(v);
}

void peers_after_load(Peers *p)
{
	p->now_hour = p->newest_usec > 0 ? peers_hour_of(p->newest_usec) : 0;
	if (p->newest_usec > 0)
		peers_sweep(p);
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++)
		if (p->t[d].max_labelled > 0)
			relabel(&p->t[d]);
}

/*
 * Life cycle.
 */
/* table_clear - empty t, touching only what was used: every pool is handed
 * out again from its start, and each element is cleared when handed out. */
static void table_clear(Table *t)
{
	if (t->e_hwm > 0)
		memset(t->hash, 0, (t->hash_mask + 1) * sizeof(*t->hash));
	t->e_hwm = 0;
	t->free_entry = PEERS_NIL;
	t->n = t->nu = t->nl = 0;
	t->uheap_ordered = false;
	t->label_hwm = t->n_label_free = 0;
	t->slot_hwm = t->n_slots = 0;
	t->slot_free = PEERS_NIL;
	t->cc_hwm = 0;
	t->cc_free = PEERS_NIL;
	t->ex_hwm = t->n_ex_free = 0;
	t->sweep_due = INT32_MIN;
}

/* peers_table_reset - forget every entry of t. */
void peers_table_reset(Table *t)
{
	/* labelled counts move to "other" so the exposed sums stay exact */
	for (size_t i = 0; i < t->e_hwm; i++)
		if (t->e[i].used && t->e[i].label != PEERS_NIL)
			label_demote(t, &t->e[i]);
	table_clear(t);
}

/* A mapping's start and length are kept in front of the pool, in a header
 * as long as a cache line so that what follows stays aligned on one. */
#define ZEROED_HEADER 64
#define PAGE_SIZE_MIN 4096

#define HUGE_PAGE (2u << 20)
#define HUGE_MIN (1u << 20)     /* smaller pools stay in 4 KiB pages */

/* peers_alloc_zeroed - the kernel's zero pages, which become resident only
 * when written, so the bounds cost what the input uses (bench/goals.sh: RSS
 * bounded with 1M distinct peers). calloc() gives them only above glibc's
 * mmap threshold (128 KiB at first); below it, it clears the memory and so
 * touches every page, and a table's hash, heaps and example stack are
 * 40-80 KiB each (about 450 KiB written at start for the defaults). So
 * mmap(), except under AddressSanitizer, which checks the bounds of heap
 * blocks only.
 *
 * huge: a pool of HUGE_MIN or more is aligned on a 2 MB page and asked for
 * such pages (MADV_HUGEPAGE; without transparent huge pages it gets 4 KiB
 * ones). Each first touch of a 4 KiB page is a fault, and in a VM with
 * shadowed page tables a dear one (about 10 us here: 20 ms of CPU for the
 * peer tables of the 1 M-line benchmark log); a 2 MB page is one fault, for
 * up to 2 MB more resident memory per pool in use. */
void *peers_alloc_zeroed(size_t n, size_t size, bool huge)
{
	n = n ? n : 1;
	size = size ? size : 1;
	if (n > (SIZE_MAX - 3 * (size_t)HUGE_PAGE) / size)
		return NULL;
	size_t len = n * size;
#if HAVE_ASAN
	(void)huge;
	char *m = calloc(1, ZEROED_HEADER + len);
	if (!m)
		return NULL;
	return m + ZEROED_HEADER;
#else
	/* the header's page in front of the pool: writing it must not make
	 * the pool's first 2 MB page resident */
	size_t front = huge && len >= HUGE_MIN ? (size_t)PAGE_SIZE_MIN : ZEROED_HEADER;
	if (front > ZEROED_HEADER)
		len = (len + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1); /* whole 2 MB pages */
	size_t map = front + len + (front > ZEROED_HEADER ? HUGE_PAGE : 0);
	char *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *pool = m + front;
	if (front > ZEROED_HEADER) {
		/* a 2 MB page starts on a 2 MB boundary: trim the mapping to
		 * one, keeping the header's page */
		pool = (char *)(((uintptr_t)m + front + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
		char *start = pool - front, *end = pool + len;
		if (start > m)
			munmap(m, (size_t)(start - m));
		if (m + map > end)
			munmap(end, (size_t)(m + map - end));
		m = start;
		map = (size_t)(end - start);
		(void)madvise(pool, map - front, MADV_HUGEPAGE); /* advice only */
	}
	size_t hdr[2] = { (size_t)(pool - m), map };
	memcpy(pool - ZEROED_HEADER, hdr, sizeof(hdr));
	return pool;
#endif
}

void peers_free_zeroed(void *p)
{
	if (!p)
		return;
#if HAVE_ASAN
	free((char *)p - ZEROED_HEADER);
#else
	size_t hdr[2];
	memcpy(hdr, (char *)p - ZEROED_HEADER, sizeof(hdr));
	munmap((char *)p - hdr[0], hdr[1]);
#endif
}

int peers_table_init(Table *t, PeerDirection d, size_t cap, size_t max_labelled, int32_t window_hours, bool huge)
{
	t->dir = d;
	t->cap = cap;
	t->max_labelled = max_labelled;
	size_t hs = 1;
	while (hs < cap)
		hs <<= 1;
	t->hash_mask = hs - 1;
	t->slot_cap = cap * 3 + (max_labelled + 1) * (size_t)window_hours;
	t->cc_cap = t->slot_cap * SLOT_CELLS_AVG;
	if (t->cc_cap >= PEERS_NIL)
		return -EINVAL;
	t->e = peers_alloc_zeroed(cap, sizeof(*t->e), huge);
	t->hash = peers_alloc_zeroed(hs, sizeof(*t->hash), huge);
	t->uheap = peers_alloc_zeroed(cap, sizeof(*t->uheap), huge);
	t->lheap = peers_alloc_zeroed(max_labelled + 1, sizeof(*t->lheap), huge);
	t->labels = peers_alloc_zeroed(max_labelled + 1, sizeof(*t->labels), huge);
	t->label_free = peers_alloc_zeroed(max_labelled + 1, sizeof(*t->label_free), huge);
	/* inbound cells are encryption x mail; outbound ones trust x status */
	t->n_cells = d == PEER_INBOUND || d == PEER_UNKNOWN_ADDR ? _ENC_MAX * 2 : _TRUST_MAX * _DELIVERY_MAX;
	t->slot_size = sizeof(Slot) + t->n_cells * sizeof(uint32_t);
	t->slots = peers_alloc_zeroed(t->slot_cap, t->slot_size, huge);
	t->cc = peers_alloc_zeroed(t->cc_cap, sizeof(*t->cc), huge);
	if (d != PEER_UNKNOWN_ADDR) {
		t->ex = peers_alloc_zeroed(cap * PEERS_EXAMPLES, sizeof(*t->ex), huge);
		t->ex_free = peers_alloc_zeroed(cap * PEERS_EXAMPLES, sizeof(*t->ex_free), huge);
	}
	if (!t->e || !t->hash || !t->uheap || !t->lheap || !t->labels || !t->label_free || !t->slots || !t->cc ||
	    (d != PEER_UNKNOWN_ADDR && (!t->ex || !t->ex_free)))
		return -ENOMEM;
	table_clear(t);
	return 0;
}

void peers_table_deinit(Table *t)
{
	peers_free_zeroed(t->e);
	peers_free_zeroed(t->hash);
	peers_free_zeroed(t->uheap);
	peers_free_zeroed(t->lheap);
	peers_free_zeroed(t->labels);
	peers_free_zeroed(t->label_free);
	peers_free_zeroed(t->slots);
	peers_free_zeroed(t->cc);
	peers_free_zeroed(t->ex);
	peers_free_zeroed(t->ex_free);
	memset(t, 0, sizeof(*t));
}

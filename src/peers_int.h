/*
 * peers_int.h - the Peers object's layout, shared by peers.c (accounting
 * and reads), peers_table.c (the tracking tables), peers_domain.c (identity)
 * and peers_state.c (persistence). Not part of the public API.
 *
 * Every array is allocated once in peers_new() and indexed by uint32_t;
 * PEERS_NIL ends lists. Nothing here allocates per event. A pool is handed
 * out from its free list, then from its high-water mark (*_hwm: elements
 * [hwm, cap) were never used and are still the kernel's zero pages).
 */
#pragma once

#include <libpsl.h>
#include <stdint.h>

#include "peers.h"
#include "util.h"

#define PEERS_NIL UINT32_MAX
#define SLOT_CELLS_AVG 6         /* combo cells per slot in the pool, on average */
#define COMBO_MAX 1024
#define COMBO_STR_MAX 64
#define DOMCACHE_SETS 8192
#define DOMCACHE_WAYS 4
#define DOMCACHE_NAME_MAX 116   /* longer names (rare) are normalised every time */
#define HOST_MAX 256            /* normalised host names: at most 253 bytes */
#define PEERS_USEC_MAX (253402300799LL * 1000000) /* 9999-12-31T23:59:59Z: later times are ignored */
#define USEC_PER_HOUR (3600LL * USEC_PER_SEC)

/* One hour of one peer. Per-protocol counts are exact; the combinations
 * (cipher, failure reason, ...) are a list of cells from the table's pool,
 * and what finds no cell is counted per kind, so every kind reconciles. */
typedef struct Slot {
	int32_t hour;                  /* hours since the epoch, log time */
	uint32_t next;                 /* older slot of the same peer */
	uint32_t proto[PEERS_PROTO_MAX];          /* TLS sessions (deliveries) by protocol */
	uint32_t legacy_mail;                     /* inbound mail sessions below TLS 1.2 */
	uint32_t combos;                          /* first ComboCell, or PEERS_NIL */
	uint32_t combo_other[_COMBO_KIND_MAX];    /* counts that found no cell */
	uint32_t cell[];               /* Table.n_cells of PEERS_CELLS: inbound uses 6 */
} Slot;

typedef struct ComboCell {
	uint32_t id;                   /* index into Peers.combos */
	uint32_t n;
	uint32_t next;                 /* next cell of the slot, or of the free list */
} ComboCell;

/* What an event reads and writes comes first, and the key after it: a
 * look-up and its event then touch two cache lines of the entry, not
 * three or four (keys are mostly 10-30 bytes). */
typedef struct Entry {
	uint8_t key_len;
	uint8_t used;
	uint8_t n_examples;
	uint8_t more_examples;
	uint32_t hnext;                /* hash chain, or free list */
	uint64_t count, err;           /* Space-Saving */
	uint32_t label;                /* index into Table.labels, or PEERS_NIL */
	uint32_t heap;                 /* position in uheap or lheap */
	uint32_t slots;                /* newest first */
	int32_t oldest;                /* hour of the last slot; INT32_MAX: none */
	int64_t first_seen, last_seen, last_plain;
	uint32_t ex[PEERS_EXAMPLES];   /* the first n_examples: indices into Table.ex */
	char key[PEERS_DOMAIN_MAX];
} Entry;

typedef struct Label {
	uint32_t entry;
	uint64_t cum[PEERS_CELLS];
} Label;

typedef struct Table {
	PeerDirection dir;
	size_t cap, n;
	Entry *e;
	/* example pool, cap * PEERS_EXAMPLES strings (most peers have one);
	 * NULL for PEER_UNKNOWN_ADDR */
	char (*ex)[PEERS_EXAMPLE_MAX];
	size_t ex_hwm, n_ex_free;
	uint32_t *ex_free;             /* a stack of strings given back */
	/* No entry has a slot or a last_seen in an hour before this: the
	 * hourly sweep has nothing to do in the table while the window's
	 * cutoff is below it. INT32_MIN: not known (sweep). */
	int32_t sweep_due;
	uint32_t *hash;                /* index + 1 of the chain's first entry; 0: empty */
	size_t hash_mask;
	size_t e_hwm;
	uint32_t free_entry;           /* entries given back, linked by hnext */
	uint32_t *uheap, *lheap;
	size_t nu, nl;
	bool uheap_ordered;            /* uheap is a heap (else a plain list): peers_table.c */
	Label *labels;
	size_t max_labelled;
	uint32_t *label_free;          /* a stack of labels given back */
	size_t n_label_free, label_hwm;
	uint64_t other[PEERS_CELLS];
	uint64_t total[PEERS_CELLS];
	uint64_t folded, evicted;
	bool series_stale;             /* a peer lost its label: drop its series at the next scrape */
	char *slots;                   /* slot_cap Slots of slot_size bytes: peers_slot_at() */
	size_t slot_size;
	unsigned n_cells;              /* cells a slot has: the table's cells in use */
	size_t slot_cap, n_slots, slot_hwm;
	uint32_t slot_free;
	ComboCell *cc;                 /* slot_cap * SLOT_CELLS_AVG */
	size_t cc_cap, cc_hwm;
	uint32_t cc_free;
} Table;

static inline Slot *peers_slot_at(const Table *t, uint32_t s)
{
	return (Slot *)(t->slots + (size_t)s * t->slot_size);
}

typedef struct Combo {
	uint8_t kind;
	char a[COMBO_STR_MAX];
	char b[COMBO_STR_MAX];
	uint32_t hnext;
} Combo;

typedef struct Hour {
	int32_t hour;
	uint32_t in[PEERS_SYSLOG_MAX + 1][6];
	uint32_t proto_in[PEERS_PROTO_MAX];
	uint32_t legacy_mail_in;
	uint32_t out[PEERS_CELLS];
	uint32_t out_noconn;
	uint32_t proto_out[PEERS_PROTO_MAX];
} Hour;

/* A normalised host name. */
typedef struct DomName {
	uint16_t norm_len;             /* 0: maps to "unknown" */
	uint16_t reg_off;              /* registrable domain = norm + reg_off */
	char norm[HOST_MAX];
} DomName;

/* A cached normalisation of an ASCII name, keyed by the name lower-cased
 * without its trailing dots: for ASCII input that is all compute() changes
 * before its checks, so one key has one result, and the normalised name is
 * the key itself. An entry keeps the key's seeded 64-bit hash and its
 * length, not its bytes: 16 bytes, a set of four is one cache line, and
 * 32 768 entries take 512 KB (the 1 M-line benchmark log's 20 k names fit).
 * Two keys of one length with one hash would share a result; for 100 000
 * distinct names that has a chance of about 3 in 10^10, and the seed is
 * random per process, so a log writer cannot aim for it. */
typedef struct DomCacheEntry {
	uint64_t hash;
	uint8_t len;                   /* 0: empty */
	uint8_t valid;                 /* 0: the name maps to "unknown" */
	uint8_t reg_off;               /* registrable domain = name + reg_off */
	uint8_t age;
} DomCacheEntry;

/* A domain cache and what normalising needs (peers_domain.c): the Peers'
 * own, and one per PeerNamer, for another thread. */
typedef struct DomCache {
	const psl_ctx_t *psl;          /* shared: libpsl is thread-safe */
	uint64_t seed;                 /* hash64() seed, random: keys come from the log */
	DomCacheEntry *dom;            /* DOMCACHE_SETS * DOMCACHE_WAYS, sets on cache lines */
	void *dom_mem;                 /* what was allocated for dom */
	char key[DOMCACHE_NAME_MAX];   /* the last key: the normalised name of a cached lookup */
	DomName out;                   /* the last name normalised */
} DomCache;

struct Peers {
	Store *store;
	PeersConfig cfg;
	int32_t window_hours;
	const psl_ctx_t *psl;
	uint64_t seed;                 /* hash64() seed, random: keys come from the log */

	Table t[_PEER_DIR_MAX];

	Combo *combos;
	size_t n_combos;
	uint32_t combo_hash[COMBO_MAX];

	char syslog[PEERS_SYSLOG_MAX][PEERS_DOMAIN_MAX];

	PeerComboCount window_combos[PEERS_STAT_COMBOS]; /* peers_get_window()'s PeerStats.combos */
	unsigned n_syslog;

	Hour *hours;                   /* window_hours, indexed by hour % window_hours */
	bool hours_dirty;              /* a slot of hours was written since peers_reset() */
	int64_t newest_usec;           /* 0: nothing seen */
	int32_t now_hour;
	uint64_t late_events;

	DomCache dc;                   /* the counting thread's */
};

extern const char *const peers_proto_names[PEERS_PROTO_MAX];

/* peers_domain.c */
/* peers_domcache_init - an empty cache on psl with a random seed; -ENOMEM */
int peers_domcache_init(DomCache *c, const psl_ctx_t *psl, bool huge);
void peers_domcache_deinit(DomCache *c);
/* peers_normalize_host - cached: ret->norm is the normalised host (empty for
 * "unknown"), pointing into the cache until the next call. */
void peers_normalize_host(DomCache *c, Slice host, PeerName *ret);
/* peers_recipient_domain - the domain part of "<user@domain>". */
Slice peers_recipient_domain(Slice recipient);

/* peers_hour_of - hours since the epoch, clamped to [0, hour of
 * PEERS_USEC_MAX] so that hour arithmetic never overflows. */
static inline int32_t peers_hour_of(int64_t usec)
{
	if (usec <= 0)
		return 0;
	if (usec > PEERS_USEC_MAX)
		usec = PEERS_USEC_MAX;
	return (int32_t)(usec / USEC_PER_HOUR);
}

/* peers_table_note_hour - an entry of t now has a slot or last_seen in
 * hour: the sweep may have work from then on. */
static inline void peers_table_note_hour(Table *t, int32_t hour)
{
	if (hour < t->sweep_due)
		t->sweep_due = hour;
}

/* peers.c, used by peers_state.c */
void peers_reset(Peers *p);
int peers_syslog_index(Peers *p, const char *name, size_t len, bool create);
int peers_combo_id(Peers *p, PeerComboKind kind, const char *a, size_t alen, const char *b, size_t blen);
Hour *peers_hour_get(Peers *p, int32_t hour);
unsigned peers_proto_index(Slice proto);

/* peers_table.c, used by peers.c and peers_state.c */
Entry *peers_entry_lookup(Table *t, const Peers *p, const char *key, size_t len);
Entry *peers_entry_insert(Peers *p, Table *t, const char *key, size_t len);
/* peers_entry_count - count one event for e (Space-Saving), labelling it
 * when it now ranks among the max_labelled busiest. */
void peers_entry_count(Table *t, Entry *e);
Slot *peers_slot_get(Peers *p, Table *t, Entry *e, int32_t hour);
void peers_add_example(Table *t, Entry *e, const char *s, size_t len);
/* peers_slot_combo_add - count n for combo id (of kind; id < 0: not interned). */
void peers_slot_combo_add(Table *t, Slot *sl, PeerComboKind kind, int id, uint32_t n);
void peers_entry_set_count(Table *t, Entry *e, uint64_t count, uint64_t err);
/* peers_sweep - free slots older than the window, drop peers not seen in it. */
void peers_sweep(Peers *p);
void peers_after_load(Peers *p);
/* peers_entry_cmp_count - qsort_r() order of entry indices into table (a
 * Table *): busiest first, then by key, so the order is total. */
int peers_entry_cmp_count(const void *a, const void *b, void *table);
/* peers_alloc_zeroed - zeroed memory of which nothing becomes resident
 * until written, in 2 MB pages if huge and large enough; NULL if out of
 * memory. Freed with peers_free_zeroed(). */
void *peers_alloc_zeroed(size_t n, size_t size, bool huge);
void peers_free_zeroed(void *p);
int peers_table_init(Table *t, PeerDirection d, size_t cap, size_t max_labelled, int32_t window_hours, bool huge);
void peers_table_reset(Table *t);
void peers_table_deinit(Table *t);

/* peers_state.c: Return: bad records skipped (>= 0), or negative errno */
int peers_state_parse(Peers *p, const uint8_t *data, size_t len, bool apply, char **ret_error);

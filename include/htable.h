/*
 * htable.h - open-addressing hash table of caller-owned items.
 *
 * DESCRIPTION
 *	A table maps a 64-bit hash to a non-NULL item pointer; the caller owns
 *	the items and says how to compare one with a key. Capacity is a power
 *	of two, collisions probe linearly, and deletion shifts the rest of the
 *	cluster back (no tombstones), so probe lengths depend only on the live
 *	items. The table doubles when an insert would take it past half full.
 *
 *	The hash of each item is stored next to its pointer: growing never
 *	calls back into the caller, and most mismatches are rejected without
 *	touching the item.
 *
 *	The HTable is embedded in its owner: HTABLE_NULL, htable_init(),
 *	htable_deinit(). Its fields are visible for tests; callers use the
 *	functions.
 * SECURITY
 *	Keys usually come from the log: htable_hash() mixes in a per-table
 *	random seed, so collisions cannot be planned from outside.
 * DIAGNOSTICS
 *	Returns -ENOMEM when the slot array cannot grow; never logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct HTableSlot {
	uint64_t hash;
	void *item;             /* NULL: empty */
} HTableSlot;

typedef struct HTable {
	HTableSlot *slots;
	size_t mask;            /* capacity - 1 */
	size_t n;
	uint64_t seed;
} HTable;

#define HTABLE_NULL ((HTable){ 0 })

/* HTableEqFn - whether item has the key passed to htable_find(). */
typedef bool (*HTableEqFn)(const void *item, const void *key);

/* htable_init - an empty table with room for at least cap_hint slots and a
 * fresh random seed. */
int htable_init(HTable *t, size_t cap_hint);
/* htable_deinit - free the slot array, and each item with free_item unless
 * it is NULL. Idempotent. */
void htable_deinit(HTable *t, void (*free_item)(void *item));

/* htable_hash - seeded hash of a byte string (hash64() with the table's seed). */
static inline uint64_t htable_hash(const HTable *t, const void *p, size_t n)
{
	return hash64(p, n, t->seed);
}

/* htable_find - the item with hash h for which eq(item, key) holds, or NULL.
 * Inline because it runs for every counted event: the compiler can then
 * inline eq as well, as in a hand-written table. */
static inline void *htable_find(const HTable *t, uint64_t h, HTableEqFn eq, const void *key)
{
	for (size_t j = h & t->mask; t->slots[j].item; j = (j + 1) & t->mask)
		if (t->slots[j].hash == h && eq(t->slots[j].item, key))
			return t->slots[j].item;
	return NULL;
}
/* htable_insert - add item under hash h; the caller has checked that its key
 * is not present. Returns 0 or -ENOMEM (the table is then unchanged). */
int htable_insert(HTable *t, uint64_t h, void *item);
/* htable_remove - remove this item (by identity), inserted under hash h.
 * Returns false when it is not in the table. */
bool htable_remove(HTable *t, uint64_t h, const void *item);

static inline size_t htable_size(const HTable *t)
{
	return t->n;
}

/*
 * htable.c - open-addressing hash table: linear probing, backward-shift
 * deletion, power-of-two capacity, grows past half full.
 *
 * DESCRIPTION
 *	An item lives in the first free slot at or after its home slot
 *	(hash & mask), and no empty slot lies between home and item. Lookups
 *	therefore stop at the first empty slot, and deletion must keep that
 *	invariant: instead of leaving a tombstone it moves later members of
 *	the cluster back into the hole (Knuth, TAOCP vol. 3, 6.4 Algorithm R).
 *	At a load factor of at most 1/2 a successful lookup probes about 1.5
 *	slots and a failed one about 2.5.
 */
#include <errno.h>
#include <stdlib.h>

#include "htable.h"

#define HTABLE_MIN_CAP 8

int htable_init(HTable *t, size_t cap_hint)
{
	size_t cap = HTABLE_MIN_CAP;
	while (cap < cap_hint && cap <= SIZE_MAX / 4 / sizeof(HTableSlot))
		cap *= 2;
	HTableSlot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	*t = (HTable){ .slots = slots, .mask = cap - 1, .seed = hash_random_seed() };
	return 0;
}

void htable_deinit(HTable *t, void (*free_item)(void *item))
{
	if (t->slots && free_item)
		for (size_t i = 0; i <= t->mask; i++)
			if (t->slots[i].item)
				free_item(t->slots[i].item);
	free(t->slots);
	*t = HTABLE_NULL;
}

static void place(HTableSlot *slots, size_t mask, uint64_t h, void *item)
{
	size_t j = h & mask;
	while (slots[j].item)
		j = (j + 1) & mask;
	slots[j] = (HTableSlot){ h, item };
}

static int grow(HTable *t)
{
	size_t cap = (t->mask + 1) * 2;
	if (cap > SIZE_MAX / sizeof(HTableSlot))
		return -ENOMEM;
	HTableSlot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i <= t->mask; i++)
		if (t->slots[i].item)
			place(slots, cap - 1, t->slots[i].hash, t->slots[i].item);
	free(t->slots);
	t->slots = slots;
	t->mask = cap - 1;
	return 0;
}

int htable_insert(HTable *t, uint64_t h, void *item)
{
	if ((t->n + 1) * 2 > t->mask + 1) {
		int r = grow(t);
		if (r < 0)
			return r;
	}
	place(t->slots, t->mask, h, item);
	t->n++;
	return 0;
}

bool htable_remove(HTable *t, uint64_t h, const void *item)
{
	size_t hole = h & t->mask;
	for (; t->slots[hole].item != item; hole = (hole + 1) & t->mask)
		if (!t->slots[hole].item)
			return false;
	/* Walk the rest of the cluster. An item at j may fill the hole when
	 * the hole lies on its probe path, from its home slot round the ring
	 * to j; its old slot then becomes the hole. */
	for (size_t j = (hole + 1) & t->mask; t->slots[j].item; j = (j + 1) & t->mask) {
		size_t home = t->slots[j].hash & t->mask;
		if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
			t->slots[hole] = t->slots[j];
			hole = j;
		}
	}
	t->slots[hole] = (HTableSlot){ 0 };
	t->n--;
	return true;
}

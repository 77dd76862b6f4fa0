/*
 * test-htable.c - the hash table: lookup, insert, backward-shift delete
 * (also across the end of the slot array), growth, many keys.
 *
 * Most tests pass chosen hashes so that the slot of every item is known
 * and asserted exactly; the last one uses htable_hash() on real keys.
 */
#include "../harness.h"

#include <stdint.h>

#include "htable.h"

typedef struct Item {
	int key;
} Item;

static bool item_eq(const void *item, const void *key)
{
	return ((const Item *)item)->key == *(const int *)key;
}

static Item *find(const HTable *t, uint64_t h, int key)
{
	return htable_find(t, h, item_eq, &key);
}

static void *slot(const HTable *t, size_t i)
{
	return t->slots[i].item;
}

static void test_init(void)
{
	HTable t = HTABLE_NULL;
	require(htable_init(&t, 0) == 0);
	require(t.mask == 7);
	require(htable_size(&t) == 0);
	htable_deinit(&t, NULL);
	require(htable_init(&t, 9) == 0);
	require(t.mask == 15);
	htable_deinit(&t, NULL);
	require(t.slots == NULL && t.n == 0);
	htable_deinit(&t, NULL); /* idempotent */
}

static void test_insert_lookup(void)
{
	HTable t;
	require(htable_init(&t, 8) == 0);
	Item a = { 1 }, b = { 2 }, c = { 3 };
	require(htable_insert(&t, 3, &a) == 0);
	require(htable_insert(&t, 3, &b) == 0);  /* collides: next slot */
	require(htable_insert(&t, 11, &c) == 0); /* home 3 too (11 & 7) */
	require(slot(&t, 3) == &a && slot(&t, 4) == &b && slot(&t, 5) == &c);
	require(htable_size(&t) == 3);
	require(find(&t, 3, 1) == &a);
	require(find(&t, 3, 2) == &b);
	require(find(&t, 11, 3) == &c);
	require(find(&t, 3, 3) == NULL);  /* same slot, other hash */
	require(find(&t, 11, 1) == NULL);
	require(find(&t, 6, 1) == NULL);  /* empty home slot */
	htable_deinit(&t, NULL);
}

static void test_remove_shift(void)
{
	HTable t;
	require(htable_init(&t, 16) == 0);
	Item it[5] = { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } };
	/* homes 2, 2, 3, 5, 2 -> slots 2, 3, 4, 5, 6 */
	uint64_t h[5] = { 2, 18, 3, 5, 34 };
	for (int i = 0; i < 5; i++)
		require(htable_insert(&t, h[i], &it[i]) == 0);
	for (int i = 0; i < 5; i++)
		require(slot(&t, (size_t)(2 + i)) == &it[i]);

	/* Removing slot 2: item 1 (home 2) moves to 2, item 2 (home 3) to 3,
	 * item 3 (home 5) stays at 5, item 4 (home 2) moves to 4. */
	require(htable_remove(&t, h[0], &it[0]));
	require(slot(&t, 2) == &it[1]);
	require(slot(&t, 3) == &it[2]);
	require(slot(&t, 4) == &it[4]);
	require(slot(&t, 5) == &it[3]);
	require(slot(&t, 6) == NULL);
	require(htable_size(&t) == 4);
	for (int i = 1; i < 5; i++)
		require(find(&t, h[i], i) == &it[i]);
	require(find(&t, h[0], 0) == NULL);

	/* Not present (twice, or never inserted): nothing changes. */
	require(!htable_remove(&t, h[0], &it[0]));
	Item other = { 9 };
	require(!htable_remove(&t, 2, &other));
	require(htable_size(&t) == 4);

	/* Removing item 3 at its home: nothing after it belongs before it. */
	require(htable_remove(&t, h[3], &it[3]));
	require(slot(&t, 5) == NULL);
	require(slot(&t, 2) == &it[1] && slot(&t, 3) == &it[2] && slot(&t, 4) == &it[4]);
	htable_deinit(&t, NULL);
}

static void test_remove_wrap(void)
{
	HTable t;
	require(htable_init(&t, 16) == 0);
	Item it[5] = { { 0 }, { 1 }, { 2 }, { 3 }, { 4 } };
	/* homes 14, 14, 15, 14, 0 -> slots 14, 15, 0, 1, 2: one cluster that
	 * runs over the end of the array */
	uint64_t h[5] = { 14, 30, 15, 46, 0 };
	for (int i = 0; i < 5; i++)
		require(htable_insert(&t, h[i], &it[i]) == 0);
	require(slot(&t, 14) == &it[0] && slot(&t, 15) == &it[1]);
	require(slot(&t, 0) == &it[2] && slot(&t, 1) == &it[3] && slot(&t, 2) == &it[4]);

	/* Remove slot 15: item 2 (home 15) moves from 0 to 15, item 3
	 * (home 14) from 1 to 0, item 4 (home 0) from 2 to 1. */
	require(htable_remove(&t, h[1], &it[1]));
	require(slot(&t, 14) == &it[0]);
	require(slot(&t, 15) == &it[2]);
	require(slot(&t, 0) == &it[3]);
	require(slot(&t, 1) == &it[4]);
	require(slot(&t, 2) == NULL);
	for (int i = 0; i < 5; i++)
		require(find(&t, h[i], i) == (i == 1 ? NULL : &it[i]));

	/* Remove slot 0 (item 3, home 14): item 4 (home 0) moves back to 0. */
	require(htable_remove(&t, h[3], &it[3]));
	require(slot(&t, 0) == &it[4] && slot(&t, 1) == NULL);

	/* Remove slot 14: item 2 at 15 has home 15 and stays; item 4 stays. */
	require(htable_remove(&t, h[0], &it[0]));
	require(slot(&t, 14) == NULL && slot(&t, 15) == &it[2] && slot(&t, 0) == &it[4]);
	require(htable_size(&t) == 2);
	require(find(&t, h[2], 2) == &it[2] && find(&t, h[4], 4) == &it[4]);
	htable_deinit(&t, NULL);
}

static void test_grow(void)
{
	HTable t;
	require(htable_init(&t, 8) == 0);
	Item it[9];
	for (int i = 0; i < 9; i++) {
		it[i].key = i;
		require(htable_insert(&t, (uint64_t)i * 9, &it[i]) == 0);
		/* at most half full: the fifth insert doubles 8 to 16, the ninth 16 to 32 */
		require(t.mask == (i < 4 ? 7u : i < 8 ? 15u : 31u));
	}
	require(htable_size(&t) == 9);
	/* after the last growth every item sits at its home: (9 i) mod 32 */
	for (int i = 0; i < 9; i++) {
		require(slot(&t, (size_t)(i * 9) & 31) == &it[i]);
		require(find(&t, (uint64_t)i * 9, i) == &it[i]);
	}
	htable_deinit(&t, NULL);
}

static int n_freed;
static void count_free(void *item)
{
	n_freed++;
	free(item);
}

static void test_many(void)
{
	enum { N = 20000 };
	HTable t;
	require(htable_init(&t, 0) == 0);
	Item *v[N];
	for (int i = 0; i < N; i++) {
		v[i] = malloc(sizeof(*v[i]));
		require(v[i]);
		v[i]->key = i;
		require(htable_insert(&t, htable_hash(&t, &i, sizeof(i)), v[i]) == 0);
	}
	require(htable_size(&t) == N);
	require(t.mask + 1 == 65536); /* 20000 * 2 > 32768 */
	for (int i = 0; i < N; i++)
		require(find(&t, htable_hash(&t, &i, sizeof(i)), i) == v[i]);
	int miss = N;
	require(find(&t, htable_hash(&t, &miss, sizeof(miss)), miss) == NULL);

	/* remove the even keys; the odd ones must all still be found */
	for (int i = 0; i < N; i += 2) {
		require(htable_remove(&t, htable_hash(&t, &i, sizeof(i)), v[i]));
		free(v[i]);
	}
	require(htable_size(&t) == N / 2);
	for (int i = 0; i < N; i++) {
		Item *want = i % 2 ? v[i] : NULL;
		require(find(&t, htable_hash(&t, &i, sizeof(i)), i) == want);
	}
	/* no empty slot between any item and its home */
	for (size_t j = 0; j <= t.mask; j++) {
		if (!t.slots[j].item)
			continue;
		for (size_t k = t.slots[j].hash & t.mask; k != j; k = (k + 1) & t.mask)
			require(t.slots[k].item);
	}
	n_freed = 0;
	htable_deinit(&t, count_free);
	require(n_freed == N / 2);
}

static void test_seed(void)
{
	HTable a, b;
	require(htable_init(&a, 0) == 0);
	require(htable_init(&b, 0) == 0);
	require(htable_hash(&a, "key", 3) == htable_hash(&a, "key", 3));
	require(htable_hash(&a, "key", 3) != htable_hash(&a, "kez", 3));
	/* independent random seeds (equal with probability 2^-64) */
	require(a.seed != b.seed);
	require(htable_hash(&a, "key", 3) != htable_hash(&b, "key", 3));
	htable_deinit(&a, NULL);
	htable_deinit(&b, NULL);
}

int main(void)
{
	test_run(test_init);
	test_run(test_insert_lookup);
	test_run(test_remove_shift);
	test_run(test_remove_wrap);
	test_run(test_grow);
	test_run(test_many);
	test_run(test_seed);
	return test_exit();
}

/*
 * test-queue.c - queue.c: order, sync, blocks that fill and wrap, records
 * that do not fit, a consumer slower than the producer.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "queue.h"

typedef struct Seen {
	uint64_t next;      /* the record number expected next */
	uint64_t bad;       /* records out of order or damaged */
	uint64_t blocks;
	unsigned sleep_ns;  /* per block: a slow consumer */
} Seen;

/* records: a uint64_t number, then (number % 50) bytes of (number & 0xff) */
static size_t rec_size(uint64_t k)
{
	return sizeof(uint64_t) + (size_t)(k % 50);
}

static void consume(void *userdata, const char *p, size_t n)
{
	Seen *s = userdata;
	s->blocks++;
	const char *end = p + n;
	while (p < end) {
		uint64_t k;
		memcpy(&k, p, sizeof(k));
		size_t len = rec_size(k);
		if (k != s->next || (size_t)(end - p) < len)
			s->bad++;
		for (size_t i = sizeof(k); i < len && p + i < end; i++)
			if ((unsigned char)p[i] != (k & 0xff))
				s->bad++;
		s->next = k + 1;
		p += len;
	}
	if (s->sleep_ns)
		nanosleep(&(struct timespec){ 0, s->sleep_ns }, NULL);
}

static void put(Queue *q, uint64_t k)
{
	size_t len = rec_size(k);
	char *p = queue_reserve(q, len);
	require(p != NULL);
	memcpy(p, &k, sizeof(k));
	memset(p + sizeof(k), (int)(k & 0xff), len - sizeof(k));
	queue_commit(q, len);
}

static void run(size_t block, size_t n_blocks, unsigned sleep_ns, uint64_t n)
{
	Seen s = { .sleep_ns = sleep_ns };
	Queue *q = NULL;
	require(queue_new(&q, block, n_blocks, consume, &s) == 0);
	for (uint64_t k = 0; k < n; k++) {
		put(q, k);
		if (k == n / 2) {
			queue_sync(q);
			/* after a sync the consumer has seen everything so far */
			check_u64(s.next, k + 1);
		}
	}
	queue_free(q);
	check_u64(s.next, n);
	check_u64(s.bad, 0);
	checkf(s.blocks >= n * 8 / block, "%llu blocks for %llu records of 8+ bytes in %zu-byte blocks",
	       (unsigned long long)s.blocks, (unsigned long long)n, block);
}

static void test_order_many_blocks(void)
{
	run(64 * 1024, 8, 0, 2000000);
}

static void test_order_small_blocks(void)
{
	run(128, 2, 0, 200000); /* a block holds 2 or 3 records: the ring wraps all the time */
}

static void test_slow_consumer(void)
{
	run(256, 4, 20000, 5000); /* the producer waits for room, then sleeps */
}

static void test_too_big(void)
{
	Seen s = { 0 };
	Queue *q = NULL;
	require(queue_new(&q, 128, 4, consume, &s) == 0);
	check(queue_reserve(q, 129) == NULL);
	check(queue_reserve(q, 128) != NULL);
	queue_free(q);
	check_u64(s.blocks, 0); /* nothing committed: nothing consumed */
	/* a block size is rounded up to whole cache lines */
	require(queue_new(&q, 100, 4, consume, &s) == 0);
	check(queue_reserve(q, 128) != NULL);
	check(queue_reserve(q, 129) == NULL);
	queue_free(q);
}

static void test_sync_empty(void)
{
	Seen s = { 0 };
	Queue *q = NULL;
	require(queue_new(&q, 1024, 4, consume, &s) == 0);
	queue_sync(q);
	queue_sync(q);
	check_u64(s.blocks, 0);
	check(queue_free(q) == NULL);
	check(queue_free(NULL) == NULL);
}

int main(void)
{
	test_run(test_order_many_blocks);
	test_run(test_order_small_blocks);
	test_run(test_slow_consumer);
	test_run(test_too_big);
	test_run(test_sync_empty);
	return test_exit();
}

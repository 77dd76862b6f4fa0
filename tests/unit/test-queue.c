/*
 * test-queue.c - queue.c: order, sync, blocks that fill and wrap, records
 * that do not fit, a consumer slower than the producer, and the figures
 * queue_stats() gives about which side waited.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../harness.h"
#include "queue.h"
#include "util.h"

typedef struct Seen {
	uint64_t next;      /* the record number expected next */
	uint64_t bad;       /* records out of order or damaged */
	uint64_t blocks;
	unsigned sleep_ns;  /* per block: a slow consumer */
	int64_t burn_usec;  /* per block: a consumer that computes */
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
	/* more than burn_usec in whole microseconds: at least burn_usec of CPU */
	if (s->burn_usec)
		for (int64_t t0 = clock_usec(CLOCK_THREAD_CPUTIME_ID); clock_usec(CLOCK_THREAD_CPUTIME_ID) - t0 <= s->burn_usec;)
			;
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

/* stats_run - n records into 4 blocks of block bytes, the producer
 * sleeping sleep_ns after each; the figures, and how long the loop took */
static QueueStats stats_run(Seen *s, size_t block, uint64_t n, long sleep_ns, int64_t *ret_usec)
{
	Queue *q = NULL;
	require(queue_new(&q, block, 4, consume, s) == 0);
	int64_t t0 = now_monotonic_usec();
	for (uint64_t k = 0; k < n; k++) {
		put(q, k);
		if (sleep_ns)
			nanosleep(&(struct timespec){ 0, sleep_ns }, NULL);
	}
	*ret_usec = now_monotonic_usec() - t0;
	QueueStats st;
	queue_stats(q, &st);
	check_u64(s->next, n); /* queue_stats() syncs */
	queue_free(q);
	return st;
}

/* want_ge - a >= b, or say which figure fell short */
static void want_ge(const char *what, int64_t a, int64_t b)
{
	checkf(a >= b, "%s: %lld µs, expected at least %lld µs", what, (long long)a, (long long)b);
}

/* A consumer that computes 100 µs per block: its own CPU clock shows it,
 * and the producer waited for it. */
static void test_stats_busy_consumer(void)
{
	Seen s = { .burn_usec = 100 };
	int64_t took;
	QueueStats st = stats_run(&s, 256, 2000, 0, &took);
	int64_t burnt = (int64_t)s.blocks * s.burn_usec;
	want_ge("consumer CPU", st.consumer_cpu_usec, burnt);
	want_ge("producer waited", st.producer_wait_usec, burnt / 2);
	want_ge("producer waited more than the consumer", st.producer_wait_usec, st.consumer_wait_usec + 1);
}

/* A producer that sleeps 50 µs per record: the consumer waited for it. */
static void test_stats_slow_producer(void)
{
	Seen s = { 0 };
	int64_t slept;
	QueueStats st = stats_run(&s, 128, 400, 50000, &slept);
	want_ge("consumer waited", st.consumer_wait_usec, slept / 2);
	want_ge("consumer waited more than the producer", st.consumer_wait_usec, st.producer_wait_usec + 1);
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
	test_run(test_stats_busy_consumer);
	test_run(test_stats_slow_producer);
	test_run(test_too_big);
	test_run(test_sync_empty);
	return test_exit();
}

/*
 * queue.c - single-producer, single-consumer queue of record blocks with
 * its consumer thread (see queue.h).
 *
 * DESCRIPTION
 *	Two counters say everything: blocks published (produced) and blocks
 *	processed (consumed). Block i lives at (i % n_blocks); the producer
 *	fills block `produced` when produced - consumed < n_blocks, the
 *	consumer processes block `consumed` when consumed < produced. Each side
 *	stores only its own counter (release) and reads the other's (acquire),
 *	so the bytes of a block are visible before its counter says so.
 *
 *	A side with nothing to do spins briefly (a block is filled in tens of
 *	microseconds, and a futex round trip costs about as much), then sleeps
 *	on the condition variable. `waiters` counts sleepers; a side that moves
 *	its counter wakes them only when there are any. Both the counter store
 *	and the waiters load are sequentially consistent, so either the sleeper
 *	sees the new counter before it sleeps or the mover sees the sleeper.
 *
 *	Each side adds up the time it waited (queue_stats()): the side that
 *	waits less is the one that sets the pace. The clock is read only when
 *	a side has to wait, a few thousand times for a million lines.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "util.h"

#define SPINS 4096 /* about 20-50 µs of pause before sleeping */

/* What each side writes is on a cache line of its own: a line that both
 * write moves between the two cores at every write (false sharing). */
#define CACHE_LINE 64

struct Queue {
	/* set once */
	QueueConsumeFn fn;
	void *userdata;
	size_t block_size, n_blocks;
	char *mem;                 /* n_blocks * block_size */
	size_t *used;              /* bytes of each block */
	pthread_t thread;
	bool started;
	/* the producer's */
	_Alignas(CACHE_LINE) _Atomic uint64_t produced;
	size_t fill;               /* bytes in block `produced` */
	uint64_t bytes;            /* published, for queue_stats() */
	int64_t producer_wait_usec;
	int64_t producer_cpu0_usec; /* its CPU clock at queue_new() */
	/* the consumer's */
	_Alignas(CACHE_LINE) _Atomic uint64_t consumed;
	int64_t consumer_wait_usec;
	/* either's, rarely */
	_Alignas(CACHE_LINE) _Atomic bool stop;
	_Atomic int waiters;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

static void wake(Queue *q)
{
	if (atomic_load(&q->waiters) == 0)
		return;
	pthread_mutex_lock(&q->lock);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* wait_for - until ready(q) holds: spin, then sleep; the time it took is
 * added to *waited */
static void wait_for(Queue *q, bool (*ready)(Queue *q), int64_t *waited)
{
	if (ready(q))
		return;
	int64_t t0 = now_monotonic_usec();
	for (int i = 0; i < SPINS; i++) {
		if (ready(q))
			goto done;
		cpu_relax();
	}
	pthread_mutex_lock(&q->lock);
	atomic_fetch_add(&q->waiters, 1);
	while (!ready(q))
		pthread_cond_wait(&q->cond, &q->lock);
	atomic_fetch_sub(&q->waiters, 1);
	pthread_mutex_unlock(&q->lock);
done:
	*waited += now_monotonic_usec() - t0;
}

static bool has_block(Queue *q)
{
	return atomic_load(&q->consumed) < atomic_load(&q->produced) || atomic_load(&q->stop);
}

static bool has_room(Queue *q)
{
	return atomic_load(&q->produced) - atomic_load(&q->consumed) < q->n_blocks;
}

static bool drained(Queue *q)
{
	return atomic_load(&q->consumed) == atomic_load(&q->produced);
}

static void *consumer(void *arg)
{
	Queue *q = arg;
	for (;;) {
		wait_for(q, has_block, &q->consumer_wait_usec);
		uint64_t c = atomic_load_explicit(&q->consumed, memory_order_relaxed);
		if (c == atomic_load_explicit(&q->produced, memory_order_acquire))
			return NULL; /* stop, and everything is processed */
		size_t i = c % q->n_blocks;
		q->fn(q->userdata, q->mem + i * q->block_size, q->used[i]);
		atomic_store(&q->consumed, c + 1);
		wake(q);
	}
}

int queue_new(Queue **ret, size_t block_size, size_t n_blocks, QueueConsumeFn fn, void *userdata)
{
	Queue *q = aligned_alloc(CACHE_LINE, sizeof(*q));
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->fn = fn;
	q->userdata = userdata;
	q->block_size = (block_size + CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1); /* blocks start on a line */
	q->n_blocks = n_blocks;
	q->producer_cpu0_usec = clock_usec(CLOCK_THREAD_CPUTIME_ID);
	q->mem = aligned_alloc(CACHE_LINE, q->block_size * n_blocks);
	q->used = calloc(n_blocks, sizeof(*q->used));
	if (!q->mem || !q->used || pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q->mem);
		free(q->used);
		free(q);
		return -ENOMEM;
	}
	pthread_cond_init(&q->cond, NULL);
	/* Signals stay with the thread that was there: the consumer blocks all. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&q->thread, NULL, consumer, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		q->started = false;
		queue_free(q);
		return -r;
	}
	q->started = true;
	*ret = q;
	return 0;
}

static void publish(Queue *q)
{
	if (q->fill == 0)
		return;
	uint64_t p = atomic_load_explicit(&q->produced, memory_order_relaxed);
	q->used[p % q->n_blocks] = q->fill;
	q->bytes += q->fill;
	q->fill = 0;
	atomic_store(&q->produced, p + 1);
	wake(q);
}

void *queue_reserve(Queue *q, size_t n)
{
	if (n > q->block_size)
		return NULL;
	if (q->fill + n > q->block_size)
		publish(q);
	if (q->fill == 0)
		wait_for(q, has_room, &q->producer_wait_usec);
	uint64_t p = atomic_load_explicit(&q->produced, memory_order_relaxed);
	return q->mem + (p % q->n_blocks) * q->block_size + q->fill;
}

void queue_commit(Queue *q, size_t n)
{
	q->fill += n;
}

void queue_sync(Queue *q)
{
	publish(q);
	wait_for(q, drained, &q->producer_wait_usec);
}

size_t queue_backlog(Queue *q)
{
	return (size_t)(atomic_load_explicit(&q->produced, memory_order_relaxed) -
			atomic_load_explicit(&q->consumed, memory_order_relaxed));
}

void queue_stats(Queue *q, QueueStats *ret)
{
	queue_sync(q);
	clockid_t id;
	*ret = (QueueStats){
		.producer_cpu_usec = clock_usec(CLOCK_THREAD_CPUTIME_ID) - q->producer_cpu0_usec,
		.consumer_cpu_usec = pthread_getcpuclockid(q->thread, &id) == 0 ? clock_usec(id) : 0,
		.producer_wait_usec = q->producer_wait_usec,
		.consumer_wait_usec = q->consumer_wait_usec,
		.bytes = q->bytes,
	};
}

Queue *queue_free(Queue *q)
{
	if (!q)
		return NULL;
	if (q->started) {
		queue_sync(q);
		atomic_store(&q->stop, true);
		wake(q);
		/* the consumer may be spinning, not sleeping: it sees stop either way */
		pthread_join(q->thread, NULL);
	}
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->mem);
	free(q->used);
	free(q);
	return NULL;
}

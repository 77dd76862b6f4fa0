/*
 * queue.h - hand records from one thread to a consumer thread, in order.
 *
 * The producer writes records into fixed-size blocks; a full block is
 * published and the consumer thread, which the queue owns, calls the
 * consume function on it. Nothing is copied twice and nothing is allocated
 * per record: the blocks are allocated once (and touched only as used).
 * One producer only. The producer must not touch what the consumer works
 * on until queue_sync() returns.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct Queue Queue;

/* called in the consumer thread with one published block of records */
typedef void (*QueueConsumeFn)(void *userdata, const char *records, size_t n);

/* queue_new - n_blocks blocks of block_size bytes (rounded up to a multiple
 * of 64, so that each starts on a cache line) and the consumer thread.
 * Return: 0, -ENOMEM, or the error of pthread_create() (negative). */
int queue_new(Queue **ret, size_t block_size, size_t n_blocks, QueueConsumeFn fn, void *userdata);
/* queue_free - publish what is pending, wait for the consumer, join it. */
Queue *queue_free(Queue *q);

/* queue_reserve - room for n contiguous bytes in the block being filled
 * (publishing it and waiting for a free one when it is full); NULL when n
 * is larger than a block. queue_commit() adds the n bytes to the block. */
void *queue_reserve(Queue *q, size_t n);
void queue_commit(Queue *q, size_t n);
/* queue_sync - publish what is pending and wait until the consumer has
 * processed every block: afterwards the producer may touch its data. */
void queue_sync(Queue *q);

/* queue_backlog - blocks published and not yet processed (0 to n_blocks):
 * how far the consumer is behind. The producer's view; a moment old. */
size_t queue_backlog(Queue *q);

/* Where the time went since queue_new(): each thread's CPU time, and how
 * long each waited for the other (spinning or asleep). The side that
 * waited less sets the pace. */
typedef struct QueueStats {
	int64_t producer_cpu_usec, consumer_cpu_usec;
	int64_t producer_wait_usec, consumer_wait_usec;
	uint64_t bytes;    /* records published to the consumer, in bytes */
} QueueStats;

/* queue_stats - queue_sync(), then the figures; in the producer's thread */
void queue_stats(Queue *q, QueueStats *ret);

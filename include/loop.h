/*
 * loop.h - the single event loop (epoll): sources, the HTTP server and
 * signals all run in one thread, so the store needs no locks and a scrape
 * always sees the state between two log records.
 */
#pragma once

#include <stdint.h>

typedef struct Loop Loop;
typedef void (*LoopIoFn)(void *userdata, uint32_t events);

int loop_new(Loop **ret);
Loop *loop_free(Loop *l);
int loop_add(Loop *l, int fd, uint32_t events, LoopIoFn fn, void *userdata);
int loop_del(Loop *l, int fd);
/* loop_wait - wait up to timeout_ms (-1: forever) and dispatch ready fds.
 * Return: number dispatched, or negative errno (-EINTR is returned as 0). */
int loop_wait(Loop *l, int timeout_ms);

/*
 * loop.c - epoll wrapper: one registration per fd with a callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "macro.h"

typedef struct Watch {
	int fd;
	LoopIoFn fn;
	void *userdata;
	struct Watch *next;
} Watch;

struct Loop {
	int epfd;
	Watch *watches;
};

int loop_new(Loop **ret)
{
	Loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

Loop *loop_free(Loop *l)
{
	if (!l)
		return NULL;
	while (l->watches) {
		Watch *w = l->watches;
		l->watches = w->next;
		free(w);
	}
	close(l->epfd);
	free(l);
	return NULL;
}

int loop_add(Loop *l, int fd, uint32_t events, LoopIoFn fn, void *userdata)
{
	Watch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (Watch){ fd, fn, userdata, l->watches };
	struct epoll_event ev = { .events = events, .data.ptr = w };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		free(w);
		return r;
	}
	l->watches = w;
	return 0;
}

int loop_del(Loop *l, int fd)
{
	for (Watch **p = &l->watches; *p; p = &(*p)->next)
		if ((*p)->fd == fd) {
			Watch *w = *p;
			*p = w->next;
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			free(w);
			return 0;
		}
	return -ENOENT;
}

int loop_wait(Loop *l, int timeout_ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(l->epfd, ev, (int)ELEMENTSOF(ev), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		Watch *w = ev[i].data.ptr;
		/* A callback may delete other watches; look the pointer up again. */
		for (Watch *x = l->watches; x; x = x->next)
			if (x == w) {
				w->fn(w->userdata, ev[i].events);
				break;
			}
	}
	return n;
}

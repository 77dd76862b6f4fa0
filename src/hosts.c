/*
 * hosts.c - bounded table of host label values.
 *
 * DESCRIPTION
 *	A record's host is looked up once per counted increment; a fleet's
 *	lines come in runs of one host less often than a single MTA's
 *	programs do, so there is no last-hit cache: the seeded hash table
 *	is the fast path.
 * SECURITY
 *	Host names come from the log (anyone who can write to the syslog
 *	socket, or send to a central receiver, picks them): the table is
 *	capped and seeded, and a new name is copied only while there is room.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hosts.h"
#include "htable.h"
#include "metrics.h"

typedef struct Host {
	size_t n;
	char name[]; /* NUL-terminated copy */
} Host;

struct Hosts {
	HTable map; /* Host *, by name */
	size_t max_labelled;
	uint64_t folded;
};

static void collect(Store *store, void *userdata)
{
	Hosts *h = userdata;
	store_set(store, M_HOSTS_LABELLED, NULL, (double)htable_size(&h->map));
	store_set(store, M_HOSTS_FOLDED, NULL, (double)h->folded);
}

int hosts_new(Hosts **ret, Store *store, size_t max_labelled)
{
	if (max_labelled < 1 || max_labelled > HOSTS_MAX_LABELLED_LIMIT)
		return -EINVAL;
	Hosts *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->max_labelled = max_labelled;
	if (htable_init(&h->map, 16) < 0 || (store && store_add_collector(store, collect, h) < 0)) {
		hosts_free(h);
		return -ENOMEM;
	}
	*ret = h;
	return 0;
}

Hosts *hosts_free(Hosts *h)
{
	if (!h)
		return NULL;
	htable_deinit(&h->map, free);
	free(h);
	return NULL;
}

static bool host_eq(const void *item, const void *key)
{
	const Host *e = item;
	const Slice *k = key;
	return e->n == k->n && memcmp(e->name, k->p, k->n) == 0;
}

Slice hosts_label(Hosts *h, Slice host)
{
	if (host.n == 0)
		return SLICE_LIT("unknown");
	uint64_t hash = htable_hash(&h->map, host.p, host.n);
	Host *e = htable_find(&h->map, hash, host_eq, &host);
	if (e)
		return (Slice){ e->name, e->n };
	if (htable_size(&h->map) < h->max_labelled && (e = malloc(sizeof(*e) + host.n + 1))) {
		e->n = host.n;
		memcpy(e->name, host.p, host.n);
		e->name[host.n] = '\0';
		if (htable_insert(&h->map, hash, e) == 0)
			return (Slice){ e->name, e->n };
		free(e);
	}
	/* Full (or out of memory): the numbers stay right for the fleet. */
	h->folded++;
	return SLICE_LIT("other");
}

size_t hosts_labelled(const Hosts *h)
{
	return htable_size(&h->map);
}

uint64_t hosts_folded(const Hosts *h)
{
	return h->folded;
}

/*
 * authbudget.c - token buckets of bcrypt CPU time, shared and per address.
 *
 * DESCRIPTION
 *	See authbudget.h for the policy. Buckets hold µs of CPU time and are
 *	refilled from the monotonic clock on use; they may go negative (a
 *	check is charged what it really cost), which delays the next one.
 * LIMITS
 *	AUTHBUDGET_ADDRS addresses; a new one replaces the least recently used
 *	stranger, or the least recently used friend when all are friends.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "authbudget.h"
#include "macro.h"

#define ADDR_MAX 16

typedef struct Bucket {
	int64_t tokens; /* µs of CPU time */
	int64_t at;     /* last refill, µs */
} Bucket;

typedef struct Client {
	uint8_t addr[ADDR_MAX];
	size_t n;
	bool used, friend;
	int64_t last_used;
	Bucket bucket;
} Client;

struct AuthBudget {
	Bucket strangers, friends;
	Client c[AUTHBUDGET_ADDRS];
	unsigned n_friends;
};

int authbudget_new(AuthBudget **ret)
{
	AuthBudget *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->strangers = (Bucket){ AUTHBUDGET_STRANGERS_USEC * AUTHBUDGET_BURST_SEC, -1 };
	b->friends = (Bucket){ AUTHBUDGET_FRIENDS_USEC * AUTHBUDGET_BURST_SEC, -1 };
	*ret = b;
	return 0;
}

AuthBudget *authbudget_free(AuthBudget *b)
{
	free(b);
	return NULL;
}

static void refill(Bucket *k, int64_t rate, int64_t now)
{
	int64_t burst = rate * AUTHBUDGET_BURST_SEC;
	if (k->at >= 0 && now > k->at)
		k->tokens += (now - k->at) * rate / USEC_PER_SEC;
	if (k->tokens > burst)
		k->tokens = burst;
	k->at = now;
}

/* client - the address's entry, created (replacing the least recently used) if new. */
static Client *client(AuthBudget *b, const void *addr, size_t n)
{
	if (n > ADDR_MAX)
		n = ADDR_MAX;
	Client *victim = NULL;
	for (size_t i = 0; i < AUTHBUDGET_ADDRS; i++) {
		Client *c = &b->c[i];
		if (c->used && c->n == n && !memcmp(c->addr, addr, n))
			return c;
		/* free slot, else the oldest stranger, else the oldest friend */
		if (!victim || !c->used ||
		    (victim->used && (victim->friend > c->friend ||
				      (victim->friend == c->friend && c->last_used < victim->last_used))))
			victim = c;
	}
	if (victim->used && victim->friend)
		b->n_friends--;
	*victim = (Client){ .n = n, .used = true, .bucket = { AUTHBUDGET_ADDR_USEC * AUTHBUDGET_BURST_SEC, -1 } };
	memcpy(victim->addr, addr, n);
	return victim;
}

bool authbudget_may(AuthBudget *b, const void *addr, size_t n, int64_t now_usec)
{
	refill(&b->strangers, AUTHBUDGET_STRANGERS_USEC, now_usec);
	refill(&b->friends, AUTHBUDGET_FRIENDS_USEC, now_usec);
	Client *c = client(b, addr, n);
	c->last_used = now_usec;
	if (c->friend)
		return b->friends.tokens > 0;
	refill(&c->bucket, AUTHBUDGET_ADDR_USEC, now_usec);
	return c->bucket.tokens > 0 && b->strangers.tokens > 0;
}

void authbudget_spent(AuthBudget *b, const void *addr, size_t n, int64_t cpu_usec, bool ok)
{
	Client *c = client(b, addr, n);
	if (c->friend) {
		b->friends.tokens -= cpu_usec;
		return;
	}
	c->bucket.tokens -= cpu_usec;
	b->strangers.tokens -= cpu_usec;
	if (ok && b->n_friends < AUTHBUDGET_FRIENDS) {
		c->friend = true;
		b->n_friends++;
	}
}

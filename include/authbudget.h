/*
 * authbudget.h - the CPU time basic auth may spend on bcrypt.
 *
 * An uncached basic-auth check runs bcrypt (tens of ms at cost 10, over a
 * second at cost 14) on the one thread that also ingests. The budget is CPU
 * time, not a count of checks, so a high cost cannot multiply it:
 *   - strangers (addresses that have not logged in since the start) share
 *     AUTHBUDGET_STRANGERS_USEC per second, and each address (an IPv6 /64)
 *     may take at most AUTHBUDGET_ADDR_USEC per second of it, so a single
 *     guesser cannot starve a Prometheus that starts after it;
 *   - addresses that have logged in before (AUTHBUDGET_FRIENDS of them,
 *     kept across a reload of the web configuration) share a budget of
 *     their own, AUTHBUDGET_FRIENDS_USEC per second, that strangers cannot
 *     drain: a scraper whose cached login a SIGHUP cleared gets back in
 *     during a flood of wrong passwords.
 * Buckets hold AUTHBUDGET_BURST_SEC seconds of their rate. A check may
 * start while its buckets are positive, and what it really cost is then
 * charged, so the CPU spent stays within STRANGERS + FRIENDS (400 ms) per
 * second on average, whatever the cost.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTHBUDGET_STRANGERS_USEC 200000 /* per second, all strangers */
#define AUTHBUDGET_ADDR_USEC 100000      /* per second, one stranger address */
#define AUTHBUDGET_FRIENDS_USEC 200000   /* per second, all friends */
#define AUTHBUDGET_BURST_SEC 2
#define AUTHBUDGET_ADDRS 64              /* addresses remembered, least recently used replaced */
#define AUTHBUDGET_FRIENDS 16

typedef struct AuthBudget AuthBudget;

int authbudget_new(AuthBudget **ret);
AuthBudget *authbudget_free(AuthBudget *b);

/* authbudget_may - whether a bcrypt may run now for the client at addr
 * (raw address bytes, the IPv6 /64 or IPv4 address; n 0 if unknown). */
bool authbudget_may(AuthBudget *b, const void *addr, size_t n, int64_t now_usec);
/* authbudget_spent - charge cpu_usec of bcrypt to that client; ok: the
 * credentials were right, so the address becomes a friend. */
void authbudget_spent(AuthBudget *b, const void *addr, size_t n, int64_t cpu_usec, bool ok);

/*
 * test-authbudget.c - basic-auth bcrypt rationing (issue 15 item 7): the
 * budget is CPU time, not checks; a wrong-password flood neither starves a
 * client that logged in before nor a second address; CPU stays bounded.
 */
#include "../harness.h"

#include "authbudget.h"
#include "macro.h"

static const uint8_t attacker[4] = { 192, 0, 2, 66 }, prom[4] = { 192, 0, 2, 9 }, other[4] = { 198, 51, 100, 7 };

/* flood - one address checks back to back for secs seconds, each check
 * costing cost_usec of CPU; returns the CPU time the budget let it spend. */
static int64_t flood(AuthBudget *b, const uint8_t *addr, int64_t *now, int secs, int64_t cost_usec)
{
	int64_t spent = 0, end = *now + secs * USEC_PER_SEC;
	while (*now < end) {
		if (authbudget_may(b, addr, 4, *now)) {
			authbudget_spent(b, addr, 4, cost_usec, false);
			spent += cost_usec;
			*now += cost_usec;
		} else {
			*now += 1000; /* a 429 costs next to nothing */
		}
	}
	return spent;
}

static void test_cpu_not_count(void)
{
	/* cost 12 (~250 ms a check): the old 4 checks/s meant 1 s of CPU per second */
	AuthBudget *b;
	require(authbudget_new(&b) == 0);
	int64_t now = 1000 * USEC_PER_SEC;
	int64_t spent = flood(b, attacker, &now, 60, 250000);
	checkf(spent <= 60 * AUTHBUDGET_ADDR_USEC + AUTHBUDGET_ADDR_USEC * AUTHBUDGET_BURST_SEC + 250000,
	       "one address spent %lld µs of bcrypt in 60 s", (long long)spent);
	/* the same at cost 4 (~1 ms): far more checks, the same CPU */
	int64_t spent4 = flood(b, attacker, &now, 60, 1000);
	check(spent4 <= 60 * AUTHBUDGET_ADDR_USEC + 1000 + AUTHBUDGET_ADDR_USEC);
	check(spent4 >= 50 * AUTHBUDGET_ADDR_USEC);
	authbudget_free(b);
}

static void test_friend_keeps_budget(void)
{
	AuthBudget *b;
	require(authbudget_new(&b) == 0);
	int64_t now = 1000 * USEC_PER_SEC;
	/* Prometheus logged in once (its bcrypt), then a reload cleared the cache */
	check(authbudget_may(b, prom, 4, now));
	authbudget_spent(b, prom, 4, 60000, true);
	/* a flood of wrong passwords from 64 addresses drains the strangers' budget */
	for (int round = 0; round < 200; round++)
		for (uint8_t a = 1; a <= 64; a++) {
			uint8_t addr[4] = { 203, 0, 113, a };
			if (authbudget_may(b, addr, 4, now))
				authbudget_spent(b, addr, 4, 60000, false);
			now += 1000;
		}
	check(!authbudget_may(b, other, 4, now)); /* a stranger waits */
	check(authbudget_may(b, prom, 4, now));   /* the friend does not */
	authbudget_free(b);
}

static void test_second_address_not_starved(void)
{
	AuthBudget *b;
	require(authbudget_new(&b) == 0);
	int64_t now = 1000 * USEC_PER_SEC;
	/* one guesser, then a Prometheus starting up (no login yet) */
	int64_t t = now;
	flood(b, attacker, &t, 10, 60000);
	bool got = false;
	for (int i = 0; i < 10 && !got; i++, t += 100000)
		got = authbudget_may(b, prom, 4, t);
	check(got);
	authbudget_free(b);
}

int main(void)
{
	test_run(test_cpu_not_count);
	test_run(test_friend_keeps_budget);
	test_run(test_second_address_not_starved);
	return test_exit();
}

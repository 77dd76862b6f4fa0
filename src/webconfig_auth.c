/*
 * webconfig_auth.c - basic_auth_users: bcrypt hashes and the verified-password cache
 *
 * DESCRIPTION
 *      Validates the users of the web configuration (names HTTP basic auth
 *      can carry, well-formed bcrypt hashes) and checks credentials against
 *      them. A bcrypt costs 50-250 ms, so successful verifications are
 *      cached: a scrape with known-good credentials costs one SHA-256.
 *
 * THREADS
 *      None, and the cache has no lock on purpose: libmicrohttpd runs in
 *      external-epoll mode (no MHD_USE_INTERNAL_POLLING_THREAD, no thread
 *      pool) and http.c calls MHD_run() from the one event loop, so every
 *      check runs on the thread that loaded the config. Switching MHD to
 *      its own threads needs a lock around the cache again (see http.c).
 *
 * LIMITS
 *      A cost whose check takes over BCRYPT_SLOW_MS here is warned about at
 *      load time (http.c rations bcrypt CPU time, so a high cost means fewer
 *      checks, and a slow first scrape after each reload).
 *      WEBCONFIG_AUTH_CACHE_MAX cached verifications, one per user, replaced
 *      round-robin once full; passwords of at most 72 bytes (bcrypt ignores
 *      the rest, and Go's bcrypt refuses them too).
 *
 * SECURITY
 *      Unknown users cost one bcrypt against a fixed hash of the users'
 *      usual cost, so response time does not reveal which users exist; user
 *      names are compared in constant time. The cache stores a salted
 *      SHA-256 of the password, never the password.
 */
#include <assert.h>
#include <crypt.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "webconfig_int.h"
#include "util.h"

/*
 * Hash of "fakepassword" with exporter-toolkit's fixed salt; the cost is
 * replaced at load time by the cost most users have, so an unknown user
 * costs as much as a known one.
 */
#define DUMMY_HASH_TAIL "QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

/* bcrypt_cost - cost of a well-formed $2a$/$2b$/$2y$ hash, or -EINVAL. */
static int bcrypt_cost(const char *h)
{
	static const char alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	if (strlen(h) != BCRYPT_HASH_LEN || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[2] == '\0' ||
	    h[3] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return -EINVAL;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return -EINVAL;
	for (size_t i = 7; i < BCRYPT_HASH_LEN; i++)
		if (!strchr(alphabet, h[i]) || h[i] == '\0')
			return -EINVAL;
	return cost;
}

#define BCRYPT_SLOW_MS 50

static bool bcrypt_matches(const char *hash, const char *password);

/* bcrypt_ms - CPU time of one check at cost, estimated from a cost-4 run
 * (each step of the cost doubles it), so cost 31 costs no hours to find. */
static double bcrypt_ms(int cost)
{
	static double cost4_ms;
	if (cost4_ms == 0) {
		int64_t t0 = clock_usec(CLOCK_THREAD_CPUTIME_ID);
		(void)bcrypt_matches("$2y$04$" DUMMY_HASH_TAIL, "fakepassword");
		cost4_ms = (double)(clock_usec(CLOCK_THREAD_CPUTIME_ID) - t0) / 1e3;
		if (cost4_ms <= 0)
			cost4_ms = 1e-3;
	}
	return cost4_ms * (double)(1u << (cost - 4));
}

/* warn_slow_costs - one warning per cost that makes a check slower than BCRYPT_SLOW_MS. */
static void warn_slow_costs(const WebLoad *l, const unsigned cost_count[static 32])
{
	for (int cost = 4; cost < 32; cost++) {
		if (!cost_count[cost] || cost < 8)
			continue;
		double ms = bcrypt_ms(cost);
		if (ms > BCRYPT_SLOW_MS)
			log_warn("%s: basic_auth_users: %u user(s) with bcrypt cost %d: one uncached check takes about "
				 "%.0f ms of CPU here (over %d ms); the bcrypt CPU budget allows fewer checks, and the "
				 "first scrape after each start or reload waits that long; consider a lower cost",
				 l->file ? l->file : "web config", cost_count[cost], cost, ms, BCRYPT_SLOW_MS);
	}
}

int webconfig_auth_init(WebAuth *a)
{
	*a = (WebAuth){ .n_users = 0 };
	/* Per-config salt: a memory dump of the cache is no rainbow-table lookup. */
	return gnutls_rnd(GNUTLS_RND_NONCE, a->cache_salt, sizeof(a->cache_salt)) < 0 ? -EIO : 0;
}

int webconfig_auth_build(WebLoad *l, WebAuth *a)
{
	const PairList *users = &l->raw.users;
	unsigned cost_count[32] = { 0 };
	char q[QUOTE_MAX];

	if (users->n == 0)
		return 0;
	a->users = calloc(users->n, sizeof(WebUser));
	if (!a->users)
		return -ENOMEM;
	for (size_t i = 0; i < users->n; i++) {
		const Pair *u = &users->v[i];
		if (strchr(u->key.s, ':'))
			return webconfig_fail(l, u->key.line, "basic_auth_users",
					      "user name %s contains ':', which HTTP basic auth cannot transmit; rename "
					      "the user",
					      webconfig_quote(q, u->key.s, strlen(u->key.s)));
		int cost = u->value.s ? bcrypt_cost(u->value.s) : -EINVAL;
		if (cost < 0)
			return webconfig_fail(l, u->value.line ? u->value.line : u->key.line, "basic_auth_users",
					      "the password of user %s is not a bcrypt hash ($2y$, $2b$ or $2a$, cost "
					      "04-31, 60 characters); create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'",
					      webconfig_quote(q, u->key.s, strlen(u->key.s)));
		cost_count[cost]++;
		a->users[i].name = strdup(u->key.s);
		a->users[i].hash = strdup(u->value.s);
		a->n_users = i + 1;
		if (!a->users[i].name || !a->users[i].hash)
			return -ENOMEM;
	}
	/* The dummy hash uses the most common cost (ties: the higher one). */
	int best = 10;
	for (int i = 4; i < 32; i++)
		if (cost_count[i] && cost_count[i] >= cost_count[best])
			best = i;
	snprintf(a->dummy_hash, sizeof(a->dummy_hash), "$2y$%02u$%s", (unsigned)best % 32u, DUMMY_HASH_TAIL);
	warn_slow_costs(l, cost_count);
	return 0;
}

void webconfig_auth_clear(WebAuth *a)
{
	for (size_t i = 0; i < a->n_users; i++) {
		free(a->users[i].name);
		free(a->users[i].hash);
	}
	free(a->users);
	explicit_bzero(a, sizeof(*a));
}

bool webconfig_auth_enabled(const WebConfig *c)
{
	return c && c->auth.n_users > 0;
}

/* bcrypt_matches - run bcrypt once and compare the result in constant time. */
static bool bcrypt_matches(const char *hash, const char *password)
{
	/* struct crypt_data is ~32 KiB: on the heap, where it is wiped and freed right after. */
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	const char *out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	bool ok = out && strlen(out) == BCRYPT_HASH_LEN && strlen(hash) == BCRYPT_HASH_LEN &&
		  gnutls_memcmp(out, hash, BCRYPT_HASH_LEN) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static bool ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Length may leak; the content may not. */
	return la == lb && gnutls_memcmp(a, b, la) == 0;
}

/* password_digest - salted SHA-256 of the password, the cache's key. */
static int password_digest(const WebAuth *a, const char *password, uint8_t ret[static 32])
{
	size_t plen = strlen(password);
	uint8_t buf[sizeof(a->cache_salt) + WEBCONFIG_PASSWORD_MAX];

	assert(plen <= WEBCONFIG_PASSWORD_MAX);
	memcpy(buf, a->cache_salt, sizeof(a->cache_salt));
	memcpy(buf + sizeof(a->cache_salt), password, plen);
	int g = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, sizeof(a->cache_salt) + plen, ret);
	explicit_bzero(buf, sizeof(buf));
	return g < 0 ? -EIO : 0;
}

static bool cache_has(WebAuth *a, size_t user, const uint8_t digest[static 32])
{
	bool hit = false;
	/* Visit every entry so the time does not depend on where the match is. */
	for (size_t i = 0; i < a->n_cache; i++)
		hit |= a->cache[i].user == user && gnutls_memcmp(a->cache[i].digest, digest, 32) == 0;
	if (hit)
		a->cache_hits++;
	return hit;
}

/* cache_put - one slot per user: a new password for the same user replaces the old entry. */
static void cache_put(WebAuth *a, size_t user, const uint8_t digest[static 32])
{
	size_t slot = a->n_cache;
	for (size_t i = 0; i < a->n_cache; i++)
		if (a->cache[i].user == user)
			slot = i;
	if (slot == a->n_cache) {
		if (a->n_cache < WEBCONFIG_AUTH_CACHE_MAX)
			a->n_cache++;
		else {
			slot = a->cache_next;
			a->cache_next = (a->cache_next + 1) % WEBCONFIG_AUTH_CACHE_MAX;
		}
	}
	a->cache[slot].user = user;
	memcpy(a->cache[slot].digest, digest, 32);
}

bool webconfig_check_basic_auth(WebConfig *c, const char *user, const char *password)
{
	return webconfig_check_basic_auth_budget(c, user, password, true) == 1;
}

int webconfig_check_basic_auth_budget(WebConfig *c, const char *user, const char *password, bool may_bcrypt)
{
	if (!webconfig_auth_enabled(c))
		return 1;
	if (!user || !password)
		return 0;
	if (strlen(password) > WEBCONFIG_PASSWORD_MAX)
		return 0; /* bcrypt would silently compare only a prefix */

	WebAuth *a = &c->auth;
	/* Visit every user so the scan time does not depend on which one matched. */
	size_t found = a->n_users;
	for (size_t i = 0; i < a->n_users; i++)
		if (ct_streq(a->users[i].name, user))
			found = i;

	uint8_t digest[32];
	if (password_digest(a, password, digest) < 0)
		return 0;
	int r;
	if (found < a->n_users && cache_has(a, found, digest))
		r = 1;
	else if (!may_bcrypt)
		r = -EAGAIN;
	else {
		/* Unknown users pay for one bcrypt too, so timing does not reveal who exists. */
		bool ok = bcrypt_matches(found < a->n_users ? a->users[found].hash : a->dummy_hash, password);
		ok = ok && found < a->n_users;
		a->bcrypt_runs++;
		if (ok)
			cache_put(a, found, digest);
		r = ok;
	}
	explicit_bzero(digest, sizeof(digest));
	return r;
}

void webconfig_auth_stats(WebConfig *c, WebAuthStats *ret)
{
	*ret = (WebAuthStats){ 0 };
	if (!c)
		return;
	ret->bcrypt_runs = c->auth.bcrypt_runs;
	ret->cache_hits = c->auth.cache_hits;
	ret->cache_entries = c->auth.n_cache;
}

/*
 * util.c - checked parsing, clocks, calendar arithmetic, hashing.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int parse_u64(const char *s, uint64_t *ret)
{
	if (!s || !*s)
		return -EINVAL;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static const struct {
	const char *suffix;
	int64_t usec;
} units[] = {
	{ "ms", 1000LL }, { "s", 1000000LL }, { "m", 60000000LL }, { "h", 3600000000LL },
	{ "d", 86400000000LL }, { "w", 604800000000LL }, { "y", 31536000000000LL },
};

void format_duration(int64_t usec, char *ret, size_t n)
{
	/* Weeks and years are skipped: "366d" reads better than "52w2d". */
	static const size_t order[] = { 4, 3, 2, 1, 0 };
	if (usec == 0) {
		snprintf(ret, n, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		int64_t u = units[order[i]].usec;
		if (usec % u == 0) {
			snprintf(ret, n, "%lld%s", (long long)(usec / u), units[order[i]].suffix);
			return;
		}
	}
	snprintf(ret, n, "%lldus", (long long)usec);
}

int parse_duration_usec(const char *s, int64_t *ret)
{
	if (!s || !*s)
		return -EINVAL;
	int64_t total = 0;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		int64_t v = 0;
		while (*s >= '0' && *s <= '9') {
			if (v > (INT64_MAX / 10) - 9)
				return -ERANGE;
			v = v * 10 + (*s++ - '0');
		}
		size_t best = 0;
		int64_t mult = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].suffix);
			if (strncmp(s, units[i].suffix, n) == 0 && n > best) {
				best = n;
				mult = units[i].usec;
			}
		}
		if (!best)
			return -EINVAL;
		s += best;
		if (v > INT64_MAX / mult || total > INT64_MAX - v * mult)
			return -ERANGE;
		total += v * mult;
	}
	*ret = total;
	return 0;
}

bool slice_to_u32(Slice s, uint32_t *ret)
{
	if (s.n == 0 || s.n > 10)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s.p[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*ret = (uint32_t)v;
	return true;
}

int64_t clock_usec(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t now_realtime_usec(void)
{
	return clock_usec(CLOCK_REALTIME);
}

int64_t now_monotonic_usec(void)
{
	return clock_usec(CLOCK_MONOTONIC);
}

/* Howard Hinnant's days_from_civil. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

uint64_t hash64(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data;
	const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL, k2 = 0x8ebc6af09c88c6e3ULL;
	uint64_t h = seed ^ mix(seed ^ k0, k1) ^ n;
	while (n >= 16) {
		h = mix(rd64(p) ^ k1, rd64(p + 8) ^ h);
		p += 16;
		n -= 16;
	}
	uint64_t a = 0, b = 0;
	if (n >= 8) {
		a = rd64(p);
		b = rd64(p + n - 8);
	} else if (n > 0) {
		unsigned char t[8] = { 0 };
		memcpy(t, p, n);
		a = rd64(t);
		b = (uint64_t)n << 56;
	}
	return mix(h ^ k2, mix(a ^ k1, b ^ h));
}

uint64_t hash_random_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)now_monotonic_usec() * 0x9e3779b97f4a7c15ULL;
	return s;
}

int rlimit_nofile_raise(void)
{
	/* Some 1 000 journal files exceed the usual soft limit of 1 024; the
	 * hard limit is ours to take, as systemd's tools do. select() is not
	 * used anywhere, so fds past FD_SETSIZE are harmless. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur >= rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 1;
}

int cpus_available(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

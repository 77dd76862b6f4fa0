/*
 * harness.h - the peers tests' minimal harness: check() prints file:line
 * and the failed expression, counts, and the test continues; main returns
 * the failure count through test_exit().
 */
#pragma once
#undef NDEBUG

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned test_failures, test_checks;

#define check(expr) do { \
	test_checks++; \
	if (!(expr)) { \
		test_failures++; \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
	} \
} while (0)

#define check_str(got, want) do { \
	const char *_g = (got), *_w = (want); \
	test_checks++; \
	if (!_g || strcmp(_g, _w)) { \
		test_failures++; \
		fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, __LINE__, _g ? _g : "(null)", _w); \
	} \
} while (0)

#define check_u64(got, want) do { \
	uint64_t _g = (uint64_t)(got), _w = (uint64_t)(want); \
	test_checks++; \
	if (_g != _w) { \
		test_failures++; \
		fprintf(stderr, "%s:%d: %s = %" PRIu64 ", want %" PRIu64 "\n", __FILE__, __LINE__, #got, _g, _w); \
	} \
} while (0)

static inline int test_exit(const char *name)
{
	printf("%s: %u checks, %u failed\n", name, test_checks, test_failures);
	return test_failures ? 1 : 0;
}

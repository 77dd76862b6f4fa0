/*
 * harness.h - a minimal test harness: test_assert() prints file:line and the
 * expression, then aborts; test_run() names each test as it runs.
 */
#pragma once
#undef NDEBUG

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define test_assert(expr)                                                                       \
	do {                                                                                    \
		if (!(expr)) {                                                                  \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
			abort();                                                                \
		}                                                                               \
	} while (0)

#define test_assert_str(a, b)                                                                         \
	do {                                                                                          \
		const char *_a = (a), *_b = (b);                                                      \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                              \
			fprintf(stderr, "%s:%d: '%s' != '%s'\n", __FILE__, __LINE__, _a ? _a : "(null)", \
				_b ? _b : "(null)");                                                  \
			abort();                                                                      \
		}                                                                                     \
	} while (0)

#define test_run(fn)                                   \
	do {                                           \
		fprintf(stderr, "running %s\n", #fn); \
		fn();                                  \
	} while (0)

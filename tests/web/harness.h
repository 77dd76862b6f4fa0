/*
 * harness.h - the smallest test harness that does the job: a failed check
 * prints file:line, the running test and the condition, then aborts, so
 * meson reports the test as failed and a core dump shows the state.
 */
#pragma once

#undef NDEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *test_current = "?";
static unsigned test_checks;

#define test_assert(cond)                                                                                  \
	do {                                                                                               \
		test_checks++;                                                                             \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "%s:%d: %s: test_assert failed: %s\n", __FILE__, __LINE__, test_current, \
				#cond);                                                                    \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

/* test_assert_str - equal strings; prints both on failure. */
#define test_assert_str(got, want)                                                                         \
	do {                                                                                               \
		const char *_g = (got), *_w = (want);                                                      \
		test_checks++;                                                                             \
		if (!_g || !_w || strcmp(_g, _w) != 0) {                                                   \
			fprintf(stderr, "%s:%d: %s: %s\n  got:  %s\n  want: %s\n", __FILE__, __LINE__,     \
				test_current, #got, _g ? _g : "(null)", _w ? _w : "(null)");               \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

/* test_assert_contains - haystack contains needle; prints both on failure. */
#define test_assert_contains(hay, needle)                                                                  \
	do {                                                                                               \
		const char *_h = (hay), *_n = (needle);                                                    \
		test_checks++;                                                                             \
		if (!_h || !strstr(_h, _n)) {                                                              \
			fprintf(stderr, "%s:%d: %s: %s lacks '%s'\n  got: %s\n", __FILE__, __LINE__,      \
				test_current, #hay, _n, _h ? _h : "(null)");                               \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

#define test_run(fn)                                                                                       \
	do {                                                                                               \
		test_current = #fn;                                                                        \
		fn();                                                                                      \
		printf("ok - %s\n", #fn);                                                                  \
	} while (0)

/*
 * harness.h - the one harness of the C tests.
 *
 *   test_run(fn)          runs void fn(void) as a named test; prints "ok - fn"
 *                         or "not ok - fn"
 *   check(expr)           a failed check prints file:line, the test and the
 *                         expression, is counted, and the test goes on (so one
 *                         run shows every broken check); it is an expression
 *                         and yields whether it held
 *   check_str(got, want), check_contains(hay, needle), check_u64(got, want)
 *                         the same, printing both values
 *   checkf(expr, fmt, ...) the same, with a message of the test's own
 *   require(expr)         check() for a precondition the rest of the test
 *                         cannot do without (an object that failed to build):
 *                         on failure it ends the running test, not the program
 *   return test_exit();   from main: prints "N checks, N failed" and returns
 *                         non-zero if any check failed
 */
#pragma once
#undef NDEBUG

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *test_current = "main";
static unsigned test_checks, test_failures;
static jmp_buf test_jump;
static bool test_jump_set;

__attribute__((format(printf, 4, 5), unused)) static bool test_check(bool ok, const char *file, int line,
								    const char *fmt, ...)
{
	test_checks++;
	if (ok)
		return true;
	test_failures++;
	fprintf(stderr, "%s:%d: %s: ", file, line, test_current);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return false;
}

__attribute__((unused)) static int test_exit(void)
{
	printf("%u checks, %u failed\n", test_checks, test_failures);
	return test_failures ? 1 : 0;
}

/* Outside test_run() there is no test to end: stop the program. */
__attribute__((noreturn, unused)) static void test_abandon(void)
{
	if (test_jump_set)
		longjmp(test_jump, 1);
	test_exit();
	exit(1);
}

#define test_nn(s) ((s) ? (s) : "(null)")

#define check(expr) test_check(!!(expr), __FILE__, __LINE__, "check failed: %s", #expr)
#define checkf(expr, ...) test_check(!!(expr), __FILE__, __LINE__, __VA_ARGS__)

#define require(expr)                  \
	do {                           \
		if (!check(expr))      \
			test_abandon(); \
	} while (0)

#define check_str(got, want)                                                                                  \
	do {                                                                                                  \
		const char *_g = (got), *_w = (want);                                                         \
		test_check(_g && _w && !strcmp(_g, _w), __FILE__, __LINE__, "%s\n  got:  %s\n  want: %s", #got, \
			   test_nn(_g), test_nn(_w));                                                         \
	} while (0)

#define check_contains(hay, needle)                                                                     \
	do {                                                                                            \
		const char *_h = (hay), *_n = (needle);                                                 \
		test_check(_h && strstr(_h, _n), __FILE__, __LINE__, "%s lacks '%s'\n  got: %s", #hay, _n, \
			   test_nn(_h));                                                                \
	} while (0)

#define check_u64(got, want)                                                                          \
	do {                                                                                          \
		uint64_t _g = (uint64_t)(got), _w = (uint64_t)(want);                                 \
		test_check(_g == _w, __FILE__, __LINE__, "%s = %" PRIu64 ", want %" PRIu64, #got, _g, _w); \
	} while (0)

#define test_run(fn)                                                                      \
	do {                                                                              \
		unsigned _before = test_failures;                                         \
		test_current = #fn;                                                       \
		test_jump_set = true;                                                     \
		if (!setjmp(test_jump))                                                   \
			fn();                                                             \
		test_jump_set = false;                                                    \
		printf("%s - %s\n", test_failures == _before ? "ok" : "not ok", #fn);    \
		test_current = "main";                                                    \
	} while (0)

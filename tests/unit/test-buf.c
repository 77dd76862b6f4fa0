/*
 * test-buf.c - Buf keeps its first error: later appends are no-ops and
 * buf_error() reports it once at the end.
 */
#include <errno.h>
#include <stdint.h>

#include "buf.h"
#include "../harness.h"

static void test_appends(void)
{
	Buf b = BUF_NULL;
	buf_puts(&b, "a=");
	buf_put_u64(&b, 18446744073709551615ULL);
	buf_putc(&b, ' ');
	buf_printf(&b, "%s-%d", "x", 42);
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "%0300d", 0); /* past the 256-byte fast path */
	check(buf_error(&b) == 0);
	check(b.len == 2 + 20 + 1 + 4 + 100 * 300);
	check(strncmp(buf_cstr(&b), "a=18446744073709551615 x-42000", 30) == 0);
	buf_deinit(&b);
}

static void test_sticky_error(void)
{
	Buf b = BUF_NULL;
	buf_puts(&b, "kept");
	buf_append(&b, "", SIZE_MAX); /* size_t overflow: the failure */
	check(buf_error(&b) == -ENOMEM);
	buf_puts(&b, " lost");
	buf_putc(&b, '!');
	buf_printf(&b, "%d", 7);
	check(buf_error(&b) == -ENOMEM); /* still the first error */
	check(b.len == 4);               /* nothing appended after it */
	check(buf_reserve(&b, 1) == -ENOMEM);
	check(buf_steal(&b, NULL) == NULL); /* no partial output escapes */
	check(b.data == NULL && buf_error(&b) == 0);

	buf_puts(&b, "abc");
	buf_append(&b, "", SIZE_MAX);
	buf_clear(&b); /* forgets the error with the content */
	check(buf_error(&b) == 0);
	buf_puts(&b, "ok");
	size_t n;
	char *s = buf_steal(&b, &n);
	check(n == 2);
	check_str(s, "ok");
	free(s);
}

int main(void)
{
	test_run(test_appends);
	test_run(test_sticky_error);
	return test_exit();
}

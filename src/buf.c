/*
 * buf.c - growable byte buffer with a sticky error (see buf.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static int fail(Buf *b, int error)
{
	if (!b->error)
		b->error = error;
	return error;
}

int buf_reserve(Buf *b, size_t extra)
{
	if (b->error)
		return b->error;
	if (extra > SIZE_MAX - 1 - b->len) /* the size would wrap */
		return fail(b, -ENOMEM);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return fail(b, -ENOMEM);
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return fail(b, -ENOMEM);
	b->data = p;
	b->cap = cap;
	return 0;
}

void buf_append(Buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_puts(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(Buf *b, char c)
{
	if (buf_reserve(b, 1) < 0)
		return;
	b->data[b->len++] = c;
}

void buf_vprintf(Buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0) {
		fail(b, -EINVAL);
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_append(b, small, (size_t)n);
		return;
	}
	if (buf_reserve(b, (size_t)n) < 0)
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(Buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_put_u64(Buf *b, unsigned long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof(tmp) - i);
}

const char *buf_cstr(Buf *b)
{
	if (buf_reserve(b, 0) < 0)
		return "";
	b->data[b->len] = '\0';
	return b->data;
}

void buf_clear(Buf *b)
{
	b->len = 0;
	b->error = 0;
}

char *buf_steal(Buf *b, size_t *ret_len)
{
	char *p = NULL;
	size_t n = 0;
	if (buf_reserve(b, 0) == 0) {
		buf_cstr(b);
		p = b->data;
		n = b->len;
	} else {
		free(b->data);
	}
	if (ret_len)
		*ret_len = n;
	*b = BUF_NULL;
	return p;
}

void buf_deinit(Buf *b)
{
	free(b->data);
	*b = BUF_NULL;
}

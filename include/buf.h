/*
 * buf.h - growable byte buffer (in the spirit of Postfix VSTRING / Redis sds).
 *
 * Buf is embedded by value; BUF_NULL initialises it. Every append checks for
 * size_t overflow and returns -ENOMEM on failure, leaving the content intact.
 * The data pointer may move on any append: never keep it across one.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

typedef struct Buf {
	char *data;
	size_t len;
	size_t cap;
} Buf;

#define BUF_NULL ((Buf){ NULL, 0, 0 })

int buf_reserve(Buf *b, size_t extra);
int buf_append(Buf *b, const void *p, size_t n);
int buf_puts(Buf *b, const char *s);
int buf_putc(Buf *b, char c);
int buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
int buf_vprintf(Buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* buf_put_u64 - decimal without printf (hot path of the exposition). */
int buf_put_u64(Buf *b, unsigned long long v);
/* buf_cstr - NUL-terminate (not counted in len) and return data. */
const char *buf_cstr(Buf *b);
void buf_clear(Buf *b);
/* buf_steal - return the heap block and reset b; caller frees. */
char *buf_steal(Buf *b, size_t *ret_len);
void buf_deinit(Buf *b);

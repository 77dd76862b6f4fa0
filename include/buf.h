/*
 * buf.h - growable byte buffer (in the spirit of Postfix VSTRING / Redis sds).
 *
 * Buf is embedded by value; BUF_NULL initialises it. Appends return nothing:
 * the first failure (allocation, size_t overflow, a printf error) is kept in
 * the buffer and every later append is a no-op, so a writer appends freely
 * and checks buf_error() once at the end, the way stdio's ferror() or
 * systemd's memstream work. buf_clear() forgets the error with the content.
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
	int error; /* first failure (negative errno), sticky until buf_clear() */
} Buf;

#define BUF_NULL ((Buf){ NULL, 0, 0, 0 })

/* buf_reserve - room for extra more bytes; -ENOMEM (also kept in b). */
int buf_reserve(Buf *b, size_t extra);
void buf_append(Buf *b, const void *p, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_putc(Buf *b, char c);
void buf_printf(Buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_vprintf(Buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* buf_put_u64 - decimal without printf (hot path of the exposition). */
void buf_put_u64(Buf *b, unsigned long long v);
/* buf_error - 0, or the first failure since the last buf_clear(). */
static inline int buf_error(const Buf *b) { return b->error; }
/* buf_cstr - NUL-terminate (not counted in len) and return data. */
const char *buf_cstr(Buf *b);
/* buf_clear - empty the buffer and forget its error; keeps the memory. */
void buf_clear(Buf *b);
/* buf_steal - return the heap block and reset b; caller frees. NULL if
 * the buffer has failed (nothing partial escapes). */
char *buf_steal(Buf *b, size_t *ret_len);
void buf_deinit(Buf *b);

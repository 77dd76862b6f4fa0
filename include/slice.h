/*
 * slice.h - borrowed (pointer, length) views into a line buffer.
 *
 * A Slice never owns memory and never outlives the buffer it points into;
 * whoever keeps a value beyond the current line copies it (store interns
 * label values when it creates a series).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct Slice {
	const char *p;
	size_t n;
} Slice;

#define SLICE_NULL ((Slice){ NULL, 0 })
#define SLICE_LIT(s) ((Slice){ (s), sizeof(s) - 1 })

/* slice_from - a NUL-terminated string; NULL gives the empty string, never a NULL pointer. */
static inline Slice slice_from(const char *s) { return s ? (Slice){ s, strlen(s) } : (Slice){ "", 0 }; }
static inline uint64_t slice_rd64(const char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
/* slice_mem_eq - a[0..n) equals b[0..n). 8 to 16 bytes, the length of most
 * program names and rule prefixes (compared for every line), take two
 * overlapping 8-byte loads instead of a memcmp() call. */
static inline bool slice_mem_eq(const char *a, const char *b, size_t n)
{
	if (n >= 8 && n <= 16)
		return ((slice_rd64(a) ^ slice_rd64(b)) | (slice_rd64(a + n - 8) ^ slice_rd64(b + n - 8))) == 0;
	return n == 0 || memcmp(a, b, n) == 0;
}
/* slice_eq - a and b hold the same bytes */
static inline bool slice_eq(Slice a, Slice b) { return a.n == b.n && slice_mem_eq(a.p, b.p, a.n); }
static inline bool slice_eq_str(Slice a, const char *s) { return slice_eq(a, slice_from(s)); }
static inline bool slice_has_prefix(Slice a, const char *pfx)
{
	size_t n = strlen(pfx);
	return a.n >= n && memcmp(a.p, pfx, n) == 0;
}

/* find_lit - first occurrence of needle in a short haystack. glibc's
 * memmem() pays a set-up cost per call that dominates on the 20-60 byte
 * windows the parser searches; memchr on the first byte plus memcmp does not. */
static inline const char *find_lit(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return h;
	while (hn >= nn) {
		const char *c = memchr(h, n[0], hn - nn + 1);
		if (!c)
			return NULL;
		if (memcmp(c + 1, n + 1, nn - 1) == 0)
			return c;
		hn -= (size_t)(c - h) + 1;
		h = c + 1;
	}
	return NULL;
}

/*
 * utf8.c - UTF-8 validation and repair (RFC 3629, table 3-7 of Unicode).
 */
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "utf8.h"

#define REPLACEMENT "\xef\xbf\xbd"

/* ascii_printable - c is printable ASCII, 0x20..0x7e */
static inline bool ascii_printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* seq_len - length of the valid, non-control sequence at p (n > 0 bytes
 * left), or 0 if the bytes there are invalid or a control. */
static size_t seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return ascii_printable(c);
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* word_printable - whether all 8 bytes of w are printable ASCII (0x20..0x7e).
 * The borrow tricks can report a false "no" after a byte that really fails,
 * never a false "yes"; a "no" only sends the caller to the exact loop. */
static inline bool word_printable(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t below_space = (w - ones * 0x20) & ~w;
	uint64_t y = w ^ (ones * 0x7f);
	uint64_t is_del = (y - ones) & ~y;
	return ((w | below_space | is_del) & high) == 0;
}

/* bad_bytes - the bytes at p (16) that are not printable ASCII, as signed
 * bytes: 0x80..0xff are negative, so one signed compare and one equality
 * find them all. GCC's vector extension (clang has it too) compiles this
 * to SSE2 or NEON, and to plain code elsewhere. */
typedef signed char S8x16 __attribute__((vector_size(16)));
static inline S8x16 bad_bytes(const unsigned char *p)
{
	S8x16 v;
	memcpy(&v, p, sizeof(v));
	return (v < 0x20) | (v == 0x7f);
}

static inline bool none(S8x16 bad)
{
	uint64_t half[2];
	memcpy(half, &bad, sizeof(half));
	return (half[0] | half[1]) == 0;
}

#ifdef __SSE2__
/* bad_mask - bad_bytes() as a bit per byte */
static inline unsigned bad_mask(const unsigned char *p)
{
	return (unsigned)_mm_movemask_epi8((__m128i)bad_bytes(p));
}
#endif

const char *utf8_line_end(const char *p, const char *end, bool *printable)
{
	/* '\n' is itself one of the bytes bad_mask() and bad_bytes() flag: the first
	 * flagged byte is the line end if the line is printable. */
	const unsigned char *q = (const unsigned char *)p, *e = (const unsigned char *)end;
#ifdef __SSE2__
	/* this runs over every byte of a file: 32 bytes a step, and the
	 * mask says where the first flagged one is */
	for (; e - q >= 32; q += 32) {
		unsigned m = bad_mask(q) | bad_mask(q + 16) << 16;
		if (m) {
			q += __builtin_ctz(m);
			goto flagged;
		}
	}
	if (e - q >= 16) {
		unsigned m = bad_mask(q);
		if (m) {
			q += __builtin_ctz(m);
			goto flagged;
		}
		q += 16;
	}
#else
	while (e - q >= 16 && none(bad_bytes(q)))
		q += 16;
#endif
	for (; q < e; q++)
		if (!ascii_printable(*q))
			goto flagged;
	*printable = true;
	return NULL;
flagged:
	*printable = *q == '\n';
	return *q == '\n' ? (const char *)q : memchr(q, '\n', (size_t)(e - q));
}

bool utf8_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	/* A whole line of printable ASCII, checked without a branch per block;
	 * the last block overlaps the one before it. */
	if (n >= 16) {
		S8x16 bad = bad_bytes(end - 16);
		for (const unsigned char *q = p; end - q >= 16; q += 16)
			bad |= bad_bytes(q);
		if (none(bad))
			return true;
	}
	while (p < end) {
		/* Log lines are nearly all printable ASCII: take those 16, then
		 * 8 bytes at a time (this check reads every byte of input; byte
		 * by byte it was 10% of --once). */
		if (end - p >= 16 && none(bad_bytes(p))) {
			p += 16;
			continue;
		}
		if (end - p >= 8) {
			uint64_t w;
			memcpy(&w, p, sizeof(w));
			if (word_printable(w)) {
				p += 8;
				continue;
			}
		}
		if (ascii_printable(*p)) {
			p++;
			continue;
		}
		size_t l = seq_len(p, (size_t)(end - p));
		if (!l)
			return false;
		p += l;
	}
	return true;
}

void utf8_sanitize(Buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	while (p < end) {
		size_t l = seq_len(p, (size_t)(end - p));
		if (l) {
			p += l;
			continue;
		}
		buf_append(out, run, (size_t)(p - run));
		buf_append(out, REPLACEMENT, 3);
		p++;
		run = p;
	}
	buf_append(out, run, (size_t)(p - run));
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	/* Back up over continuation bytes to the lead byte of the cut character. */
	size_t k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return k;
}

/*
 * test-gz.c - gz.c, inflating in the caller's thread and ahead in its own:
 * the same bytes either way for several members and trailing garbage, a
 * truncated and a corrupt file (what came before the damage, then -EIO and
 * the reason), the end repeated, and a close while the thread is ahead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../harness.h"
#include "gz.h"

/* about 3 MB of log-like lines: several times the pieces inflated ahead */
static char *make_text(size_t *ret_len)
{
	size_t cap = 3 << 20, len = 0;
	char *t = malloc(cap + 256);
	require(t);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; len < cap; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len += (size_t)snprintf(t + len, 256,
					"Nov 28 15:%02u:%02u mx1 postfix/smtpd[%u]: connect from host%llu.example.net[192.0.2.%u]\n",
					i / 60 % 60, i % 60, 1000 + i % 5000, (unsigned long long)(x % 20000),
					(unsigned)(x >> 40) % 256);
	}
	*ret_len = len;
	return t;
}

/* gzip - one gzip member of text (zlib, windowBits 15 + 16) */
static unsigned char *gzip(const char *in, size_t len, size_t *ret_len)
{
	z_stream z = { 0 };
	require(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	size_t cap = deflateBound(&z, (uLong)len);
	unsigned char *out = malloc(cap);
	require(out);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	require(deflate(&z, Z_FINISH) == Z_STREAM_END);
	*ret_len = z.total_out;
	deflateEnd(&z);
	return out;
}

/* file_with - an open fd of a temporary file holding the n bytes */
static int file_with(const void *p, size_t n)
{
	char path[] = "/tmp/test-gz-XXXXXX";
	int fd = mkstemp(path);
	require(fd >= 0);
	unlink(path);
	require(write(fd, p, n) == (ssize_t)n);
	require(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

/* the fixture: the text and one gzip member of it */
static char *text;
static size_t tl;
static unsigned char *member;
static size_t ml;

typedef struct Got {
	char *data;
	size_t len;
	ssize_t end;       /* what gz_next() returned last: 0 or a negative errno */
	const char *error;
} Got;

/* inflate_all - everything gz_next() gives, ahead or not */
static Got inflate_all(const void *file, size_t n, bool ahead)
{
	Got g = { .data = malloc(16 << 20) };
	require(g.data);
	Gz *z;
	require(gz_open(&z, file_with(file, n)) == 0);
	if (ahead)
		require(gz_ahead(z) == 0);
	const char *p;
	ssize_t k;
	while ((k = gz_next(z, &p)) > 0) {
		require(g.len + (size_t)k <= 16 << 20);
		memcpy(g.data + g.len, p, (size_t)k);
		g.len += (size_t)k;
	}
	g.end = k;
	/* the end stays the end */
	check(gz_next(z, &p) == k);
	check(gz_next(z, &p) == k);
	g.error = gz_error(z);
	check(gz_close(z) == NULL);
	return g;
}

static void test_members_and_garbage(void)
{
	const char garbage[] = "trailing garbage after the last member\n";
	size_t n = 3 * ml + sizeof(garbage);
	unsigned char *file = malloc(n);
	require(file);
	for (int i = 0; i < 3; i++)
		memcpy(file + (size_t)i * ml, member, ml);
	memcpy(file + 3 * ml, garbage, sizeof(garbage));
	for (int ahead = 0; ahead < 2; ahead++) {
		Got g = inflate_all(file, n, ahead);
		check_u64(g.len, 3 * tl);
		check(g.end == 0);
		check(g.error == NULL);
		for (int i = 0; i < 3 && g.len == 3 * tl; i++)
			checkf(!memcmp(g.data + (size_t)i * tl, text, tl), "member %d differs (ahead %d)", i, ahead);
		free(g.data);
	}
	free(file);
}

/* check_damaged - a truncated or corrupted file gives the text up to about
 * the damage, then -EIO and the reason; the same bytes with and without
 * the thread */
static void check_damaged(const unsigned char *file, size_t n, const char *why)
{
	Got g[2];
	for (int ahead = 0; ahead < 2; ahead++) {
		g[ahead] = inflate_all(file, n, ahead);
		checkf(g[ahead].end == -EIO, "%s: end %zd (ahead %d)", why, g[ahead].end, ahead);
		checkf(g[ahead].error != NULL, "%s: no reason (ahead %d)", why, ahead);
		/* The damage is in the middle of the compressed bytes; corrupt
		 * deflate data may inflate to garbage for a while before an
		 * invalid code or the CRC stops it, so only the first third is
		 * sure to be the text. */
		checkf(g[ahead].len > tl / 3 && g[ahead].len < tl + tl / 3, "%s: %zu of %zu bytes (ahead %d)", why,
		       g[ahead].len, tl, ahead);
		checkf(!memcmp(g[ahead].data, text, tl / 3), "%s: not the text (ahead %d)", why, ahead);
	}
	check_u64(g[0].len, g[1].len);
	check(!memcmp(g[0].data, g[1].data, g[0].len < g[1].len ? g[0].len : g[1].len));
	if (g[0].error && g[1].error)
		check_str(g[0].error, g[1].error);
	free(g[0].data);
	free(g[1].data);
}

static void test_truncated(void)
{
	check_damaged(member, ml / 2, "truncated");
	Got g = inflate_all(member, ml / 2, true);
	check_str(g.error, "unexpected end of file");
	free(g.data);
}

static void test_corrupt(void)
{
	unsigned char *m = malloc(ml);
	require(m);
	memcpy(m, member, ml);
	memset(m + ml / 2, 0xff, 64);
	check_damaged(m, ml, "corrupt");
	free(m);
}

/* closing after one piece while the thread has more ready or is inflating */
static void test_close_ahead(void)
{
	for (int i = 0; i < 20; i++) {
		Gz *z;
		require(gz_open(&z, file_with(member, ml)) == 0);
		require(gz_ahead(z) == 0);
		check(gz_ahead(z) == 0); /* once is enough */
		const char *p;
		if (i % 2)
			check(gz_next(z, &p) > 0);
		check(gz_close(z) == NULL);
	}
	check(gz_close(NULL) == NULL);
}

static void test_empty(void)
{
	for (int ahead = 0; ahead < 2; ahead++) {
		Got g = inflate_all("", 0, ahead);
		check_u64(g.len, 0);
		check(g.end == 0 || g.end == -EIO); /* ISA-L: no gzip header is damage; zlib: empty */
		free(g.data);
	}
}

int main(void)
{
	text = make_text(&tl);
	member = gzip(text, tl, &ml);
	test_run(test_members_and_garbage);
	test_run(test_truncated);
	test_run(test_corrupt);
	test_run(test_close_ahead);
	test_run(test_empty);
	free(member);
	free(text);
	return test_exit();
}

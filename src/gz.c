/*
 * gz.c - a .gz file as a stream of decompressed pieces (see gz.h).
 *
 * DESCRIPTION
 *	The Inflater turns the file into bytes: ISA-L's inflate when it was
 *	built with it (HAVE_ISAL), else zlib's gzread(). zlib alone took about
 *	as long as parsing the lines (0.70 s against ISA-L's 0.14 s of CPU for
 *	the 139 MB benchmark log).
 *
 *	Ahead, a thread fills GZ_SLOTS pieces in a ring while the caller works
 *	on one. Two counters under one mutex say everything: pieces inflated
 *	(produced) and pieces handed back (consumed); the caller holds piece
 *	`consumed` between two gz_next() calls. The pieces are large (a few
 *	hundred handovers for the benchmark log), so a mutex and a condition
 *	variable cost nothing measurable and no spinning is needed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "config.h"
#include "gz.h"
#include "macro.h"

#if HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#define GZ_PIECE (128 * 1024) /* decompressed bytes per gz_next() */
#define GZ_SLOTS 4            /* pieces the thread may run ahead (512 KiB) */
#define GZ_IN (64 * 1024)     /* compressed bytes per read(2) */

#if HAVE_ISAL
typedef struct Inflater {
	int fd;
	const char *error;
	struct inflate_state st;
	uint8_t in[GZ_IN];
} Inflater;

static int inflater_init(Inflater *z, int fd)
{
	z->fd = fd;
	z->error = NULL;
	isal_inflate_init(&z->st);
	z->st.crc_flag = ISAL_GZIP;
	return 0;
}

/* inflater_read - up to n decompressed bytes; 0 at the end, -EIO (z->error)
 * on corrupt or truncated input, or a read(2) error. What was decompressed
 * before the damage is returned first. */
static ssize_t inflater_read(Inflater *z, char *out, size_t n)
{
	struct inflate_state *st = &z->st;
	if (z->error)
		return -EIO;
	st->next_out = (uint8_t *)out;
	st->avail_out = (uint32_t)MIN(n, (size_t)UINT32_MAX);
	while (st->avail_out > 0) {
		if (st->avail_in == 0) {
			ssize_t k = read(z->fd, z->in, sizeof(z->in));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -errno;
			if (k == 0) {
				if (st->block_state == ISAL_BLOCK_FINISH)
					break;
				z->error = "unexpected end of file";
				break;
			}
			st->next_in = z->in;
			st->avail_in = (uint32_t)k;
		}
		if (st->block_state == ISAL_BLOCK_FINISH) {
			if (st->next_in[0] != 0x1f)
				break; /* trailing garbage after a member ends the file, as in gzread() */
			uint8_t *next_in = st->next_in;
			uint32_t avail_in = st->avail_in;
			isal_inflate_reset(st);
			st->crc_flag = ISAL_GZIP;
			st->next_in = next_in;
			st->avail_in = avail_in;
		}
		if (isal_inflate(st) != ISAL_DECOMP_OK) {
			z->error = "invalid or corrupt gzip data";
			break;
		}
	}
	size_t got = n - st->avail_out;
	return got > 0 || !z->error ? (ssize_t)got : -EIO;
}

static void inflater_deinit(Inflater *z)
{
	close(z->fd);
}
#else
typedef struct Inflater {
	gzFile f;
	const char *error;
} Inflater;

static int inflater_init(Inflater *z, int fd)
{
	z->error = NULL;
	if (!(z->f = gzdopen(fd, "rb"))) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static ssize_t inflater_read(Inflater *z, char *out, size_t n)
{
	int k = gzread(z->f, out, (unsigned)MIN(n, (size_t)INT_MAX));
	int e = Z_OK;
	const char *msg = gzerror(z->f, &e);
	/* a truncated file ends with 0 and Z_BUF_ERROR, not with an error */
	if (e != Z_OK)
		z->error = e == Z_BUF_ERROR ? "unexpected end of file" : msg;
	return k >= 0 ? k : -EIO;
}

static void inflater_deinit(Inflater *z)
{
	gzclose(z->f);
}
#endif

struct Gz {
	Inflater z;
	char *mem;                /* GZ_SLOTS pieces (one is used without the thread) */
	ssize_t len[GZ_SLOTS];    /* what inflater_read() returned for each */
	bool ahead;               /* the thread runs */
	bool held;                /* the caller holds piece `consumed` */
	bool quit;
	uint64_t produced, consumed;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

int gz_open(Gz **ret, int fd)
{
	Gz *g = calloc(1, sizeof(*g));
	if (!g) {
		close(fd);
		return -ENOMEM;
	}
	int r = inflater_init(&g->z, fd);
	if (r < 0) {
		free(g);
		return r;
	}
	/* calloc(): pieces never inflated into stay untouched */
	if (!(g->mem = calloc(GZ_SLOTS, GZ_PIECE))) {
		inflater_deinit(&g->z);
		free(g);
		return -ENOMEM;
	}
	*ret = g;
	return 0;
}

static void *inflate_ahead(void *arg)
{
	Gz *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->lock);
		while (g->produced - g->consumed == GZ_SLOTS && !g->quit)
			pthread_cond_wait(&g->cond, &g->lock);
		bool quit = g->quit;
		size_t i = g->produced % GZ_SLOTS;
		pthread_mutex_unlock(&g->lock);
		if (quit)
			return NULL;
		ssize_t n = inflater_read(&g->z, g->mem + i * GZ_PIECE, GZ_PIECE);
		pthread_mutex_lock(&g->lock);
		g->len[i] = n;
		g->produced++;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		if (n <= 0)
			return NULL; /* the end stays in its slot for every later gz_next() */
	}
}

int gz_ahead(Gz *g)
{
	if (g->ahead)
		return 0;
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		return -ENOMEM;
	pthread_cond_init(&g->cond, NULL);
	int r = pthread_create(&g->thread, NULL, inflate_ahead, g);
	if (r != 0) {
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->lock);
		return -r;
	}
	g->ahead = true;
	return 0;
}

ssize_t gz_next(Gz *g, const char **ret)
{
	if (!g->ahead) {
		*ret = g->mem;
		return inflater_read(&g->z, g->mem, GZ_PIECE);
	}
	pthread_mutex_lock(&g->lock);
	if (g->held) {
		g->consumed++;
		g->held = false;
		pthread_cond_broadcast(&g->cond);
	}
	while (g->consumed == g->produced)
		pthread_cond_wait(&g->cond, &g->lock);
	size_t i = g->consumed % GZ_SLOTS;
	ssize_t n = g->len[i];
	g->held = n > 0;
	pthread_mutex_unlock(&g->lock);
	*ret = g->mem + i * GZ_PIECE;
	return n;
}

const char *gz_error(const Gz *g)
{
	return g->z.error;
}

Gz *gz_close(Gz *g)
{
	if (!g)
		return NULL;
	if (g->ahead) {
		pthread_mutex_lock(&g->lock);
		g->quit = true;
		pthread_cond_broadcast(&g->cond);
		pthread_mutex_unlock(&g->lock);
		pthread_join(g->thread, NULL);
		pthread_cond_destroy(&g->cond);
		pthread_mutex_destroy(&g->lock);
	}
	inflater_deinit(&g->z);
	free(g->mem);
	free(g);
	return NULL;
}

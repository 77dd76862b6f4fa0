/*
 * statefile.c - atomic replace of small state files (cursor, peer windows).
 *
 * DIAGNOSTICS
 *	statefile_read() returns -EISDIR for a directory and -EINVAL for any
 *	other file that is not a regular file (a FIFO, a device); it never
 *	blocks in open().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefile.h"

const char *statefile_dir_default(void)
{
	static char dir[4096];
	const char *e = getenv("STATE_DIRECTORY");
	if (!e || !*e)
		return NULL;
	size_t n = strcspn(e, ":");
	if (n >= sizeof(dir))
		return NULL;
	memcpy(dir, e, n);
	dir[n] = '\0';
	return dir;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int statefile_write(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[4096], dst[4096];
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst))
		return -ENAMETOOLONG;

	/* O_NONBLOCK: a FIFO planted at the temporary name fails (ENXIO)
	 * instead of blocking start-up until someone reads it. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0)
		return -errno;
	int r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* The rename is durable only once the directory entry is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}

int statefile_read(const char *dir, const char *name, size_t max_len, Buf *out)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	buf_clear(out);
	/* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((size_t)st.st_size > max_len) {
		close(fd);
		return -EFBIG;
	}
	int r = 0;
	for (;;) {
		if ((r = buf_reserve(out, 65536)) < 0)
			break;
		ssize_t n = read(fd, out->data + out->len, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max_len) {
			r = -EFBIG;
			break;
		}
	}
	close(fd);
	return r;
}

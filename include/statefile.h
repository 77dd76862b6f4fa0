/*
 * statefile.h - small files in the state directory, replaced atomically.
 *
 * statefile_write() writes "<dir>/.<name>.tmp", fsyncs it, renames it over
 * "<dir>/<name>" and fsyncs the directory, so a crash leaves either the old
 * or the new content, never a torn file. Readers bound what they accept.
 */
#pragma once

#include <stddef.h>

#include "buf.h"

/* statefile_dir_default - $STATE_DIRECTORY (first entry if ':'-separated) or NULL. */
const char *statefile_dir_default(void);

int statefile_write(const char *dir, const char *name, const void *data, size_t len);
/* statefile_read - read at most max_len bytes into *out (cleared first).
 * Never blocks in open() (a FIFO in its place is refused).
 * Return: 0, -ENOENT if absent, -EFBIG if larger than max_len, -EISDIR for a
 * directory, -EINVAL for another file that is not a regular file, other -errno. */
int statefile_read(const char *dir, const char *name, size_t max_len, Buf *out);

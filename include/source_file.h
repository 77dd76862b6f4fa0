/*
 * source_file.h - follow a log file like "tail -F", or read it once.
 *
 * DESCRIPTION
 *	inotify on the file's directory wakes the reader; it then reads to the
 *	end of the open file and checks the path: a new inode (rename+create
 *	rotation, delete+re-create) is opened from its beginning once the old
 *	one is drained; a size below the read offset (copytruncate) restarts
 *	at 0. A line is passed on only once its newline has arrived. "-" is
 *	standard input; read to the end (--once, report), a pipe or device
 *	named by path is read like it, blocking. Compressed files (gzip magic)
 *	are read whole through gz.h (not followed).
 * LIMITS
 *	Lines longer than the ingest's max_line are skipped and counted.
 *	With a state directory, the position (inode, offset, hash of the first
 *	bytes) is saved and resumed, also across one rename rotation (PATH.1).
 */
#pragma once

#include <stdbool.h>

#include "source.h"
#include "store.h"

typedef struct SourceFileConfig {
	const char *path;      /* "-" for standard input */
	SourceStart start;
	bool follow;           /* false: read to the current end, then report idle */
	const char *state_dir; /* NULL: no resume */
} SourceFileConfig;

int source_file_new(Source **ret, Ingest *ingest, Store *store, const SourceFileConfig *cfg);

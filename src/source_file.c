/*
 * source_file.c - tail -F for one path (see source_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "gz.h"
#include "log.h"
#include "logline.h"
#include "macro.h"
#include "metrics.h"
#include "source_file.h"
#include "statefile.h"
#include "util.h"
#include "utf8.h"

#define READ_CHUNK (64 * 1024)     /* ~500 lines: the deadline is checked per chunk */
#define HEAD_HASH_BYTES 256          /* identity of a file: hash of its first bytes */
#define STATE_MAX 4096
#define RECHECK_USEC (1 * USEC_PER_SEC) /* path check when inotify is silent (NFS) */
#define RETRY_MAX_USEC (60 * USEC_PER_SEC) /* longest wait between opens of a file we may not read */

typedef struct SourceFile {
	Source base;
	Ingest *ingest;
	Store *store;
	char *path;
	char *dir;
	char *state_name;
	const char *state_dir;
	SourceStart start;
	bool follow;
	bool is_stdin;
	bool stream;       /* stdin, a pipe or a character device: no size, no offset, no rotation */
	bool eof;          /* stream closed, or a whole read (--once, report) done */
	int fd;
	Gz *gz;
	bool gz_started;   /* gz_ahead() was considered */
	int inotify_fd;
	dev_t dev;
	ino_t ino;
	off_t offset;      /* bytes consumed from fd (complete lines and the partial buffer) */
	off_t line_start;  /* file offset of the first byte of the line not yet complete */
	Buf partial;       /* bytes of a line whose newline has not arrived */
	bool skipping;     /* inside an oversized line: drop until newline */
	char *chunk;
	bool warned_missing;
	int open_error;        /* last refused open (-EACCES, -EISDIR, ...), logged once */
	int64_t retry_usec;    /* CLOCK_MONOTONIC µs before which no open is tried again */
	int64_t backoff_usec;  /* doubles after each refused open, up to RETRY_MAX_USEC */
} SourceFile;

/* open_hint - what to do about an open() error on a log file */
static const char *open_hint(int r)
{
	switch (-r) {
	case ENOENT:
		return " (is Postfix logging to the journal? then use --source.journal; to its own file? "
		       "see postconf -h maillog_file)";
	case EACCES:
		return geteuid() == 0 ? ""
				      : " (this user may not read it: add it to the group that owns the log, "
					"usually adm: usermod -aG adm USER)";
	case EISDIR:
		return " (a directory: name the log file in it, e.g. DIR/mail.log)";
	case EINVAL:
		return " (not a regular file, FIFO or standard input)";
	}
	return "";
}

static void set_up(SourceFile *f, bool up)
{
	ingest_sync(f->ingest); /* the store is the second thread's while it counts */
	f->base.up = up;
	Slice l[] = { slice_from(f->base.name) };
	store_set(f->store, M_SOURCE_UP, l, up ? 1 : 0);
}

static void close_file(SourceFile *f)
{
	if (f->gz) {
		f->gz = gz_close(f->gz);
		f->gz_started = false;
		f->fd = -1;
	}
	if (f->fd >= 0 && !f->is_stdin)
		close(f->fd);
	f->fd = -1;
	f->offset = 0;
	f->line_start = 0;
	buf_clear(&f->partial);
	f->skipping = false;
}

/* feed - split a chunk read at file offset base into lines; complete lines
 * go to the ingest. */
static void feed(SourceFile *f, off_t base, const char *p, size_t n)
{
	size_t max = ingest_max_line(f->ingest);
	const char *chunk = p, *end = p + n;
	while (p < end) {
		bool printable;
		const char *nl = utf8_line_end(p, end, &printable);
		if (!nl) {
			size_t rest = (size_t)(end - p);
			if (!f->skipping) {
				if (f->partial.len + rest > max) {
					f->skipping = true;
					buf_clear(&f->partial);
				} else if (buf_append(&f->partial, p, rest), buf_error(&f->partial)) {
					f->skipping = true; /* out of memory: lose this line, not the daemon */
					buf_clear(&f->partial);
				}
			}
			return;
		}
		size_t len = (size_t)(nl - p);
		if (f->skipping) {
			f->skipping = false;
			ingest_oversized(f->ingest);
			ingest_line(f->ingest, "", 0);
		} else if (f->partial.len) {
			if (f->partial.len + len > max) {
				ingest_oversized(f->ingest);
				ingest_line(f->ingest, "", 0);
			} else if (buf_append(&f->partial, p, len), !buf_error(&f->partial)) {
				ingest_line(f->ingest, f->partial.data, f->partial.len);
			}
			buf_clear(&f->partial);
		} else if (len > max) {
			ingest_oversized(f->ingest);
			ingest_line(f->ingest, "", 0);
		} else if (printable) {
			ingest_line_printable(f->ingest, p, len);
		} else {
			ingest_line(f->ingest, p, len);
		}
		p = nl + 1;
		f->line_start = base + (off_t)(p - chunk);
	}
}

static uint64_t head_hash(int fd, size_t *ret_len)
{
	char b[HEAD_HASH_BYTES];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	if (n < 0)
		n = 0;
	*ret_len = (size_t)n;
	return hash64(b, (size_t)n, 0x5eed);
}

static int open_path(SourceFile *f, const char *path, bool from_start)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* A directory opens fine and then fails every read: refuse it here,
	 * once, instead of spinning on EISDIR. */
	struct stat st;
	int r = fstat(fd, &st) < 0				     ? -errno
		: S_ISDIR(st.st_mode)				     ? -EISDIR
		: S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) ? 0
									     : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) && !f->follow) {
		/* A pipe (report <(zcat mail.log.*.gz), /dev/stdin) is read to
		 * its end like standard input: blocking, since with O_NONBLOCK
		 * "no data yet" would end the read early and count a part of
		 * it. The blocking open waits for a named pipe's writer. */
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
	}
	unsigned char magic[2];
	bool gz = S_ISREG(st.st_mode) && pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
	close_file(f);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	/* Followed, a named pipe stays on inotify like a file (a writer such
	 * as rsyslog's ompipe reopens it). */
	f->stream = !S_ISREG(st.st_mode) && !f->follow;
	if (gz) {
		/* Rotated and compressed logs (mail.log.2.gz) are read whole, once. */
		if ((r = gz_open(&f->gz, fd)) < 0)
			return r;
		f->fd = fd;
		return 0;
	}
	f->fd = fd;
	if (!from_start) {
		f->offset = f->line_start = st.st_size;
		lseek(fd, st.st_size, SEEK_SET);
	}
	return 0;
}

/* flush_partial - at the end of a whole-file read (--once, report) a last
 * line without its newline still counts; a follower waits for the newline. */
static void flush_partial(SourceFile *f)
{
	if (f->skipping) {
		f->skipping = false;
		ingest_oversized(f->ingest);
		ingest_line(f->ingest, "", 0);
	} else if (f->partial.len) {
		ingest_line(f->ingest, f->partial.data, f->partial.len);
	}
	buf_clear(&f->partial);
	f->line_start = f->offset;
}

/* note_open_error - a path that exists but may not be opened: say so once
 * per distinct error and retry with back-off, not every second */
static void note_open_error(SourceFile *f, int r)
{
	if (r != f->open_error)
		log_warn("source %s: cannot open '%s': %s%s; retrying with back-off (up to every %llds), "
			 "source_up is 0",
			 f->path, f->path, strerror(-r), open_hint(r), (long long)(RETRY_MAX_USEC / USEC_PER_SEC));
	f->open_error = r;
	f->backoff_usec = f->backoff_usec ? f->backoff_usec * 2 : RECHECK_USEC;
	if (f->backoff_usec > RETRY_MAX_USEC)
		f->backoff_usec = RETRY_MAX_USEC;
	f->retry_usec = now_monotonic_usec() + f->backoff_usec;
}

static void note_opened(SourceFile *f)
{
	if (f->open_error)
		log_info("source %s: opened after %s", f->path, strerror(-f->open_error));
	f->open_error = 0;
	f->backoff_usec = 0;
	f->retry_usec = 0;
}

/* gz_end - at the end of a compressed file: was it whole? */
static void gz_end(SourceFile *f)
{
	const char *msg = gz_error(f->gz);
	if (msg) {
		f->base.damaged = true;
		/* zlib names a gzdopen()ed file "<fd:N>: "; we have its name */
		const char *colon = !strncmp(msg, "<fd:", 4) ? strstr(msg, ": ") : NULL;
		log_warn("%s is %s (gzip: %s); only the lines before the damage were read", f->path,
			 !strcmp(msg, "unexpected end of file") ? "truncated" : "damaged", colon ? colon + 2 : msg);
	}
	f->eof = true;
	/* Now, not when the sources are freed: a report over a month of
	 * rotated .gz files would hold each one's buffers (and thread) to
	 * the end. gz_close() closes the file. */
	f->gz = gz_close(f->gz);
	f->fd = -1;
}

/* read_fd - read to EOF or deadline. Return 1 if the deadline cut it short. */
static int read_fd(SourceFile *f, int64_t deadline)
{
	if (f->gz && !f->gz_started) {
		f->gz_started = true;
		/* While a second thread counts, this one would otherwise
		 * inflate and parse in turn, the slower half by far. A third
		 * thread pays only with a third CPU: on two, three threads
		 * took as long as two (docs/development.md). */
		if (ingest_pipelined(f->ingest) && cpus_available() > 2 && gz_ahead(f->gz) < 0)
			log_debug("source %s: inflating in the reading thread", f->path);
	}
	/* Allocated when first read, and freed when a whole read ends: the
	 * next file's read reuses the same memory. */
	if (!f->gz && !f->chunk && !(f->chunk = malloc(READ_CHUNK)))
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		const char *p = f->chunk;
		if (f->gz) {
			n = gz_next(f->gz, &p);
			if (n < 0) {
				gz_end(f);
				return 0;
			}
		} else {
			n = read(f->fd, f->chunk, READ_CHUNK);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0) {
			if (f->gz)
				gz_end(f);
			if (f->stream)
				f->eof = true;
			if (!f->follow) {
				flush_partial(f);
				/* Read whole: done with it. A report over a year
				 * of rotated files then touches one buffer, not 365. */
				f->eof = true;
				close_file(f);
				free(f->chunk);
				f->chunk = NULL;
			}
			return 0;
		}
		if (f->stream && f->offset == 0 && n >= 2 && (unsigned char)p[0] == 0x1f &&
		    (unsigned char)p[1] == 0x8b) {
			/* A pipe cannot be peeked at before it is read, as a file is */
			log_warn("%s is gzip-compressed data on a pipe, which is not decompressed: name the .gz file, "
				 "or decompress it into the pipe (zcat)", f->path);
			f->base.damaged = true;
			f->eof = true;
			return 0;
		}
		feed(f, f->offset, p, (size_t)n);
		f->offset += n;
		if (now_monotonic_usec() >= deadline)
			return 1;
	}
}

/* check_path - after draining: has the path moved on (rotation, truncation)? */
static void check_path(SourceFile *f)
{
	struct stat st;
	if (stat(f->path, &st) < 0) {
		/* Deleted or renamed without a successor yet: keep the old fd (a
		 * writer may still append to it) until a new file appears. */
		if (f->fd < 0 && !f->warned_missing) {
			log_info("source %s: waiting for the file to appear", f->path);
			f->warned_missing = true;
		}
		return;
	}
	f->warned_missing = false;
	if (f->fd < 0 || st.st_ino != f->ino || st.st_dev != f->dev) {
		if (f->open_error && now_monotonic_usec() < f->retry_usec)
			return;
		if (f->fd >= 0) {
			/* The writer may have appended to the old file between our last
			 * read and its reopen (rsyslog after logrotate's mv): drain it. */
			if (read_fd(f, INT64_MAX) < 0)
				log_warn("source %s: reading the rotated file failed", f->path);
			/* Once: a new file we may not open is retried with back-off
			 * (note_open_error), each retry coming through here again. */
			if (!f->open_error)
				log_info("source %s: rotated, following the new file", f->path);
		}
		/* A file that appears after start-up holds only new lines. */
		int r = open_path(f, f->path, true);
		if (r < 0)
			note_open_error(f, r);
		else
			note_opened(f);
		set_up(f, r >= 0);
		return;
	}
	if (f->gz)
		return;
	struct stat fst;
	if (fstat(f->fd, &fst) == 0 && S_ISREG(fst.st_mode) && fst.st_size < f->offset) {
		log_info("source %s: truncated, reading from the start", f->path);
		lseek(f->fd, 0, SEEK_SET);
		f->offset = f->line_start = 0;
		buf_clear(&f->partial);
		f->skipping = false;
	}
}

static void drain_inotify(SourceFile *f)
{
	char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(f->inotify_fd, b, sizeof(b)) > 0)
		;
}

static int sf_process(Source *s, int64_t deadline)
{
	SourceFile *f = (SourceFile *)s;
	if (f->inotify_fd >= 0)
		drain_inotify(f);
	if (f->eof)
		return 0;
	for (int round = 0; round < 4; round++) {
		if (f->fd >= 0 || f->gz) {
			int r = read_fd(f, deadline);
			if (r == 1)
				return 1;
			if (r < 0) {
				log_errno(LOG_LEVEL_WARN, r, "source %s: read", f->path);
				close_file(f);
				set_up(f, false);
			}
		}
		if (f->stream || f->gz || f->eof)
			return 0;
		ino_t ino = f->ino;
		int fd = f->fd;
		off_t off = f->offset;
		check_path(f);
		/* Unchanged: idle. A new or truncated file is read in this call. */
		if (f->fd == fd && f->ino == ino && f->offset == off)
			return 0;
	}
	return 1;
}

static int sf_fd(Source *s)
{
	SourceFile *f = (SourceFile *)s;
	if (f->stream)
		return f->eof ? -1 : f->fd;
	return f->inotify_fd;
}

static int64_t sf_timeout(Source *s)
{
	SourceFile *f = (SourceFile *)s;
	return f->follow && !f->stream ? RECHECK_USEC : -1;
}

/* State: "v1 <dev> <ino> <offset> <headlen> <headhash>\n" */
static int sf_save_state(Source *s)
{
	SourceFile *f = (SourceFile *)s;
	if (!f->state_dir || f->stream || f->gz || f->fd < 0)
		return 0;
	size_t hl;
	uint64_t hh = head_hash(f->fd, &hl);
	/* Resume at the start of the incomplete line (also one being skipped
	 * as oversized), which will be read again whole. */
	off_t pos = f->line_start;
	char b[256];
	int n = snprintf(b, sizeof(b), "v1 %llu %llu %lld %zu %016llx\n", (unsigned long long)f->dev,
			 (unsigned long long)f->ino, (long long)pos, hl, (unsigned long long)hh);
	return statefile_write(f->state_dir, f->state_name, b, (size_t)n);
}

/* resume - position from the state file, if it still describes this file
 * or its first rotation (PATH.1). Return true when positioned. */
static bool resume(SourceFile *f)
{
	Buf b = BUF_NULL;
	int r = statefile_read(f->state_dir, f->state_name, STATE_MAX, &b);
	if (r < 0) {
		if (r != -ENOENT)
			log_errno(LOG_LEVEL_WARN, r, "source %s: state file %s/%s ignored", f->path, f->state_dir,
				  f->state_name);
		buf_deinit(&b);
		return false;
	}
	unsigned long long dev, ino, hh;
	long long pos;
	size_t hl;
	bool ok = sscanf(buf_cstr(&b), "v1 %llu %llu %lld %zu %llx", &dev, &ino, &pos, &hl, &hh) == 5 && pos >= 0;
	buf_deinit(&b);
	if (!ok) {
		log_warn("source %s: state file %s/%s is corrupt, ignored", f->path, f->state_dir, f->state_name);
		return false;
	}
	char rotated[4096];
	snprintf(rotated, sizeof(rotated), "%s.1", f->path);
	const char *candidates[] = { f->path, rotated };
	for (int i = 0; i < 2; i++) {
		struct stat st;
		if (stat(candidates[i], &st) < 0 || st.st_ino != (ino_t)ino || st.st_dev != (dev_t)dev ||
		    st.st_size < pos)
			continue;
		if (open_path(f, candidates[i], true) < 0 || f->gz) {
			close_file(f);
			continue;
		}
		size_t l;
		if (head_hash(f->fd, &l) != hh || (l < hl)) {
			close_file(f);
			continue;
		}
		lseek(f->fd, pos, SEEK_SET);
		f->offset = f->line_start = pos;
		log_info("source %s: resuming %s at offset %lld", f->path, candidates[i], pos);
		if (i == 1) {
			/* Finish the rotated file; check_path() then moves to the new one. */
			f->ino = st.st_ino;
		}
		return true;
	}
	log_info("source %s: saved position no longer matches the file, starting at the %s", f->path,
		 f->start == SOURCE_START_BEGINNING ? "beginning" : "end");
	return false;
}

static Source *sf_free(Source *s)
{
	SourceFile *f = (SourceFile *)s;
	if (!f)
		return NULL;
	close_file(f);
	if (f->inotify_fd >= 0)
		close(f->inotify_fd);
	buf_deinit(&f->partial);
	free(f->chunk);
	free(f->path);
	free(f->dir);
	free(f->state_name);
	free(f->base.name);
	free(f);
	return NULL;
}

static const SourceOps source_file_ops = {
	.kind = "file",
	.fd = sf_fd,
	.timeout_usec = sf_timeout,
	.process = sf_process,
	.save_state = sf_save_state,
	.free = sf_free,
};

int source_file_new(Source **ret, Ingest *ingest, Store *store, const SourceFileConfig *cfg)
{
	SourceFile *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->base.ops = &source_file_ops;
	f->ingest = ingest;
	f->store = store;
	f->start = cfg->start;
	f->follow = cfg->follow;
	f->fd = -1;
	f->inotify_fd = -1;
	f->path = strdup(cfg->path);
	char name[4200];
	snprintf(name, sizeof(name), "file:%s", cfg->path);
	f->base.name = strdup(name);
	if (!f->path || !f->base.name) {
		sf_free(&f->base);
		return -ENOMEM;
	}
	if (!strcmp(cfg->path, "-")) {
		f->is_stdin = f->stream = true;
		f->fd = STDIN_FILENO;
		/* --once reads standard input to its end: block for it. */
		if (f->follow)
			fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) | O_NONBLOCK);
		set_up(f, true);
		*ret = &f->base;
		return 0;
	}
	char *tmp = strdup(cfg->path);
	f->dir = tmp ? strdup(dirname(tmp)) : NULL;
	free(tmp);
	if (!f->dir) {
		sf_free(&f->base);
		return -ENOMEM;
	}
	if (cfg->state_dir) {
		char sn[64];
		snprintf(sn, sizeof(sn), "file-%016llx.pos",
			 (unsigned long long)hash64(cfg->path, strlen(cfg->path), 0x51a7e));
		f->state_name = strdup(sn);
		f->state_dir = cfg->state_dir;
	}
	if (f->follow) {
		f->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (f->inotify_fd < 0 ||
		    inotify_add_watch(f->inotify_fd, f->dir,
				      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB |
					      IN_CLOSE_WRITE) < 0) {
			int r = -errno;
			log_errno(LOG_LEVEL_ERROR, r, "source %s: inotify on '%s'", f->path, f->dir);
			sf_free(&f->base);
			return r;
		}
	}
	if (!(f->state_name && resume(f))) {
		bool from_start = f->start == SOURCE_START_BEGINNING || !f->follow;
		int r = open_path(f, f->path, from_start);
		if (r < 0 && !f->follow) {
			log_error("cannot open '%s': %s%s", f->path, strerror(-r), open_hint(r));
			sf_free(&f->base);
			return r;
		}
		if (r == -ENOENT) {
			log_info("source %s: does not exist yet, waiting for it%s", f->path, open_hint(r));
			f->warned_missing = true;
		} else if (r < 0) {
			note_open_error(f, r);
		} else if (f->follow) {
			log_info("source %s: reading from the %s%s", f->path,
				 from_start ? "beginning (--source.start=beginning)" : "end (only new lines; --source.start=end)",
				 f->state_name ? "" : "; no --state.directory, so the position is not saved");
		}
	}
	set_up(f, f->fd >= 0);
	*ret = &f->base;
	return 0;
}

/* ---- the "file" source type ------------------------------------------------- */

static StrList arg_files;

static const Flag source_file_flags[] = {
	{ "source.file", FLAG_LIST, &arg_files, "PATH", NULL, "Log file to follow (repeatable; '-' reads standard input, and a pipe named by path is read to its end like it). Rotation by rename, copytruncate and re-creation is followed.", true },
	FLAG_END,
};

static bool source_file_wanted(const SourceEnv *env)
{
	return arg_files.n > 0 || (env->paths && env->paths[0]);
}

static int source_file_open_path(const SourceEnv *env, const char *path)
{
	Source *s;
	SourceFileConfig c = { .path = path, .start = env->start, .follow = env->follow, .state_dir = env->state_dir };
	int r = source_file_new(&s, env->ingest, env->store, &c);
	if (r == -ENOMEM)
		return log_errno(LOG_LEVEL_ERROR, r, "cannot open '%s'", path);
	if (r < 0)
		return r; /* logged, with a hint */
	if ((r = env->add(env->userdata, s)) < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "adding source '%s'", path);
	return 0;
}

/* How far into a file first_timestamp() looks for a syslog header. */
#define FIRST_TS_LINES 64

/* first_timestamp - log time of the first parsable line of a plain or gzip
 * regular file (gzread passes plain files through), or INT64_MAX when there
 * is none (empty, unreadable). */
static int64_t first_timestamp(const char *path, size_t max_line)
{
	int64_t ts = INT64_MAX;
	LoglineClock *clk = NULL;
	char *line = malloc(max_line + 2);
	gzFile gz = gzopen(path, "rb");
	if (line && gz && logline_clock_new(&clk, now_realtime_usec()) >= 0) {
		for (int i = 0; i < FIRST_TS_LINES && gzgets(gz, line, (int)max_line + 2); i++) {
			LogLine ll;
			size_t len = strcspn(line, "\r\n");
			if (logline_parse(clk, line, len, &ll) == 0 && ll.ts_usec) {
				ts = ll.ts_usec;
				break;
			}
		}
	}
	logline_clock_free(clk);
	if (gz)
		gzclose(gz);
	free(line);
	return ts;
}

typedef struct Input {
	const char *path;
	size_t index;      /* command-line order, the tie breaker */
	int64_t first_ts;
	char *canon;       /* realpath(), or NULL: what names the same file */
	dev_t dev;         /* of a regular file read whole, else 0 */
	ino_t ino;
} Input;

/* same_input - whether a and b name one file: the same inode for whole
 * reads (a hard link, a symlink, the path given twice), the same resolved
 * path when followed (the inode changes at each rotation, the path not).
 * Read twice, every line of it would count twice. */
static bool same_input(const Input *a, const Input *b, bool follow)
{
	if (!follow && a->dev && a->dev == b->dev && a->ino == b->ino)
		return true;
	const char *x = a->canon ? a->canon : a->path, *y = b->canon ? b->canon : b->path;
	return strcmp(x, "-") && !strcmp(x, y);
}

static int input_cmp(const void *a, const void *b)
{
	const Input *x = a, *y = b;
	if (x->first_ts != y->first_ts)
		return x->first_ts < y->first_ts ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* --source.file first, then the report subcommand's FILE arguments. Whole
 * files (--once, report) are read one after the other in the order of their
 * first timestamp: sessions and deliveries that cross a file boundary are
 * joined only when the older file comes first, and a shell globs mail.log*
 * newest first (mail.log, mail.log.1, mail.log.2.gz). */
static int source_file_open_all(const SourceEnv *env)
{
	size_t n = arg_files.n, n_paths = 0;
	while (env->paths && env->paths[n_paths])
		n_paths++;
	_cleanup_free_ Input *in = calloc(n + n_paths, sizeof(*in));
	if (!in)
		return log_errno(LOG_LEVEL_ERROR, -ENOMEM, "opening the log files");
	for (size_t i = 0; i < n + n_paths; i++) {
		in[i].path = i < n ? arg_files.v[i] : env->paths[i - n];
		in[i].index = i;
		struct stat st;
		bool is_stdin = !strcmp(in[i].path, "-");
		if (!env->follow && (is_stdin ? fstat(STDIN_FILENO, &st) : stat(in[i].path, &st)) == 0 &&
		    S_ISREG(st.st_mode)) {
			in[i].dev = st.st_dev;
			in[i].ino = st.st_ino;
		}
		in[i].canon = is_stdin ? NULL : realpath(in[i].path, NULL);
		/* Standard input and other pipes are not peeked at (that would
		 * consume their bytes): they sort last, with INT64_MAX. */
		in[i].first_ts = in[i].dev && !is_stdin ? first_timestamp(in[i].path, ingest_max_line(env->ingest))
							: INT64_MAX;
	}
	qsort(in, n + n_paths, sizeof(*in), input_cmp);
	int r = 0;
	for (size_t i = 0; i < n + n_paths && r >= 0; i++) {
		size_t j = 0;
		while (j < i && !same_input(&in[j], &in[i], env->follow))
			j++;
		if (j < i && !strcmp(in[i].path, in[j].path))
			log_warn("'%s' is named twice: reading it once", in[i].path);
		else if (j < i)
			log_warn("'%s' is the same file as '%s': reading it once", in[i].path, in[j].path);
		else
			r = source_file_open_path(env, in[i].path);
	}
	for (size_t i = 0; i < n + n_paths; i++)
		free(in[i].canon);
	return r;
}

const SourceType source_type_file = {
	.name = "file",
	.flags = source_file_flags,
	.wanted = source_file_wanted,
	.open = source_file_open_all,
};

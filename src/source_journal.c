/*
 * source_journal.c - follow Postfix in the systemd journal (sd-journal).
 *
 * DESCRIPTION
 *	Opens the local system journal, a directory (--source.journal.directory)
 *	or a list of files (--source.journal.file), selects entries with
 *	journal matches (SYSLOG_FACILITY=2 unless the user gave others) and
 *	hands MESSAGE, SYSLOG_IDENTIFIER, SYSLOG_PID (else _PID), _HOSTNAME and
 *	the entry's realtime stamp to ingest_entry(), which applies the
 *	syslog-name rule. No text header is ever parsed.
 *
 *	The event loop polls an epoll fd owned by this source that contains the
 *	journal's inotify fd. The journal is closed and reopened after errors,
 *	which changes the inotify fd; the epoll fd stays the same, so the loop
 *	never holds a stale descriptor.
 *
 *	Position: after each batch of SOURCE_JOURNAL_BATCH entries and at the
 *	end of every process() call the cursor of the last fully handled entry
 *	becomes the checkpoint. sd_journal_get_cursor() costs about as much as
 *	reading the entry itself, so it is not taken per entry; instead the
 *	number of entries handled since the checkpoint is kept, which is enough
 *	to come back to the exact place after a reopen. The checkpoint is saved
 *	to "journal.cursor" (cursor + realtime) at most every
 *	SOURCE_JOURNAL_SAVE_INTERVAL_USEC and whenever save_state is called.
 *
 *	SIGBUS: sd-journal < 255 reads files through mmap and takes SIGBUS when
 *	journald truncates a file it has mapped. process() runs inside a
 *	sigbus_arm() region; sigbus.c lays a zero page over the fault and
 *	counts it. The count is compared after every sd-journal call and after
 *	an entry's fields were copied out of the mapping (so no byte of a
 *	garbage entry reaches the ingest). On a fault the journal is closed
 *	and reopened at the checkpoint, skipping the entries handled since.
 * LIMITS
 *	MESSAGE is read up to ingest_max_line() bytes: the data threshold is set
 *	just above it, which also keeps sd-journal from decompressing large
 *	fields we never look at. Longer messages are dropped and counted as
 *	oversized, like long lines of the file source (whose limit applies to
 *	the whole line, ours to MESSAGE). The cursor file is at most
 *	STATE_MAX bytes.
 * DIAGNOSTICS
 *	Logs (warn) a corrupt or stale cursor file, reopens, failed saves (once
 *	per streak). process() only returns a negative errno for -ENOMEM;
 *	journal trouble is retried and shown as source_up 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "buf.h"
#include "dynlib.h"
#include "log.h"
#include "macro.h"
#include "metrics.h"
#include "sigbus.h"
#include "source_journal.h"
#include "statefile.h"
#include "util.h"

#define STATE_MAX 4096
#define CURSOR_MAX 1024
#define DEFAULT_MATCH "SYSLOG_FACILITY=2"

/* returned internally when a SIGBUS was recovered: the journal must be reopened */
#define SJ_FAULT (-EFAULT)

typedef struct SourceJournal {
	Source base;
	Ingest *ingest;
	Store *store;

	/* copied configuration */
	SourceStart start;
	char *directory;
	char **files;
	char **matches;
	char *state_dir;
	int64_t max_resume_age_usec;
	bool follow;
	size_t max_line;

	sd_journal *j;        /* NULL while the journal is down */
	int epfd;             /* what the loop polls; contains jfd */
	int jfd;              /* the journal's inotify fd, or -1 */
	bool have_current;    /* positioned on an entry that is not handled yet */
	bool recovering;      /* reopened after an error, no entry handled since */

	char *cursor;              /* checkpoint: last fully handled entry, or NULL */
	uint64_t cursor_realtime;  /* its __REALTIME_TIMESTAMP */
	uint64_t since_cursor;     /* entries fully handled after the checkpoint */
	bool cursor_dirty;         /* checkpoint not saved yet */
	int64_t save_due_usec;     /* CLOCK_MONOTONIC */
	bool save_failed;          /* the last save failed (logged once per streak) */

	int64_t retry_usec;        /* CLOCK_MONOTONIC of the next reopen attempt */
	uint64_t sigbus_seen;      /* sigbus_faults() when the journal was opened */
	uint64_t entries_unflushed;

	Buf scratch;               /* entry fields copied out of the mapping */
} SourceJournal;

static SourceJournal *sj_of(Source *s)
{
	return (SourceJournal *)s;
}

static char **strv_free(char **v)
{
	if (v)
		for (char **p = v; *p; p++)
			free(*p);
	free(v);
	return NULL;
}

static int strv_copy(char **src, char ***ret)
{
	size_t n = 0;
	if (!src || !src[0]) {
		*ret = NULL;
		return 0;
	}
	while (src[n])
		n++;
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i]))) {
			strv_free(v);
			return -ENOMEM;
		}
	*ret = v;
	return 0;
}

static bool sj_faulted(const SourceJournal *sj)
{
	return sigbus_faults() != sj->sigbus_seen;
}

static void sj_set_up(SourceJournal *sj, bool up)
{
	Slice v = slice_from(sj->base.name);
	sj->base.up = up;
	(void)store_set(sj->store, M_SOURCE_UP, &v, up ? 1 : 0);
}

static void sj_flush_counts(SourceJournal *sj)
{
	if (sj->entries_unflushed == 0)
		return;
	(void)store_add(sj->store, M_JOURNAL_ENTRIES_READ, NULL, (double)sj->entries_unflushed);
	sj->entries_unflushed = 0;
}

static void sj_close(SourceJournal *sj)
{
	if (sj->jfd >= 0 && sj->epfd >= 0)
		(void)epoll_ctl(sj->epfd, EPOLL_CTL_DEL, sj->jfd, NULL);
	sj->jfd = -1;
	/* Unmaps every window, and with them any zero page sigbus.c laid over one. */
	sd_journal_close(sj->j);
	sj->j = NULL;
	sj->have_current = false;
}

static int sj_add_matches(SourceJournal *sj)
{
	static char *const default_matches[] = { DEFAULT_MATCH, NULL };
	char *const *m = sj->matches ? sj->matches : default_matches;
	for (; *m; m++) {
		int r;
		if (!strcmp(*m, "+"))
			r = sd_journal_add_disjunction(sj->j);
		else
			r = sd_journal_add_match(sj->j, *m, 0);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "source_journal: bad match '%s'", *m);
	}
	return 0;
}

/* sj_open - open the journal and register its fd; positions nothing. */
static int sj_open(SourceJournal *sj)
{
	int r;

	if (sj->files)
		r = sd_journal_open_files(&sj->j, (const char **)sj->files, 0);
	else if (sj->directory)
		r = sd_journal_open_directory(&sj->j, sj->directory, 0);
	else
		r = sd_journal_open(&sj->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0) {
		sj->j = NULL;
		return r;
	}
	sj->sigbus_seen = sigbus_faults();

	/* A hint only, but it keeps sd-journal from decompressing big fields
	 * (core dumps, _CMDLINE) that we never use; +1 tells a cut MESSAGE. */
	r = sd_journal_set_data_threshold(sj->j, sizeof("MESSAGE=") - 1 + sj->max_line + 1);
	if (r < 0)
		goto fail;
	r = sj_add_matches(sj);
	if (r < 0)
		goto fail;

	/* Take the inotify watches before positioning, so nothing written in
	 * between goes unnoticed. */
	sj->jfd = sd_journal_get_fd(sj->j);
	if (sj->jfd < 0) {
		r = sj->jfd;
		goto fail;
	}
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.fd = sj->jfd;
	if (epoll_ctl(sj->epfd, EPOLL_CTL_ADD, sj->jfd, &ev) < 0) {
		r = -errno;
		goto fail;
	}
	if (sj_faulted(sj)) {
		r = SJ_FAULT;
		goto fail;
	}
	return 0;
fail:
	sj_close(sj);
	return r;
}

/* sj_checkpoint - make the current entry (fully handled) the checkpoint. */
static int sj_checkpoint(SourceJournal *sj)
{
	char *c = NULL;
	uint64_t rt = 0;
	int r = sd_journal_get_cursor(sj->j, &c);
	if (r >= 0)
		r = sd_journal_get_realtime_usec(sj->j, &rt);
	if (sj_faulted(sj))
		r = SJ_FAULT;
	if (r < 0) {
		free(c);
		return r;
	}
	free(sj->cursor);
	sj->cursor = c;
	sj->cursor_realtime = rt;
	sj->since_cursor = 0;
	sj->cursor_dirty = true;
	return 0;
}

/* sj_seek_end - position on the last entry, which counts as handled. */
static int sj_seek_end(SourceJournal *sj)
{
	int r = sd_journal_seek_tail(sj->j);
	if (r < 0)
		return r;
	/* Never next() straight after seek_tail(): before v254 it returns old
	 * entries of every file (systemd#9934). previous() lands on the last one. */
	r = sd_journal_previous(sj->j);
	if (sj_faulted(sj))
		return SJ_FAULT;
	if (r < 0)
		return r;
	if (r == 0) {
		/* Empty journal: everything that will arrive is new. */
		free(sj->cursor);
		sj->cursor = NULL;
		sj->since_cursor = 0;
		return sd_journal_seek_head(sj->j);
	}
	return sj_checkpoint(sj);
}

/* sj_seek_cursor - position after sj->cursor: on it (handled) or, if it is
 * gone, on the next later entry, which is then not handled yet.
 * Return: 0, -ESTALE if the entry is gone, other -errno. */
static int sj_seek_cursor(SourceJournal *sj)
{
	int r = sd_journal_seek_cursor(sj->j, sj->cursor);
	if (r < 0)
		return r;
	r = sd_journal_next(sj->j);
	if (sj_faulted(sj))
		return SJ_FAULT;
	if (r < 0)
		return r;
	if (r == 0)
		return 0; /* nothing at or after it yet: next() continues from there */
	r = sd_journal_test_cursor(sj->j, sj->cursor);
	if (r < 0)
		return r;
	if (r == 0) {
		sj->have_current = true;
		return -ESTALE;
	}
	return 0;
}

/* sj_skip - step over n entries that were handled before a reopen. */
static int sj_skip(SourceJournal *sj, uint64_t n)
{
	if (n > 0 && sj->have_current) {
		sj->have_current = false;
		n--;
	}
	for (; n > 0; n--) {
		int r = sd_journal_next(sj->j);
		if (sj_faulted(sj))
			return SJ_FAULT;
		if (r <= 0)
			return r;
	}
	return 0;
}

/* sj_parse_state - "cursor=...\nrealtime=...\n"; -EBADMSG if malformed. */
static int sj_parse_state(const char *p, size_t n, char **ret_cursor, uint64_t *ret_realtime)
{
	_cleanup_free_ char *cursor = NULL;
	uint64_t rt = 0;
	bool have_rt = false;

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		const char *eq = memchr(p, '=', len);
		if (len == 0 || p[0] == '#')
			goto next;
		if (!eq)
			return -EBADMSG;
		size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
		const char *v = eq + 1;
		if (klen == 6 && !memcmp(p, "cursor", 6)) {
			if (cursor || vlen == 0 || vlen > CURSOR_MAX)
				return -EBADMSG;
			for (size_t i = 0; i < vlen; i++)
				if (v[i] <= ' ' || v[i] > '~')
					return -EBADMSG;
			if (!(cursor = strndup(v, vlen)))
				return -ENOMEM;
		} else if (klen == 8 && !memcmp(p, "realtime", 8)) {
			char num[24];
			if (have_rt || vlen == 0 || vlen >= sizeof(num))
				return -EBADMSG;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			if (parse_u64(num, &rt) < 0)
				return -EBADMSG;
			have_rt = true;
		} else {
			return -EBADMSG;
		}
	next:
		if (!nl)
			break;
		n -= len + 1;
		p = nl + 1;
	}
	if (!cursor || !have_rt)
		return -EBADMSG;
	*ret_cursor = cursor;
	cursor = NULL;
	*ret_realtime = rt;
	return 0;
}

/* sj_load_state - read the cursor file. Return: 1 loaded, 0 no file, or
 * -EBADMSG/-errno for a file that exists but cannot be used (not logged). */
static int sj_load_state(SourceJournal *sj, const char **ret_why)
{
	Buf b = BUF_NULL;
	*ret_why = NULL;
	int r = statefile_read(sj->state_dir, SOURCE_JOURNAL_STATE_NAME, STATE_MAX, &b);
	if (r == -ENOENT) {
		buf_deinit(&b);
		return 0;
	}
	if (r < 0) {
		buf_deinit(&b);
		*ret_why = "unreadable";
		return r;
	}
	char *c = NULL;
	uint64_t rt = 0;
	r = sj_parse_state(b.data ? b.data : "", b.len, &c, &rt);
	buf_deinit(&b);
	if (r < 0) {
		*ret_why = "malformed";
		return r;
	}
	if (sj->max_resume_age_usec > 0) {
		int64_t now = now_realtime_usec();
		if (rt > (uint64_t)INT64_MAX || now - (int64_t)rt > sj->max_resume_age_usec) {
			free(c);
			*ret_why = "older than --source.journal.max-resume-age";
			return -ESTALE;
		}
	}
	free(sj->cursor);
	sj->cursor = c;
	sj->cursor_realtime = rt;
	sj->since_cursor = 0;
	sj->cursor_dirty = false;
	return 1;
}

/* sj_position_initial - where to start on the first open. */
static int sj_position_initial(SourceJournal *sj)
{
	int r;

	if (sj->state_dir) {
		const char *why;
		r = sj_load_state(sj, &why);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			log_warn("source_journal: ignoring state file '%s/%s' (%s: %s); starting at the end",
				 sj->state_dir, SOURCE_JOURNAL_STATE_NAME, why, strerror(-r));
			return sj_seek_end(sj);
		}
		if (r > 0) {
			r = sj_seek_cursor(sj);
			if (r == -ESTALE) {
				log_info("source_journal: saved entry is gone, resuming at the next later one");
				return 0;
			}
			if (r == SJ_FAULT || r == -ENOMEM)
				return r;
			if (r < 0) {
				log_warn("source_journal: ignoring state file '%s/%s' (cursor rejected: %s); starting at the end",
					 sj->state_dir, SOURCE_JOURNAL_STATE_NAME, strerror(-r));
				free(sj->cursor);
				sj->cursor = NULL;
				return sj_seek_end(sj);
			}
			log_info("source_journal: resuming after the saved cursor");
			return 0;
		}
	}
	if (sj->follow)
		log_info("source_journal: no saved cursor%s, reading from the %s",
			 sj->state_dir ? "" : " (no --state.directory)",
			 sj->start == SOURCE_START_BEGINNING ? "beginning (--source.start=beginning)"
							     : "end (only new entries; --source.start=end)");
	if (sj->start == SOURCE_START_BEGINNING)
		return sd_journal_seek_head(sj->j);
	return sj_seek_end(sj);
}

/* sj_has_files - whether the open journal has any file to read */
static bool sj_has_files(SourceJournal *sj)
{
	return sj->files || sj->directory || sd_journal_has_persistent_files(sj->j) > 0 ||
	       sd_journal_has_runtime_files(sj->j) > 0;
}

/* sj_reopen - after a fault or read error: back to the last handled entry. */
static int sj_reopen(SourceJournal *sj, int why)
{
	uint64_t skip = sj->since_cursor;
	int r;

	sj_close(sj);
	sj_set_up(sj, false);
	r = sj_open(sj);
	if (r >= 0) {
		if (sj->cursor) {
			r = sj_seek_cursor(sj);
			if (r == -ESTALE) /* best effort: the handled entries are taken to follow */
				r = 0;
		} else {
			/* Nothing was ever a checkpoint: we started at the head (or an
			 * empty journal), so count from there again. */
			r = sd_journal_seek_head(sj->j);
		}
	}
	if (r >= 0)
		r = sj_skip(sj, skip);
	if (r < 0) {
		sj_close(sj);
		sj->retry_usec = now_monotonic_usec() + SOURCE_JOURNAL_RETRY_USEC;
		if (why != 0)
			log_errno(LOG_LEVEL_WARN, r, "source_journal: reopen failed, retrying every %llds",
				  (long long)(SOURCE_JOURNAL_RETRY_USEC / USEC_PER_SEC));
		return r;
	}
	sj->since_cursor = skip;
	sj_set_up(sj, sj_has_files(sj));
	log_info("source_journal: journal reopened at the last handled entry");
	return 0;
}

static bool field_is(const char *d, size_t l, const char *name, size_t nlen, size_t *ret_off)
{
	if (l < nlen + 1 || d[nlen] != '=' || memcmp(d, name, nlen) != 0)
		return false;
	*ret_off = nlen + 1;
	return true;
}

enum { F_MESSAGE, F_IDENT, F_SYSLOG_PID, F_PID, F_HOST, _F_MAX };

/* sj_entry - hand the current entry to the ingest. Return: 0, SJ_FAULT, -ENOMEM. */
static int sj_entry(SourceJournal *sj)
{
	size_t off[_F_MAX], len[_F_MAX];
	bool have[_F_MAX] = { false };
	const void *data;
	size_t l;
	uint64_t rt = 0;
	int r;

	buf_clear(&sj->scratch);
	(void)sd_journal_get_realtime_usec(sj->j, &rt);

	/* One pass over the entry's items: cheaper than one get_data() per
	 * field, each of which walks the items again. Values are copied, so a
	 * fault while reading them is seen below, before any ingest. */
	sd_journal_restart_data(sj->j);
	while ((r = sd_journal_enumerate_data(sj->j, &data, &l)) > 0) {
		const char *d = data;
		size_t vo;
		int f = -1;
		switch (d[0]) {
		case 'M':
			if (field_is(d, l, "MESSAGE", 7, &vo))
				f = F_MESSAGE;
			break;
		case 'S':
			if (field_is(d, l, "SYSLOG_IDENTIFIER", 17, &vo))
				f = F_IDENT;
			else if (field_is(d, l, "SYSLOG_PID", 10, &vo))
				f = F_SYSLOG_PID;
			break;
		case '_':
			if (field_is(d, l, "_PID", 4, &vo))
				f = F_PID;
			else if (field_is(d, l, "_HOSTNAME", 9, &vo))
				f = F_HOST;
			break;
		default:
			break;
		}
		if (f < 0 || have[f])
			continue;
		off[f] = sj->scratch.len;
		len[f] = l - vo;
		buf_append(&sj->scratch, d + vo, l - vo);
		if (buf_error(&sj->scratch))
			return -ENOMEM;
		have[f] = true;
	}
	if (sj_faulted(sj))
		return SJ_FAULT; /* not counted: it is read again after the reopen */
	sj->entries_unflushed++;
	/* r < 0: a damaged item; use what was read before it. */
	if (!have[F_MESSAGE])
		return 0;

	const char *base = sj->scratch.data;
	LogLine ll = {
		.ts_usec = rt <= (uint64_t)INT64_MAX ? (int64_t)rt : 0,
		.msg = { base + off[F_MESSAGE], len[F_MESSAGE] },
	};
	if (have[F_IDENT])
		ll.prog = (Slice){ base + off[F_IDENT], len[F_IDENT] };
	if (have[F_HOST])
		ll.host = (Slice){ base + off[F_HOST], len[F_HOST] };
	/* SYSLOG_PID is what Postfix put in its syslog tag; _PID is the sender
	 * as seen by journald (absent for entries forwarded by journal-remote). */
	if (!(have[F_SYSLOG_PID] && slice_to_u32((Slice){ base + off[F_SYSLOG_PID], len[F_SYSLOG_PID] }, &ll.pid)) &&
	    have[F_PID])
		(void)slice_to_u32((Slice){ base + off[F_PID], len[F_PID] }, &ll.pid);
	if (ll.msg.n > sj->max_line) {
		/* Dropped and counted as the file source does with a long line:
		 * a cut message could match a rule with a wrong value. */
		ingest_oversized(sj->ingest);
		ingest_line(sj->ingest, "", 0); /* a line, but nothing to parse */
		return 0;
	}
	ingest_entry(sj->ingest, &ll);
	return 0;
}

/* sj_drain - handle entries until none is left (0) or the deadline (1). */
static int sj_drain(SourceJournal *sj, int64_t deadline_usec)
{
	unsigned n = 0;
	int r;

	for (;;) {
		if (sj->have_current) {
			sj->have_current = false;
			r = 1;
		} else {
			r = sd_journal_next(sj->j);
			if (sj_faulted(sj))
				return SJ_FAULT;
		}
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = sj_entry(sj);
		if (r < 0)
			return r;
		sj->since_cursor++;
		sj->recovering = false;
		if (++n % SOURCE_JOURNAL_BATCH == 0) {
			r = sj_checkpoint(sj);
			if (r < 0)
				return r;
			if (now_monotonic_usec() >= deadline_usec)
				return 1;
		}
	}
	if (sj->since_cursor > 0)
		return sj_checkpoint(sj);
	return 0;
}

static int source_journal_save_state(Source *s)
{
	SourceJournal *sj = sj_of(s);
	if (!sj->state_dir || !sj->cursor || !sj->cursor_dirty)
		return 0;

	Buf b = BUF_NULL;
	buf_printf(&b, "cursor=%s\nrealtime=%" PRIu64 "\n", sj->cursor, sj->cursor_realtime);
	int r = buf_error(&b);
	if (r >= 0)
		r = statefile_write(sj->state_dir, SOURCE_JOURNAL_STATE_NAME, b.data, b.len);
	buf_deinit(&b);
	sj->save_due_usec = now_monotonic_usec() + SOURCE_JOURNAL_SAVE_INTERVAL_USEC;
	if (r < 0) {
		if (!sj->save_failed)
			log_errno(LOG_LEVEL_WARN, r, "source_journal: cannot save '%s/%s'", sj->state_dir,
				  SOURCE_JOURNAL_STATE_NAME);
		sj->save_failed = true;
		return r;
	}
	sj->save_failed = false;
	sj->cursor_dirty = false;
	return 0;
}

static int source_journal_process(Source *s, int64_t deadline_usec)
{
	SourceJournal *sj = sj_of(s);
	int r = 0, more = 0;

	sigbus_arm();
	if (!sj->j) {
		if (now_monotonic_usec() < sj->retry_usec)
			goto out;
		if (sj_reopen(sj, 0) < 0)
			goto out;
	}
	/* Consume the inotify events (and pick up new/removed files). Whatever
	 * it reports - NOP, APPEND or INVALIDATE after a rotation or vacuum -
	 * we read on until next() finds nothing. */
	r = sd_journal_process(sj->j);
	if (sj_faulted(sj))
		r = SJ_FAULT;
	if (r >= 0)
		r = sj_drain(sj, deadline_usec);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		if (r == SJ_FAULT)
			log_warn("source_journal: SIGBUS while reading (journal file truncated); reopening");
		else
			log_errno(LOG_LEVEL_WARN, r, "source_journal: read error; reopening");
		if (sj->recovering) {
			/* The same failure right after a reopen: do not spin on it
			 * (and flood the log); retry at the slow pace instead. */
			sj_close(sj);
			sj_set_up(sj, false);
			sj->retry_usec = now_monotonic_usec() + SOURCE_JOURNAL_RETRY_USEC;
			sj->recovering = false;
		} else {
			/* A failed reopen is retried from timeout_usec. */
			sj->recovering = sj_reopen(sj, r) >= 0;
		}
		r = 0;
		/* Come back at once: entries may be waiting after the reopen. */
		more = sj->j ? 1 : 0;
	} else {
		more = r;
		r = 0;
		if (!sj->base.up && sj_has_files(sj)) {
			log_info("source_journal: journal files are readable now");
			sj_set_up(sj, true);
		}
	}
out:
	sigbus_disarm();
	sj_flush_counts(sj);
	if (r < 0)
		return r;
	if (sj->cursor_dirty && now_monotonic_usec() >= sj->save_due_usec)
		(void)source_journal_save_state(s);
	return more;
}

static int source_journal_fd(Source *s)
{
	return sj_of(s)->epfd;
}

static int64_t source_journal_timeout_usec(Source *s)
{
	SourceJournal *sj = sj_of(s);
	int64_t now = now_monotonic_usec(), t = -1;

	if (!sj->j)
		return MAX(sj->retry_usec - now, 0);
	uint64_t jt;
	/* Finite only where inotify is unreliable (network file systems). */
	if (sd_journal_get_timeout(sj->j, &jt) >= 0 && jt != UINT64_MAX)
		t = jt > (uint64_t)now ? (int64_t)(jt - (uint64_t)now) : 0;
	/* A writer's inotify event can be seen before the entry it announces is
	 * linked into the file; then nothing wakes us until the next write. A
	 * look once a second bounds that delay (one next() call when idle). */
	t = t < 0 ? SOURCE_JOURNAL_RECHECK_USEC : MIN(t, SOURCE_JOURNAL_RECHECK_USEC);
	if (sj->state_dir && sj->cursor_dirty) {
		int64_t st = MAX(sj->save_due_usec - now, 0);
		t = t < 0 ? st : MIN(t, st);
	}
	return t;
}

static Source *source_journal_free(Source *s)
{
	SourceJournal *sj = sj_of(s);
	if (!sj)
		return NULL;
	sj_close(sj);
	if (sj->epfd >= 0)
		close(sj->epfd);
	free(sj->cursor);
	free(sj->directory);
	strv_free(sj->files);
	strv_free(sj->matches);
	free(sj->state_dir);
	free(sj->base.name);
	buf_deinit(&sj->scratch);
	free(sj);
	return NULL;
}

static const SourceOps source_journal_ops = {
	.kind = "journal",
	.fd = source_journal_fd,
	.timeout_usec = source_journal_timeout_usec,
	.process = source_journal_process,
	.save_state = source_journal_save_state,
	.free = source_journal_free,
};

int source_journal_new(Source **ret, Ingest *ingest, Store *store, const SourceJournalConfig *cfg)
{
	int r = dynlib_load(DYNLIB_SYSTEMD);
	if (r < 0)
		return r;
	SourceJournal *sj = calloc(1, sizeof(*sj));
	if (!sj)
		return -ENOMEM;
	sj->base.ops = &source_journal_ops;
	sj->ingest = ingest;
	sj->store = store;
	sj->epfd = -1;
	sj->jfd = -1;
	sj->scratch = BUF_NULL;
	sj->start = cfg->start;
	sj->max_resume_age_usec = cfg->max_resume_age_usec;
	sj->follow = cfg->follow;
	sj->max_line = ingest_max_line(ingest);
	sj->save_due_usec = now_monotonic_usec() + SOURCE_JOURNAL_SAVE_INTERVAL_USEC;

	r = -ENOMEM;
	if (!(sj->base.name = strdup("journal")))
		goto fail;
	if (cfg->directory && !(sj->directory = strdup(cfg->directory)))
		goto fail;
	if (cfg->state_dir && !(sj->state_dir = strdup(cfg->state_dir)))
		goto fail;
	if (strv_copy(cfg->files, &sj->files) < 0 || strv_copy(cfg->matches, &sj->matches) < 0)
		goto fail;

	r = sigbus_install();
	if (r < 0) {
		log_errno(LOG_LEVEL_ERROR, r, "source_journal: cannot install the SIGBUS handler");
		goto fail;
	}
	sj->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sj->epfd < 0) {
		r = log_errno(LOG_LEVEL_ERROR, -errno, "source_journal: epoll_create1");
		goto fail;
	}

	sigbus_arm();
	r = sj_open(sj);
	if (r == -EINVAL) {
		/* bad match, already logged */
	} else if (r < 0) {
		log_errno(LOG_LEVEL_ERROR, r, "source_journal: cannot open %s%s%s",
			  sj->files ? "journal file '" : sj->directory ? "journal directory '" : "the system journal",
			  sj->files ? sj->files[0] : sj->directory ? sj->directory : "",
			  sj->files || sj->directory ? "'" : "");
	} else {
		r = sj_position_initial(sj);
		if (r < 0)
			log_errno(LOG_LEVEL_ERROR, r, "source_journal: cannot position the journal");
	}
	sigbus_disarm();
	if (r < 0)
		goto fail;

	/* sd-journal skips files it may not read without a word: up only
	 * when there is something to read (process() looks again). */
	if (!sj_has_files(sj))
		log_warn("source_journal: no journal files readable%s; source_up is 0 until some appear",
			 geteuid() == 0 ? " (is journald storing any? Storage=none or volatile with an empty /run/log/journal?)"
					: " by this user (add it to group systemd-journal or adm: usermod -aG systemd-journal USER)");
	sj_set_up(sj, sj_has_files(sj));
	*ret = &sj->base;
	return 0;
fail:
	source_journal_free(&sj->base);
	return r;
}

bool source_journal_available(void)
{
	sd_journal *j = NULL;
	bool ok;

	if (dynlib_load(DYNLIB_SYSTEMD) < 0 || sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM) < 0)
		return false;
	/* Files we may not read are skipped silently: ask what was opened. */
	ok = sd_journal_has_persistent_files(j) > 0 || sd_journal_has_runtime_files(j) > 0;
	sd_journal_close(j);
	return ok;
}

/* ---- the "journal" source type ---------------------------------------------- */

static bool arg_journal;
static StrList arg_matches;
static const char *arg_directory;
static StrList arg_files;
static int64_t arg_max_resume_age;

static const Flag source_journal_flags[] = {
	{ "source.journal", FLAG_BOOL, &arg_journal, NULL, NULL, "Read the systemd journal (the default when no --source.file is given and the journal is readable).", true },
	{ "source.journal.match", FLAG_LIST, &arg_matches, "FIELD=VALUE", NULL, "Journal match instead of SYSLOG_FACILITY=2 (repeatable; same field ORs, different fields AND).", true },
	{ "source.journal.directory", FLAG_STRING, &arg_directory, "DIR", NULL, "Read the journal files in DIR instead of the system journal.", true },
	{ "source.journal.file", FLAG_LIST, &arg_files, "PATH", NULL, "Read this journal file (repeatable).", true },
	{ "source.journal.max-resume-age", FLAG_DURATION, &arg_max_resume_age, "DURATION", "6h", "Resume from the saved journal cursor only if it is younger than this; otherwise start at the tail (default {}).", false },
	FLAG_END,
};

static bool source_journal_wanted(const SourceEnv *env)
{
	return arg_journal || arg_directory || arg_files.n || arg_matches.n;
}

static int source_journal_open(const SourceEnv *env)
{
	Source *s;
	SourceJournalConfig c = {
		.start = env->start,
		.directory = arg_directory,
		.files = arg_files.v,
		.matches = arg_matches.v,
		.state_dir = env->state_dir,
		.max_resume_age_usec = arg_max_resume_age,
		.follow = env->follow,
	};
	int r = source_journal_new(&s, env->ingest, env->store, &c);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "cannot open the journal");
	return env->add(env->userdata, s);
}

const SourceType source_type_journal = {
	.name = "journal",
	.flags = source_journal_flags,
	.wanted = source_journal_wanted,
	.available = source_journal_available,
	.open = source_journal_open,
};

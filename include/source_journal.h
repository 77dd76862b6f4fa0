/*
 * source_journal.h - follow Postfix in the systemd journal (sd-journal).
 *
 * Selects SYSLOG_FACILITY=2 (mail) unless matches are given, filters
 * SYSLOG_IDENTIFIER in code through the Ingest's syslog-name rule, feeds
 * MESSAGE/_PID/__REALTIME_TIMESTAMP/_HOSTNAME to ingest_entry(). The
 * position is saved as a cursor in the state directory.
 *
 * POSITIONING
 *	A usable cursor file wins over cfg->start: reading resumes right after
 *	the saved entry. A cursor file that is unreadable, malformed, refers to
 *	an entry older than max_resume_age_usec, or that sd-journal rejects is
 *	logged and ignored, and reading starts at the end (the daemon ran
 *	before, so replaying from the beginning would count twice). Without a
 *	cursor file cfg->start applies. source_journal_new() returns with the
 *	journal positioned, so the caller may signal readiness afterwards.
 * FAILURES
 *	A read error or a SIGBUS (a mapped file truncated under us) closes the
 *	journal, sets source_up to 0 and reopens it from the last cursor, at
 *	once and then every SOURCE_JOURNAL_RETRY_USEC while that fails.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "source.h"
#include "store.h"

/* Idle re-check of the journal (see source_journal_timeout_usec). */
#define SOURCE_JOURNAL_RECHECK_USEC (1000 * 1000LL)

/* name of the cursor file inside the state directory */
#define SOURCE_JOURNAL_STATE_NAME "journal.cursor"
/* the cursor is written at most this often while entries come in */
#define SOURCE_JOURNAL_SAVE_INTERVAL_USEC (5 * 1000000LL)
/* reopen attempts after the journal failed */
#define SOURCE_JOURNAL_RETRY_USEC (1 * 1000000LL)
/* entries handled between two looks at the clock (deadline, checkpoint) */
#define SOURCE_JOURNAL_BATCH 256

typedef struct SourceJournalConfig {
	SourceStart start;
	const char *directory;          /* --source.journal.directory, or NULL */
	char **files;                   /* --source.journal.file, NULL-terminated, or NULL */
	char **matches;                 /* --source.journal.match, NULL-terminated, or NULL;
	                                 * "FIELD=VALUE" terms, or "+" for a disjunction */
	const char *state_dir;          /* NULL: no cursor persistence */
	int64_t max_resume_age_usec;    /* --source.journal.max-resume-age; <= 0: no limit */
	bool follow;                    /* the daemon: log where reading starts */
} SourceJournalConfig;

/* source_journal_new - open and position the journal; the config is copied.
 * Return: 0, -EINVAL for a bad match (logged), other -errno if the journal
 * cannot be opened (logged). */
int source_journal_new(Source **ret, Ingest *ingest, Store *store, const SourceJournalConfig *cfg);
/* source_journal_available - true when the local journal can be opened and has readable files */
bool source_journal_available(void);

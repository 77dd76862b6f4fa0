/*
 * source_journal.h - follow Postfix in the systemd journal (sd-journal).
 *
 * Selects SYSLOG_FACILITY=2 (mail) unless matches are given, filters
 * SYSLOG_IDENTIFIER in code through the Ingest's syslog-name rule, feeds
 * MESSAGE/_PID/__REALTIME_TIMESTAMP/_HOSTNAME to ingest_entry(). The
 * position is saved as a cursor in the state directory.
 */
#pragma once

#include <stdint.h>

#include "source.h"
#include "store.h"

typedef struct SourceJournalConfig {
	SourceStart start;
	const char *directory;          /* --source.journal.directory, or NULL */
	char **files;                   /* --source.journal.file, NULL-terminated, or NULL */
	char **matches;                 /* --source.journal.match, NULL-terminated, or NULL */
	const char *state_dir;          /* NULL: no cursor persistence */
	int64_t max_resume_age_usec;    /* --source.journal.max-resume-age */
} SourceJournalConfig;

int source_journal_new(Source **ret, Ingest *ingest, Store *store, const SourceJournalConfig *cfg);
/* source_journal_available - true when the local journal can be opened and has readable files */
bool source_journal_available(void);

/*
 * ingest.h - one log record in, counters out: header split (logline),
 * program filter, rule match (parse) and session correlation (session).
 *
 * Sources call ingest_line() for text lines and ingest_entry() for records
 * that arrive already split (the journal). Nothing here blocks, and the one
 * thing logged is a single warning, the first time an inbound TLS session has
 * no TLS summary: it names the main.cf fix, and every run mode (daemon,
 * --once, report) passes through here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "logline.h"
#include "store.h"

typedef struct Ingest Ingest;

/* IngestCounts - the per-line counters, kept where the lines are read */
typedef struct IngestCounts {
	uint64_t lines_read;
	uint64_t postfix_lines; /* records of an accepted syslog name and a daemon we parse */
	uint64_t malformed;
	uint64_t oversized;
	uint64_t invalid_utf8;
	uint64_t future;
	int64_t last_event_usec;
} IngestCounts;
typedef struct Peers Peers;

typedef struct IngestConfig {
	const char *syslog_name_regex; /* NULL: default "^postfix.*" on the syslog name */
	size_t max_sessions;           /* inbound sessions in flight */
	int64_t session_max_age_usec;  /* log-time age after which an open session expires */
	size_t max_line;               /* longer lines are cut and counted as oversized */
	const char *wrapper_service_regex; /* NULL: INGEST_WRAPPER_SERVICE_DEFAULT */
	const char *internal_relay_regex;   /* NULL: INGEST_INTERNAL_RELAY_DEFAULT */
	const char *internal_service_regex; /* NULL or "": no internal service */
	size_t max_hosts;              /* 0: no host label; else --postfix.hosts-max (store: metrics_fleet_families()) */
	int64_t (*now_fn)(void);       /* wall clock, µs; NULL: now_realtime_usec (tests inject one) */
} IngestConfig;

/* Syslog names of wrapper-mode (implicit TLS) smtpd services: Debian's
 * "smtps" and the "submissions" of Postfix 3.5+'s sample master.cf. */
#define INGEST_WRAPPER_SERVICE_DEFAULT "(^|/)(smtps|submissions)$"
/* relay= values of content filters on loopback, by their conventional
 * ports: amavis 10024 (10026 for originating mail), clamsmtp and the
 * FILTER_README examples 10025-10026, dkimproxy 10027-10028, rspamd's
 * proxy worker 11332. Loopback relays on other ports are counted as peers
 * (a smarthost tunnel or a test rig). LMTP and unix-socket relays are
 * internal whatever this says. */
#define INGEST_INTERNAL_RELAY_DEFAULT "\\[(127\\.[0-9.]+|::1)\\]:(1002[4-9]|11332)$"
#define INGEST_CONFIG_DEFAULT ((IngestConfig){ NULL, 10000, 3600 * 1000000LL, 8192, NULL, NULL, NULL })

/* ingest_new - compile the rules and the syslog-name and wrapper-service
 * regexes. Return: 0, -ENOMEM, or -EINVAL with *ret_error = malloc'd
 * message when one of them does not compile (the caller frees it;
 * ret_error may be NULL). */
int ingest_new(Ingest **ret, Store *store, const IngestConfig *cfg, char **ret_error);
Ingest *ingest_free(Ingest *in);

/* ingest_set_peers - optional per-peer accounting (may be NULL). */
void ingest_set_peers(Ingest *in, Peers *peers);
/* ingest_hosts - the host label table, NULL without --postfix.host-label. */
typedef struct Hosts Hosts;
Hosts *ingest_hosts(const Ingest *in);

/* ingest_set_clock_hook - fn(userdata, ts) runs before each record stamped
 * ts is applied (backfill snapshots the counters at step boundaries). */
typedef void (*IngestClockFn)(void *userdata, int64_t ts_usec);
void ingest_set_clock_hook(Ingest *in, IngestClockFn fn, void *userdata);

/* ingest_line - one text line without its newline. */
void ingest_line(Ingest *in, const char *line, size_t len);
/* ingest_line_printable - the same for a line its source found to be all
 * printable ASCII (utf8_line_end()), which is then not checked again. */
void ingest_line_printable(Ingest *in, const char *line, size_t len);
/* ingest_entry - a record split by the source (journal). */
void ingest_entry(Ingest *in, const LogLine *ll);
/* ingest_oversized - the source cut a line at max_line. */
void ingest_oversized(Ingest *in);

size_t ingest_max_line(const Ingest *in);
uint64_t ingest_lines_read(const Ingest *in);
/* ingest_postfix_lines - records of Postfix's smtpd, smtp, lmtp, tlsproxy or
 * postscreen (by --postfix.syslog-name), the ones the parser looks at */
uint64_t ingest_postfix_lines(const Ingest *in);
/* ingest_jit - whether PCRE2 runs JIT-compiled (no under MemoryDenyWriteExecute=yes). */
bool ingest_jit(const Ingest *in);
size_t ingest_sessions_open(const Ingest *in);
int64_t ingest_last_event_usec(const Ingest *in);

/* ingest_pipeline_start - from now on, the lines handed in are parsed in
 * the caller's thread and applied (sessions, counters, peers, the clock
 * hook) in a second thread, in the same order and with the same result.
 * Until ingest_pipeline_stop() the caller must not touch the store, the
 * peers or anything the clock hook touches without ingest_sync() first.
 * block_size: bytes per queue block, 0 for the default (16 KiB; the tests
 * use small blocks, so that records often do not fit one).
 * Return: 0, or a negative errno (the lines are then applied in the
 * caller's thread, as before). */
int ingest_pipeline_start(Ingest *in, size_t block_size);
/* ingest_pipelined - whether a second thread applies the lines */
bool ingest_pipelined(const Ingest *in);
/* ingest_sync - wait until every line handed in so far is applied */
void ingest_sync(Ingest *in);
/* Which thread matches the rules while pipelined: by default the reading
 * thread, or the counting one while that one keeps up (see match_late()
 * in ingest.c); the tests force the counting one. */
typedef enum IngestMatch {
	INGEST_MATCH_AUTO,
	INGEST_MATCH_COUNTING,
} IngestMatch;
void ingest_pipeline_match(Ingest *in, IngestMatch where);
/* ingest_pipeline_stop - apply what is pending, end the second thread */
void ingest_pipeline_stop(Ingest *in);

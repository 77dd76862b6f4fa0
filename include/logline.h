/*
 * logline.h - split one log record into event time, host, program, pid and
 * message.
 *
 * Text line headers, recognised per line:
 *   postlogd maillog_file   "Nov 08 15:48:34 mx1 postfix/smtpd[24782]: msg"
 *   BSD syslog              "Nov  8 15:48:34 mx1 postfix/smtpd[24782]: msg", also "Mar 7 ..."
 *   rsyslog RFC 3339        "2026-11-28T15:48:34.397141+00:00 mx1 postfix/smtpd[24782]: msg"
 *   RFC 3339 without zone   "2026-12-05T10:01:00 mx1 ..." or "2026-12-05 10:01:00 ..." (local time)
 *   journalctl -o short-precise "Dec 05 10:01:00.123456 mx1 ...", -o short-full
 *                           "Sat 2026-12-05 10:01:00 CET mx1 ...", -o short-unix "1764928860.123456 mx1 ..."
 *   "<PRI>" before any of these (network syslog receivers, logger(1))
 *   RFC 5424                "<22>1 2026-12-05T10:01:00.123456+01:00 mx1 postfix/smtpd 123 - - msg"
 * and the host may be missing ("Dec  5 10:01:00 postfix/smtpd[1]: msg").
 * The journal source fills a LogLine from journal fields instead.
 *
 * LIMITS
 *	The year of a BSD timestamp is not in the log: it is the year of the
 *	reference time (now), the previous one for a date over a day in the
 *	future, the next one when the log just passed New Year before the
 *	clock did (logline.c bsd_year()). With a now function the reference
 *	time follows the wall clock (across New Year). Local time is used, as
 *	syslog wrote it.
 */
#pragma once

#include <stdint.h>

#include "slice.h"

typedef struct LogLine {
	int64_t ts_usec; /* event time, µs since the epoch; 0 if unknown */
	Slice host;      /* empty when the line has none */
	Slice prog;      /* full identifier, e.g. "postfix/submission/smtpd" */
	Slice msg;       /* text after "prog[pid]: " */
	uint32_t pid;
	Slice line;      /* the text line the fields are cut from (at ASCII
			  * separators); SLICE_NULL for a journal entry */
} LogLine;

typedef struct LoglineClock LoglineClock;

/* logline_parse - parse a text line (no trailing newline).
 * Return: 0, or -EBADMSG when the header is not a syslog header. */
int logline_parse(LoglineClock *clk, const char *line, size_t len, LogLine *ret);

/* The clock caches the last parsed date (lines come in order, so almost every
 * line reuses it) and holds the reference year for BSD timestamps. */
int logline_clock_new(LoglineClock **ret, int64_t now_usec);
LoglineClock *logline_clock_free(LoglineClock *c);
/* logline_clock_set_now_fn - read the reference time from fn (µs since the
 * epoch) each time a BSD stamp of a new minute is dated; NULL: keep it fixed.
 * Injectable so tests can run New Year. */
typedef int64_t (*LoglineNowFn)(void);
void logline_clock_set_now_fn(LoglineClock *c, LoglineNowFn fn);

/* logline_split_prog - "postfix/submission/smtpd" -> syslog name
 * "postfix/submission" and daemon "smtpd". Return false if there is no '/'. */
bool logline_split_prog(Slice prog, Slice *ret_syslog_name, Slice *ret_daemon);

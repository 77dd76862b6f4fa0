/*
 * logline.c - syslog header scanner: "<time> <host> <prog>[<pid>]: <msg>".
 *
 * DESCRIPTION
 *	Hand-written rather than a regex because every line of the log passes
 *	through here, Postfix or not. Recognised per line (see logline.h):
 *	util/msg_logger.c msg_logger_print() (postlogd, "%b %d %H:%M:%S"),
 *	classic syslog (space-padded or single-space day), rsyslog
 *	RSYSLOG_FileFormat / journalctl -o short-iso (RFC 3339 with optional
 *	fraction and offset; without offset it is local time), journalctl -o
 *	short-precise / short-full / short-unix, a "<PRI>" prefix, and RFC 5424.
 *	The host may be missing.
 * LIMITS
 *	BSD stamps carry no year or zone: local time, the year of the wall
 *	clock (read again whenever a new minute of the log is dated, so a
 *	daemon running across New Year follows it), last year's when the date
 *	is over a day ahead, next year's when the log passed New Year within a
 *	day of its last stamp and of the clock (see bsd_year()). A short-full zone
 *	abbreviation other than UTC/GMT is taken as local time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "logline.h"
#include "macro.h"
#include "util.h"

struct LoglineClock {
	int64_t now_usec;
	LoglineNowFn now_fn;   /* NULL: now_usec is fixed */
	int ref_year;
	int64_t minute_key;    /* packed (year, month, day, hour, minute) of the cache */
	int64_t minute_usec;   /* that local minute, µs since the epoch */
	int64_t bsd_key;       /* the same for the last BSD stamp, whose year */
	int64_t bsd_usec;      /* was resolved against the reference time */
};

static void set_now(LoglineClock *c, int64_t now_usec)
{
	time_t t = (time_t)(now_usec / USEC_PER_SEC);
	struct tm tm;
	c->now_usec = now_usec;
	if (localtime_r(&t, &tm))
		c->ref_year = tm.tm_year + 1900;
}

int logline_clock_new(LoglineClock **ret, int64_t now_usec)
{
	LoglineClock *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	set_now(c, now_usec);
	c->minute_key = c->bsd_key = -1;
	*ret = c;
	return 0;
}

void logline_clock_set_now_fn(LoglineClock *c, LoglineNowFn fn)
{
	c->now_fn = fn;
	if (fn)
		set_now(c, fn());
}

LoglineClock *logline_clock_free(LoglineClock *c)
{
	free(c);
	return NULL;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int d2(const char *p)
{
	return (p[0] - '0') * 10 + (p[1] - '0');
}

/* clock_at - "dd:dd:dd" at p (8 bytes readable). Spelled out: it runs for
 * every line, and the pattern loop it replaces was 4 % of ingest. */
static inline bool clock_at(const char *p)
{
	return is_digit(p[0]) && is_digit(p[1]) && p[2] == ':' && is_digit(p[3]) && is_digit(p[4]) &&
	       p[5] == ':' && is_digit(p[6]) && is_digit(p[7]);
}

/* date_at - "dddd-dd-dd" at p (10 bytes readable). */
static inline bool date_at(const char *p)
{
	return is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) && p[4] == '-' &&
	       is_digit(p[5]) && is_digit(p[6]) && p[7] == '-' && is_digit(p[8]) && is_digit(p[9]);
}

static int month_index(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			return i;
	return -1;
}

static int64_t minute_key(int year, int mon, int day, int hour, int min)
{
	return ((((int64_t)year * 13 + mon) * 32 + day) * 24 + hour) * 60 + min;
}

/* local_minute - a local wall-clock minute as µs since the epoch. mktime()
 * reads the zone rules on every call, and lines come in order, so the last
 * minute is cached. */
static int local_minute(LoglineClock *c, int year, int mon, int day, int hour, int min, int64_t *ret)
{
	int64_t key = minute_key(year, mon, day, hour, min);
	if (key == c->minute_key) {
		*ret = c->minute_usec;
		return 0;
	}
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon - 1, .tm_mday = day,
			 .tm_hour = hour, .tm_min = min, .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -EBADMSG;
	c->minute_key = key;
	c->minute_usec = (int64_t)t * USEC_PER_SEC;
	*ret = c->minute_usec;
	return 0;
}

static bool valid_clock(int mon, int day, int hour, int min, int sec)
{
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hour <= 23 && min <= 59 && sec <= 60;
}

/* parse_frac - optional ".123456" at p[*i]; microseconds, extra digits dropped. */
static int64_t parse_frac(const char *p, size_t n, size_t *i)
{
	int64_t frac = 0;
	if (*i < n && p[*i] == '.' && *i + 1 < n && is_digit(p[*i + 1])) {
		int64_t scale = 100000;
		for ((*i)++; *i < n && is_digit(p[*i]); (*i)++) {
			frac += (p[*i] - '0') * scale;
			scale /= 10;
		}
	}
	return frac;
}

/* bsd_year - a yearless local minute in this year, or last year's when that
 * is over a day ahead of now (December lines read in January), or next
 * year's when the log has just passed New Year before the wall clock did
 * (within a day of the last stamp and of now). The wall clock is read again here, once per new
 * minute of the log, so a daemon started in December follows the year. */
static int bsd_year(LoglineClock *c, int mon, int day, int hour, int min, int64_t *ret)
{
	if (c->now_fn)
		set_now(c, c->now_fn());
	const int64_t day_usec = 86400 * USEC_PER_SEC;
	int64_t t;
	/* Next year only right after the log's last stamp: an old log's
	 * "Jan  1" read on 31 December stays this year's. */
	if (c->bsd_key >= 0 && local_minute(c, c->ref_year + 1, mon, day, hour, min, &t) == 0 &&
	    t <= c->now_usec + day_usec && t >= c->bsd_usec && t - c->bsd_usec <= day_usec) {
		*ret = t;
		return 0;
	}
	if (local_minute(c, c->ref_year, mon, day, hour, min, &t) < 0)
		return -EBADMSG;
	if (t > c->now_usec + day_usec && local_minute(c, c->ref_year - 1, mon, day, hour, min, &t) < 0)
		return -EBADMSG;
	*ret = t;
	return 0;
}

/* "Nov 28 15:48:34", "Nov  8 15:48:34", "Mar 7 15:48:34" (single space, seen
 * from some syslog daemons), each optionally with ".123456" (journalctl -o
 * short-precise). Returns bytes consumed. */
static int parse_bsd(LoglineClock *c, const char *p, size_t n, int64_t *ret)
{
	if (n < 14 || p[3] != ' ')
		return -EBADMSG;
	size_t i;
	int day;
	if (p[4] == ' ' && is_digit(p[5])) {
		day = p[5] - '0';
		i = 6;
	} else if (is_digit(p[4]) && is_digit(p[5])) {
		day = d2(p + 4);
		i = 6;
	} else if (is_digit(p[4]) && p[5] == ' ') {
		day = p[4] - '0';
		i = 5;
	} else {
		return -EBADMSG;
	}
	if (i + 9 > n || p[i] != ' ' || !clock_at(p + i + 1))
		return -EBADMSG;
	int mon = month_index(p) + 1;
	int hour = d2(p + i + 1), min = d2(p + i + 4), sec = d2(p + i + 7);
	if (mon < 1 || !valid_clock(mon, day, hour, min, sec))
		return -EBADMSG;
	i += 9;
	int64_t frac = parse_frac(p, n, &i), t, key = minute_key(0, mon, day, hour, min);
	if (key == c->bsd_key) {
		t = c->bsd_usec;
	} else {
		if (bsd_year(c, mon, day, hour, min, &t) < 0)
			return -EBADMSG;
		c->bsd_key = key;
		c->bsd_usec = t;
	}
	*ret = t + sec * USEC_PER_SEC + frac;
	return (int)i;
}

/* parse_zone - "Z", "+01:00", "+0100" at p[*i]; seconds east of UTC.
 * Return: 1 parsed, 0 none (a space or the end follows), -EBADMSG. */
static int parse_zone(const char *p, size_t n, size_t *i, int64_t *off)
{
	if (*i >= n || p[*i] == ' ')
		return 0;
	if (p[*i] == 'Z') {
		(*i)++;
		*off = 0;
		return 1;
	}
	if (*i + 5 > n || (p[*i] != '+' && p[*i] != '-') || !is_digit(p[*i + 1]) || !is_digit(p[*i + 2]))
		return -EBADMSG;
	int sign = p[*i] == '-' ? -1 : 1;
	int oh = d2(p + *i + 1), om;
	if (p[*i + 3] == ':' && *i + 6 <= n && is_digit(p[*i + 4]) && is_digit(p[*i + 5])) {
		om = d2(p + *i + 4);
		*i += 6;
	} else if (is_digit(p[*i + 3]) && is_digit(p[*i + 4])) {
		om = d2(p + *i + 3);
		*i += 5;
	} else {
		return -EBADMSG;
	}
	*off = sign * (oh * 3600 + om * 60);
	return 1;
}

/* "2026-11-28T15:48:34[.397141][Z|+00:00|+0000]", 'T' or ' ' between date
 * and time; without a zone the stamp is local time (rsyslog's
 * "date-rfc3339" templates without offset, Docker and container loggers).
 * Returns bytes consumed. */
static int parse_rfc3339(LoglineClock *c, const char *p, size_t n, int64_t *ret)
{
	if (n < 19 || !date_at(p) || (p[10] != 'T' && p[10] != ' ') || !clock_at(p + 11))
		return -EBADMSG;
	int year = d2(p) * 100 + d2(p + 2), mon = d2(p + 5), day = d2(p + 8);
	int hour = d2(p + 11), min = d2(p + 14), sec = d2(p + 17);
	if (!valid_clock(mon, day, hour, min, sec))
		return -EBADMSG;
	size_t i = 19;
	int64_t frac = parse_frac(p, n, &i), off = 0, t;
	int z = parse_zone(p, n, &i, &off);
	if (z < 0)
		return z;
	if (z == 0) {
		if (local_minute(c, year, mon, day, hour, min, &t) < 0)
			return -EBADMSG;
		*ret = t + sec * USEC_PER_SEC + frac;
		return (int)i;
	}
	int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
	*ret = ((days * 86400 + hour * 3600 + min * 60 + sec) - off) * USEC_PER_SEC + frac;
	return (int)i;
}

/* journalctl -o short-full: "Sat 2026-12-05 10:01:00 CET". The zone is an
 * abbreviation of the zone journalctl ran in: UTC/GMT, else local time. */
static int parse_short_full(LoglineClock *c, const char *p, size_t n, int64_t *ret)
{
	if (n < 25 || p[3] != ' ' || p[23] != ' ')
		return -EBADMSG;
	size_t i = 24;
	while (i < n && p[i] != ' ')
		i++;
	Slice zone = { p + 24, i - 24 };
	if (zone.n == 0)
		return -EBADMSG;
	char stamp[20];
	memcpy(stamp, p + 4, 19);
	stamp[19] = 'Z';
	size_t len = slice_eq_str(zone, "UTC") || slice_eq_str(zone, "GMT") ? 20 : 19;
	if (parse_rfc3339(c, stamp, len, ret) != (int)len)
		return -EBADMSG;
	return (int)i;
}

/* journalctl -o short-unix: "1764928860.123456" (seconds since the epoch). */
static int parse_unix(const char *p, size_t n, int64_t *ret)
{
	size_t i = 0;
	int64_t sec = 0;
	while (i < n && is_digit(p[i]) && i < 12)
		sec = sec * 10 + (p[i++] - '0');
	if (i < 9 || (i < n && p[i] != '.' && p[i] != ' '))
		return -EBADMSG;
	int64_t frac = parse_frac(p, n, &i);
	*ret = sec * USEC_PER_SEC + frac;
	return (int)i;
}

/* parse_stamp - any of the text timestamps; returns bytes consumed. */
static int parse_stamp(LoglineClock *c, const char *p, size_t n, int64_t *ret)
{
	if (n >= 10 && is_digit(p[0]) && p[4] == '-')
		return parse_rfc3339(c, p, n, ret);
	if (n >= 10 && is_digit(p[0]))
		return parse_unix(p, n, ret);
	if (n >= 9 && p[3] == ' ' && is_digit(p[4]) && p[8] == '-')
		return parse_short_full(c, p, n, ret);
	return parse_bsd(c, p, n, ret);
}

/* find3 - the first of a, b or c in [p, end), or NULL. It runs over every
 * line's host and program name: 16 bytes a step with SSE2, where memchr()
 * for each byte wanted cost a call apiece. */
static const char *find3(const char *p, const char *end, char a, char b, char c)
{
#ifdef __SSE2__
	for (; end - p >= 16; p += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(a)), _mm_cmpeq_epi8(v, _mm_set1_epi8(b)));
		hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
		unsigned bits = (unsigned)_mm_movemask_epi8(hit);
		if (bits)
			return p + __builtin_ctz(bits);
	}
#endif
	for (; p < end; p++)
		if (*p == a || *p == b || *p == c)
			return p;
	return NULL;
}

/* parse_prog - "prog[pid]: msg" or "prog: msg" at p. */
static int parse_prog(const char *p, const char *end, LogLine *ret)
{
	/* The program name may itself contain '/' but not ' ', '[' or ':' */
	const char *prog = p;
	p = find3(p, end, '[', ':', ' ');
	if (!p || p == prog)
		return -EBADMSG;
	ret->prog = (Slice){ prog, (size_t)(p - prog) };
	ret->pid = 0;
	if (*p == '[') {
		/* 1 to 10 digits and ']'; more than UINT32_MAX would wrap */
		const char *d = ++p;
		uint64_t pid = 0;
		while (p < end && is_digit(*p) && p - d < 10)
			pid = pid * 10 + (unsigned)(*p++ - '0');
		if (p == d || p >= end || *p != ']' || pid > UINT32_MAX)
			return -EBADMSG;
		ret->pid = (uint32_t)pid;
		p++;
	}
	if (p + 1 == end && p[0] == ':') {
		ret->msg = (Slice){ end, 0 };
		return 0;
	}
	if (p + 1 >= end || p[0] != ':' || p[1] != ' ')
		return -EBADMSG;
	p += 2;
	ret->msg = (Slice){ p, (size_t)(end - p) };
	return 0;
}

/* skip_token - to the byte after the next space; NULL if none. */
static const char *skip_token(const char *p, const char *end, Slice *tok)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return NULL;
	*tok = (Slice){ p, (size_t)(sp - p) };
	return sp + 1;
}

/* parse_rfc5424 - after "<PRI>1 ": "TIMESTAMP HOST APP PROCID MSGID SD [MSG]"
 * (RFC 5424 section 6; "-" is the nil value). */
static int parse_rfc5424(LoglineClock *c, const char *p, const char *end, LogLine *ret)
{
	int64_t ts = 0;
	if (p < end && *p == '-') {
		p++;
	} else {
		int n = parse_rfc3339(c, p, (size_t)(end - p), &ts);
		if (n < 0)
			return n;
		p += n;
	}
	Slice host, app, procid, msgid;
	if (p >= end || *p++ != ' ' || !(p = skip_token(p, end, &host)) || !(p = skip_token(p, end, &app)) ||
	    !(p = skip_token(p, end, &procid)) || !(p = skip_token(p, end, &msgid)))
		return -EBADMSG;
	if (slice_eq_str(app, "-"))
		return -EBADMSG;
	/* STRUCTURED-DATA: "-" or "[id k=\"v\"]..."; '"', '\' and ']' are
	 * escaped with '\' inside values. */
	if (p < end && *p == '-') {
		p++;
	} else {
		bool quoted = false;
		while (p < end && *p == '[') {
			for (p++; p < end && (quoted || *p != ']'); p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '"')
					quoted = !quoted;
			}
			if (p >= end)
				return -EBADMSG;
			p++;
		}
	}
	if (p < end && *p++ != ' ')
		return -EBADMSG;
	if (end - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3; /* the BOM that marks an UTF-8 MSG */
	uint32_t pid = 0;
	if (!slice_to_u32(procid, &pid))
		pid = 0;
	ret->ts_usec = ts;
	ret->host = slice_eq_str(host, "-") ? (Slice){ host.p, 0 } : host;
	ret->prog = app;
	ret->pid = pid;
	ret->msg = (Slice){ p, (size_t)(end - p) };
	return 0;
}

int logline_parse(LoglineClock *c, const char *line, size_t len, LogLine *ret)
{
	const char *p = line, *end = line + len;
	int64_t ts;
	ret->line = (Slice){ line, len };

	/* "<PRI>": files written by a network syslog receiver or logger(1). */
	if (p < end && *p == '<') {
		const char *d = ++p;
		while (p < end && is_digit(*p) && p - d < 3)
			p++;
		if (p == d || p >= end || *p != '>')
			return -EBADMSG;
		p++;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
			return parse_rfc5424(c, p + 2, end, ret);
	}
	int n = parse_stamp(c, p, (size_t)(end - p), &ts);
	if (n < 0)
		return -EBADMSG;
	p += n;
	if (p >= end || *p != ' ')
		return -EBADMSG;
	p++;

	/* host, absent in some container images: a host name never holds '['
	 * or ends in ':', the program token does. */
	const char *sp = find3(p, end, ' ', '[', '[');
	bool bracket = sp && *sp == '[';
	if (bracket)
		sp = memchr(sp, ' ', (size_t)(end - sp));
	if (!sp || sp == p)
		return -EBADMSG;
	if (bracket || sp[-1] == ':') {
		ret->host = (Slice){ p, 0 };
	} else {
		ret->host = (Slice){ p, (size_t)(sp - p) };
		p = sp + 1;
	}
	if (parse_prog(p, end, ret) < 0)
		return -EBADMSG;
	ret->ts_usec = ts;
	return 0;
}

bool logline_split_prog(Slice prog, Slice *ret_syslog_name, Slice *ret_daemon)
{
	const char *slash = NULL;
	for (size_t i = prog.n; i > 0; i--)
		if (prog.p[i - 1] == '/') {
			slash = prog.p + i - 1;
			break;
		}
	if (!slash || slash == prog.p || slash == prog.p + prog.n - 1)
		return false;
	*ret_syslog_name = (Slice){ prog.p, (size_t)(slash - prog.p) };
	*ret_daemon = (Slice){ slash + 1, (size_t)(prog.p + prog.n - slash - 1) };
	return true;
}

/*
 * logline.c - syslog header scanner: "<time> <host> <prog>[<pid>]: <msg>".
 *
 * DESCRIPTION
 *	Hand-written rather than a regex because every line of the log passes
 *	through here, Postfix or not. The layouts are those of
 *	util/msg_logger.c msg_logger_print() (postlogd, "%b %d %H:%M:%S"),
 *	classic syslog (space-padded day), and rsyslog RSYSLOG_FileFormat /
 *	journalctl -o short-iso (RFC 3339 with optional fraction and offset).
 * LIMITS
 *	BSD stamps carry no year or zone: local time, year from the clock's
 *	reference time (a date over a day in the future is last year's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logline.h"
#include "macro.h"
#include "util.h"

struct LoglineClock {
	int64_t now_usec;
	int ref_year;
	char bsd_key[12];      /* "Mmm dd HH:MM" of the cached minute */
	int64_t bsd_minute_usec;
	bool bsd_valid;
};

int logline_clock_new(LoglineClock **ret, int64_t now_usec)
{
	LoglineClock *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->now_usec = now_usec;
	time_t t = (time_t)(now_usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	c->ref_year = tm.tm_year + 1900;
	*ret = c;
	return 0;
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

static int month_index(const char *p)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int i = 0; i < 12; i++)
		if (memcmp(p, months + 3 * i, 3) == 0)
			return i;
	return -1;
}

/* "Nov 28 15:48:34" or "Nov  8 15:48:34" (15 bytes). */
static int parse_bsd(LoglineClock *c, const char *p, int64_t *ret)
{
	if (p[3] != ' ' || (p[4] != ' ' && !is_digit(p[4])) || !is_digit(p[5]) || p[6] != ' ' ||
	    !is_digit(p[7]) || !is_digit(p[8]) || p[9] != ':' || !is_digit(p[10]) || !is_digit(p[11]) ||
	    p[12] != ':' || !is_digit(p[13]) || !is_digit(p[14]))
		return -EBADMSG;
	int sec = d2(p + 13);
	if (c->bsd_valid && memcmp(c->bsd_key, p, 12) == 0) {
		*ret = c->bsd_minute_usec + sec * USEC_PER_SEC;
		return 0;
	}
	int mon = month_index(p);
	int day = (p[4] == ' ' ? 0 : p[4] - '0') * 10 + (p[5] - '0');
	int hour = d2(p + 7), min = d2(p + 10);
	if (mon < 0 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -EBADMSG;
	struct tm tm = { .tm_year = c->ref_year - 1900, .tm_mon = mon, .tm_mday = day,
			 .tm_hour = hour, .tm_min = min, .tm_isdst = -1 };
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -EBADMSG;
	if ((int64_t)t * USEC_PER_SEC > c->now_usec + 86400 * USEC_PER_SEC) {
		/* December lines read in January. */
		tm = (struct tm){ .tm_year = c->ref_year - 1901, .tm_mon = mon, .tm_mday = day,
				  .tm_hour = hour, .tm_min = min, .tm_isdst = -1 };
		t = mktime(&tm);
	}
	memcpy(c->bsd_key, p, 12);
	c->bsd_minute_usec = (int64_t)t * USEC_PER_SEC;
	c->bsd_valid = true;
	*ret = c->bsd_minute_usec + sec * USEC_PER_SEC;
	return 0;
}

/* "2026-11-28T15:48:34[.397141](Z|+00:00|+0000)"; returns bytes consumed. */
static int parse_rfc3339(const char *p, size_t n, int64_t *ret)
{
	if (n < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' ') || p[13] != ':' ||
	    p[16] != ':')
		return -EBADMSG;
	static const int digits[] = { 0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18 };
	for (size_t i = 0; i < sizeof(digits) / sizeof(digits[0]); i++)
		if (!is_digit(p[digits[i]]))
			return -EBADMSG;
	int year = d2(p) * 100 + d2(p + 2), mon = d2(p + 5), day = d2(p + 8);
	int hour = d2(p + 11), min = d2(p + 14), sec = d2(p + 17);
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -EBADMSG;
	size_t i = 19;
	int64_t frac = 0;
	if (i < n && p[i] == '.') {
		int64_t scale = 100000;
		for (i++; i < n && is_digit(p[i]); i++) {
			frac += (p[i] - '0') * scale;
			scale /= 10;
		}
	}
	int64_t off = 0;
	if (i < n && p[i] == 'Z') {
		i++;
	} else if (i + 5 <= n && (p[i] == '+' || p[i] == '-')) {
		int sign = p[i] == '-' ? -1 : 1;
		if (!is_digit(p[i + 1]) || !is_digit(p[i + 2]))
			return -EBADMSG;
		int oh = d2(p + i + 1), om;
		if (p[i + 3] == ':' && i + 6 <= n && is_digit(p[i + 4]) && is_digit(p[i + 5])) {
			om = d2(p + i + 4);
			i += 6;
		} else if (is_digit(p[i + 3]) && is_digit(p[i + 4])) {
			om = d2(p + i + 3);
			i += 5;
		} else {
			return -EBADMSG;
		}
		off = sign * (oh * 3600 + om * 60);
	} else {
		return -EBADMSG;
	}
	int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
	*ret = ((days * 86400 + hour * 3600 + min * 60 + sec) - off) * USEC_PER_SEC + frac;
	return (int)i;
}

int logline_parse(LoglineClock *c, const char *line, size_t len, LogLine *ret)
{
	const char *p = line, *end = line + len;
	int64_t ts;

	if (len >= 20 && is_digit(p[0]) && p[4] == '-') {
		int n = parse_rfc3339(p, len, &ts);
		if (n < 0)
			return n;
		p += n;
	} else if (len >= 16) {
		if (parse_bsd(c, p, &ts) < 0)
			return -EBADMSG;
		p += 15;
	} else {
		return -EBADMSG;
	}
	if (p >= end || *p != ' ')
		return -EBADMSG;
	p++;

	/* host */
	const char *h = p;
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == h)
		return -EBADMSG;
	ret->host = (Slice){ h, (size_t)(sp - h) };
	p = sp + 1;

	/* prog[pid]: — the program name may itself contain '/' but not ' ' or '['. */
	const char *prog = p;
	while (p < end && *p != '[' && *p != ':' && *p != ' ')
		p++;
	if (p >= end || p == prog)
		return -EBADMSG;
	ret->prog = (Slice){ prog, (size_t)(p - prog) };
	ret->pid = 0;
	if (*p == '[') {
		uint32_t pid = 0;
		const char *d = ++p;
		while (p < end && is_digit(*p) && p - d < 10)
			pid = pid * 10 + (uint32_t)(*p++ - '0');
		if (p >= end || *p != ']' || p == d)
			return -EBADMSG;
		ret->pid = pid;
		p++;
	}
	if (p + 1 >= end || p[0] != ':' || p[1] != ' ') {
		if (p + 1 == end && p[0] == ':') {
			ret->msg = (Slice){ end, 0 };
			ret->ts_usec = ts;
			return 0;
		}
		return -EBADMSG;
	}
	p += 2;
	ret->msg = (Slice){ p, (size_t)(end - p) };
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

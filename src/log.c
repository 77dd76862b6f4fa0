/*
 * log.c - diagnostics on stderr in logfmt (default) or JSON, one line per
 * message, with control bytes escaped: messages quote log-derived strings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static int log_level = LOG_LEVEL_INFO;
static int log_json;

int log_set_level(const char *s)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	for (int i = 0; i < (int)ELEMENTSOF(names); i++)
		if (!strcmp(s, names[i])) {
			log_level = i;
			return 0;
		}
	return -EINVAL;
}

int log_set_format(const char *s)
{
	if (!strcmp(s, "logfmt"))
		log_json = 0;
	else if (!strcmp(s, "json"))
		log_json = 1;
	else
		return -EINVAL;
	return 0;
}

int log_get_level(void)
{
	return log_level;
}

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

static void log_emit(int level, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct timespec ts;
	struct tm tm;
	char when[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	flockfile(stderr);
	if (log_json) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", when, names[level]);
		put_escaped(stderr, msg);
		fputs("\"}\n", stderr);
	} else {
		fprintf(stderr, "ts=%s level=%s msg=\"", when, names[level]);
		put_escaped(stderr, msg);
		fputs("\"\n", stderr);
	}
	funlockfile(stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level < log_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_emit(level, msg);
}

int log_errno(int level, int r, const char *fmt, ...)
{
	if (level < log_level)
		return r;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(r < 0 ? -r : r));
	log_emit(level, msg);
	return r;
}

/*
 * log.c - diagnostics on stderr in logfmt (default) or JSON, one line per
 * message, with control bytes escaped: messages quote log-derived strings.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* put_escaped - append s with quotes, backslashes and control bytes escaped. */
static size_t put_escaped(char *out, size_t pos, size_t size, const char *s)
{
	for (; *s && pos + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			pos += (size_t)snprintf(out + pos, size - pos, "\\%c", c);
		else if (c == '\n')
			pos += (size_t)snprintf(out + pos, size - pos, "\\n");
		else if (c < 0x20 || c == 0x7f)
			pos += (size_t)snprintf(out + pos, size - pos, "\\u%04x", c);
		else
			out[pos++] = (char)c;
	}
	return pos;
}

/* log_emit - one write(2) per message, so lines from concurrent writers
 * (and a supervisor reading our stderr) never interleave. */
static void log_emit(int level, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct timespec ts;
	struct tm tm;
	char line[6144];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
			 log_json ? "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":\""
				  : "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s msg=\"",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 ts.tv_nsec / 1000000, names[level]);
	size_t pos = put_escaped(line, (size_t)n, sizeof(line) - 4, msg);
	pos += (size_t)snprintf(line + pos, sizeof(line) - pos, log_json ? "\"}\n" : "\"\n");
	ssize_t w = write(STDERR_FILENO, line, pos);
	(void)w;
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

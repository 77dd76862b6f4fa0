/*
 * log.h - the daemon's own diagnostics on stderr, in logfmt or JSON.
 *
 * Only the daemon layer (main, loop, sources, http) logs above debug; library
 * modules return errors. log_errno() returns its negative errno argument so
 * that "return log_errno(r, ...)" logs and returns in one statement.
 */
#pragma once

#include "macro.h"

enum {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* log_setup - parse "debug|info|warn|error" and "logfmt|json"; -EINVAL if unknown. */
int log_set_level(const char *s);
int log_set_format(const char *s);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) _printf_(2, 3);
/* log_errno - log with ": <strerror(-r)>" appended; returns r (negative). */
int log_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) do { if (log_get_level() <= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

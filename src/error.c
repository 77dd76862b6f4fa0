/*
 * error.c - negative errno plus an optional malloc'd message; see error.h.
 */
#include <stdio.h>

#include "error.h"

int error_setv(char **ret_error, int r, const char *fmt, va_list ap)
{
	if (!ret_error || *ret_error)
		return r;
	/* On OOM the caller still gets r; it falls back to strerror(). */
	if (vasprintf(ret_error, fmt, ap) < 0)
		*ret_error = NULL;
	return r;
}

int error_set(char **ret_error, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_setv(ret_error, r, fmt, ap);
	va_end(ap);
	return r;
}

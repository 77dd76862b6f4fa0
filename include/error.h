/*
 * error.h - the one error convention of the code base.
 *
 * Functions return 0 (or a count) on success and a negative errno on
 * failure. Where the caller needs more than strerror() can say (a pattern
 * that does not compile, a corrupt state file, a bad configuration key),
 * the function takes a last parameter char **ret_error and, on failure,
 * stores a malloc'd message there that the caller frees. There are no
 * static message buffers and no pointers into objects that may be freed.
 *
 * Functions that take ret_error set *ret_error = NULL on entry. On failure
 * the message may still be NULL (allocation failure, or an errno that needs
 * no words); callers fall back to strerror(). ret_error may be NULL where
 * the function's header says so (callers that only want the errno).
 */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* error_set - store a malloc'd formatted message in *ret_error unless one is
 * already there (the first error wins) or ret_error is NULL. Returns r, so
 * that call sites read "return error_set(ret_error, -EINVAL, ...)". */
_printf_(3, 4) int error_set(char **ret_error, int r, const char *fmt, ...);
/* error_setv - the same with a va_list, for a module's own fail() helper. */
_printf_(3, 0) int error_setv(char **ret_error, int r, const char *fmt, va_list ap);

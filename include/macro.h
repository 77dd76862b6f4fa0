/*
 * macro.h - small helpers shared by every module: cleanup attributes,
 * ownership transfer, array sizes.
 */
#pragma once

#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* TAKE_PTR - hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) __extension__({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) __extension__({ int _fd = (fd); (fd) = -1; _fd; })

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define USEC_PER_SEC 1000000LL
#define USEC_PER_MSEC 1000LL

/* HAVE_ASAN - built with AddressSanitizer (GCC says so with a macro, clang
 * with __has_feature): what it checks only in malloc'd blocks stays there. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifndef HAVE_ASAN
#define HAVE_ASAN 0
#endif

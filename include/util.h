/*
 * util.h - checked number and duration parsing, clocks, calendar, hashing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "slice.h"

/* parse_u64 - whole decimal string, no sign, no overflow. -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
/* parse_duration - "500ms", "30s", "5m", "6h", "7d", "1w", or a sum "1h30m". */
int parse_duration_usec(const char *s, int64_t *ret);
/* DURATION_EXAMPLES - what a usage error shows for a value that is not a duration */
#define DURATION_EXAMPLES "e.g. 500ms, 30s, 5m, 6h, 7d, 1w, 1h30m"
/* format_duration - usec in the largest unit that divides it ("366d", "90s"),
 * as parse_duration_usec() reads it; ret needs 24 bytes. */
void format_duration(int64_t usec, char *ret, size_t n);
/* slice_to_u32 - digits only, at most 10, no overflow. */
bool slice_to_u32(Slice s, uint32_t *ret);

/* clock_usec - the time of clock id in microseconds, 0 if it cannot be
 * read: CLOCK_REALTIME, CLOCK_MONOTONIC, a thread's CPU clock */
int64_t clock_usec(clockid_t id);
int64_t now_realtime_usec(void);
/* rlimit_nofile_raise - soft RLIMIT_NOFILE up to the hard limit.
 * Return: 1 raised, 0 already there, negative errno. */
int rlimit_nofile_raise(void);
int64_t now_monotonic_usec(void);
/* cpus_available - CPUs this process may run on (its affinity mask), at least 1 */
int cpus_available(void);

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* hash64 - seeded 64-bit hash (wyhash-style mixing) of a byte string. */
uint64_t hash64(const void *p, size_t n, uint64_t seed);
uint64_t hash_random_seed(void);

/*
 * source.h - where log records come from: a file (tail -F) or the journal.
 *
 * SOURCE TYPES
 *	Each kind of source registers a SourceType in the table in source.c:
 *	its flags (with their defaults), whether those flags ask for it, and a
 *	constructor that opens every source they name. main.c knows no source
 *	type by name; a new one is a new source_*.c, a line in that table and
 *	a line in src/meson.build.
 *
 * A source is driven by the event loop: when its fd is readable (or its
 * timeout expires) the loop calls process() with a deadline; the source
 * feeds records to the Ingest until it has nothing more or the deadline
 * passes, so a scrape never waits behind a long replay.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "flags.h"
#include "ingest.h"
#include "store.h"

typedef struct Source Source;

typedef struct SourceOps {
	const char *kind;
	/* fd to poll for input, or -1 */
	int (*fd)(Source *s);
	/* µs until process() should run even without input; -1 for never */
	int64_t (*timeout_usec)(Source *s);
	/* read until idle or deadline (CLOCK_MONOTONIC µs). Return: 1 more input
	 * is pending, 0 idle (at the end of the input), negative errno on error */
	int (*process)(Source *s, int64_t deadline_usec);
	/* persist the position into the state directory (may be NULL) */
	int (*save_state)(Source *s);
	Source *(*free)(Source *s);
} SourceOps;

struct Source {
	const SourceOps *ops;
	char *name;   /* label value for postfix_tls_exporter_source_up */
	bool up;
	bool damaged; /* the input ended early (a truncated .gz): what was read is all there is */
};

typedef enum SourceStart {
	SOURCE_START_END,
	SOURCE_START_BEGINNING,
} SourceStart;

static inline Source *source_free(Source *s) { return s ? s->ops->free(s) : NULL; }

/* SourceEnv - what a source type's open() gets: shared objects, the start
 * position, and where to hand each opened source */
typedef struct SourceEnv {
	Ingest *ingest;
	Store *store;
	SourceStart start;     /* set by source_open_all() from --source.start and follow */
	bool follow;           /* false: --once and report read to the current end */
	const char *state_dir; /* NULL: no resume, no saving */
	char **paths;          /* the report subcommand's FILE arguments, NULL-terminated, or NULL */
	/* takes ownership of s (frees it on failure); -ENOMEM (there is no source limit) */
	int (*add)(void *userdata, Source *s);
	void *userdata;
} SourceEnv;

typedef struct SourceType {
	const char *name;
	const Flag *flags; /* ends in FLAG_END; shown in --help in table order */
	/* true when the flags (or env->paths) name an input of this type */
	bool (*wanted)(const SourceEnv *env);
	/* when no type is wanted and the daemon follows, the first type whose
	 * available() is true is opened (NULL: never chosen by default) */
	bool (*available)(void);
	/* open and env->add() every source of this type; errors are logged */
	int (*open)(const SourceEnv *env);
} SourceType;

/* source_types - the registered types, NULL-terminated, in --help order */
extern const SourceType *const source_types[];
/* source_flags - flags shared by all source types (--source.start) */
extern const Flag source_flags[];

/* source_check_flags - validate source_flags; prints the usage error. Return: 0 or -EINVAL */
int source_check_flags(void);
/* source_open_all - open the wanted types, or the default one.
 * Return: 0, -ENOENT when no source results (logged), other -errno (logged). */
int source_open_all(const SourceEnv *env);

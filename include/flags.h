/*
 * flags.h - command-line flags as data: kingpin-style parsing and --help.
 *
 * DESCRIPTION
 *	Each module that owns flags (main.c, every source type) declares a
 *	table of Flag entries ending in FLAG_END. A flag's default is written
 *	once, as the text a user would type (.def, e.g. "6h", "8192"): it is
 *	parsed into the variable by flags_parse() through the same code as a
 *	given value, and --help prints it verbatim where the help text says
 *	"{}" (so "(default {})" in the table reads "(default 6h)" in --help).
 *	A repeatable (FLAG_LIST) flag's default applies only when the flag is
 *	not given at all.
 *	Numbers and durations may carry a range (.min, .max): a value outside
 *	it is a usage error naming the flag, the value and the range, and
 *	--help shows the range next to the default.
 * DIAGNOSTICS
 *	flags_parse() prints the usage error, one line, to stderr and returns
 *	-EINVAL.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum FlagType {
	FLAG_STRING,   /* const char *, points into argv or at .def */
	FLAG_LIST,     /* StrList, repeatable */
	FLAG_BOOL,     /* bool; --name, --name=true|false, --no-name */
	FLAG_U64,      /* uint64_t */
	FLAG_DURATION, /* int64_t µs; "30s", "1h", "7d" */
} FlagType;

/* StrList - the values of a repeatable flag; v is NULL-terminated when n > 0 */
typedef struct StrList {
	char **v;
	size_t n;
} StrList;

typedef struct Flag {
	const char *name; /* without the leading "--"; NULL ends a table */
	FlagType type;
	void *ptr;
	const char *placeholder; /* NULL for booleans */
	const char *def;         /* default as typed on the command line, or NULL */
	const char *help;        /* "{}" is replaced by .def */
	bool report;             /* also accepted by the report subcommand */
	bool *given;             /* set when the flag is on the command line (may be NULL) */
	/* accepted range of FLAG_U64 (the number) and FLAG_DURATION (µs) values;
	 * max 0: no upper bound. Checked for given values and shown in --help. */
	uint64_t min, max;
} Flag;

#define FLAG_END { NULL, 0, NULL, NULL, NULL, NULL, false, NULL, 0, 0 }

/* flags_parse - apply the defaults of every flag in the NULL-terminated list
 * of tables, then parse argv (without the program name). Arguments that are
 * not flags go to positional ("-" always; anything when report is true). A
 * flag not marked .report is unknown when report is true.
 * Return: 0, -EINVAL on a usage error (printed), -ENOMEM. */
int flags_parse(const Flag *const *tables, int argc, char **argv, bool report, StrList *positional);

/* flags_usage - one line per flag, "  --name=PLACEHOLDER  help (default …)" */
void flags_usage(const Flag *const *tables, FILE *f, bool report);

/* flags_free - free the vectors of every FLAG_LIST flag (not the strings, which are argv's) */
void flags_free(const Flag *const *tables);

/* strlist_add - append v (not copied) to l */
int strlist_add(StrList *l, const char *v);

/*
 * source.c - the table of source types, and choosing which to open.
 *
 * DESCRIPTION
 *	Every type whose flags name an input is opened, in table order (so
 *	files come before the journal). When none is named and the daemon
 *	follows, the first type that is available() is opened: the journal,
 *	when it is readable. --once and report never fall back, so they need
 *	an explicit input.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "source.h"

/* Defined in their own files; declared here next to the table, so a new
 * source type needs no header of its own. */
extern const SourceType source_type_file;
extern const SourceType source_type_journal;

const SourceType *const source_types[] = {
	&source_type_file,
	&source_type_journal,
	NULL,
};

static const char *arg_start;
static bool arg_start_given;

const Flag source_flags[] = {
	{ "source.start", FLAG_STRING, &arg_start, "end|beginning", "end", "Where to start reading when there is no saved position (default {}; --once and report read from the beginning).", true, &arg_start_given },
	FLAG_END,
};

int source_check_flags(void)
{
	if (strcmp(arg_start, "end") && strcmp(arg_start, "beginning")) {
		fprintf(stderr, "postfix_tls_exporter: --source.start must be end or beginning\n");
		return -EINVAL;
	}
	return 0;
}

/* Counts what the types hand over, for the "no log source" check. */
typedef struct Counted {
	const SourceEnv *outer;
	size_t n;
} Counted;

static int add_counted(void *userdata, Source *s)
{
	Counted *c = userdata;
	int r = c->outer->add(c->outer->userdata, s);
	if (r >= 0)
		c->n++;
	return r;
}

int source_open_all(const SourceEnv *env)
{
	Counted c = { .outer = env };
	SourceEnv e = *env;
	e.add = add_counted;
	e.userdata = &c;
	e.start = !strcmp(arg_start, "beginning") ? SOURCE_START_BEGINNING : SOURCE_START_END;
	if (!e.follow && !arg_start_given)
		e.start = SOURCE_START_BEGINNING;

	const SourceType *const *t;
	bool wanted = false;
	for (t = source_types; *t; t++) {
		if (!(*t)->wanted(&e))
			continue;
		if (wanted)
			/* Nothing tells a copy from a second event: on Debian
			 * rsyslog writes the journal's mail facility to
			 * /var/log/mail.log, and both read would count twice. */
			log_warn("reading the journal and log files together: a line that is in both (rsyslog copies "
				 "the journal's mail facility to /var/log/mail.log) counts twice; name only one of them "
				 "unless they hold different MTAs' logs");
		wanted = true;
		if (e.follow)
			log_info("source type %s: chosen by its flags", (*t)->name);
		int r = (*t)->open(&e);
		if (r < 0)
			return r;
	}
	for (t = source_types; !wanted && e.follow && *t; t++)
		if ((*t)->available && (*t)->available()) {
			log_info("source type %s: chosen by default (no --source.* flag names an input, and it is readable)",
				 (*t)->name);
			int r = (*t)->open(&e);
			if (r < 0)
				return r;
			break;
		}
	if (c.n == 0) {
		log_error("no log source: give --source.file=PATH or --source.journal "
			  "(the journal is not readable here, and no file was named)");
		return -ENOENT;
	}
	return 0;
}

/*
 * polstat.c - Postfix 3.11+ TLS feature status ("tls=" in delivery lines).
 *
 * DESCRIPTION
 *	pol_stats_format() writes each activated feature as
 *	[!]initial[:final][?], features separated by "/": "!" when the
 *	policy was violated and the connection not used, ":final" when the
 *	feature was downgraded (allowed by the policy), "?" when it stayed
 *	undecided (e.g. no connection was made). Index 0 is the TLS security
 *	level (smtp/smtp.h smtp_tls_stat_activate_sec_level(): str_tls_level(),
 *	or "unknown" when the policy lookup failed), index 1 REQUIRETLS, whose
 *	initial name is always "requiretls". Names are folded into a closed
 *	set so that a label cannot take arbitrary values from the log.
 */
#include <string.h>

#include "macro.h"
#include "polstat.h"

/* tls/tls_level.c tls_level_table, smtp/smtp.h SMTP_TLS_STAT_NAME_*. */
static const char *fold(Slice name)
{
	static const char *const known[] = {
		"none", "may", "encrypt", "fingerprint", "halfdane", "dane", "dane-only", "verify", "secure",
		"unknown", "requiretls", "nocertmatch", "nostarttls", "noencryption",
	};
	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		if (slice_eq_str(name, known[i]))
			return known[i];
	return "other";
}

bool polstat_next(Slice *field, PolStat *ret)
{
	if (!field->p || field->n == 0)
		return false;
	const char *slash = memchr(field->p, '/', field->n);
	Slice f = { field->p, slash ? (size_t)(slash - field->p) : field->n };
	*field = slash ? (Slice){ slash + 1, field->n - f.n - 1 } : SLICE_NULL;

	ret->state = "satisfied";
	if (f.n && f.p[0] == '!') {
		ret->state = "blocked";
		f.p++, f.n--;
	} else if (f.n && f.p[f.n - 1] == '?') {
		ret->state = "undecided";
		f.n--;
	}
	Slice init = f, final = f;
	const char *colon = memchr(f.p, ':', f.n);
	if (colon) {
		init.n = (size_t)(colon - f.p);
		final = (Slice){ colon + 1, f.n - init.n - 1 };
		if (!strcmp(ret->state, "satisfied"))
			ret->state = "downgraded";
	}
	ret->level = fold(init);
	ret->final = fold(final);
	ret->feature = strcmp(ret->level, "requiretls") ? "security_level" : "requiretls";
	return true;
}

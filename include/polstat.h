/*
 * polstat.h - the TLS feature status that Postfix 3.11+ logs in delivery
 * lines ("tls=feature[/feature...]", global/pol_stats.c
 * pol_stats_format()), read into closed label sets.
 */
#pragma once

#include <stdbool.h>

#include "slice.h"

typedef struct PolStat {
	const char *feature; /* "security_level" or "requiretls" */
	const char *level;   /* the policy's initial name; "other" when unknown */
	const char *final;   /* the name it ended at; equal to level unless downgraded */
	const char *state;   /* "satisfied", "downgraded", "blocked" or "undecided" */
} PolStat;

/* polstat_next - read the next feature of *field into *ret and advance
 * *field past it; false when no feature is left. */
bool polstat_next(Slice *field, PolStat *ret);

/*
 * scan_diff.h - compare scan.c's scanners with the PCRE2 patterns they stand
 * for (the reference), on one message. Shared by tests/unit/test-scan.c and
 * the fuzz-scan target.
 */
#pragma once

#include <stdio.h>

#include "parse.h"
#include "scan.h"

/* scan_diff - 0 when every rule with a scanner answers msg as its pattern
 * does (match or not, every group the same slice of msg), else the rule
 * that differs + 1, with what differs in why. */
static inline int scan_diff(Parser *p, Slice msg, char *why, size_t why_size)
{
	for (unsigned id = 0; id < _R_MAX; id++) {
		if (!scan_for((RuleId)id))
			continue;
		Match a, b;
		parser_use_scanners(p, true);
		int ra = parser_match_rule(p, (RuleId)id, msg, &a);
		parser_use_scanners(p, false);
		int rb = parser_match_rule(p, (RuleId)id, msg, &b);
		parser_use_scanners(p, true);
		if (ra != rb) {
			snprintf(why, why_size, "rule %s: scanner %s, pattern %s", rules[id].name,
				 ra == 0 ? "matches" : "does not match", rb == 0 ? "matches" : "does not match");
			return (int)id + 1;
		}
		if (ra != 0)
			continue;
		for (unsigned g = 0; g < _G_MAX; g++)
			if (a.g[g].p != b.g[g].p || a.g[g].n != b.g[g].n) {
				snprintf(why, why_size, "rule %s, group %s: scanner [%td,+%zu], pattern [%td,+%zu]",
					 rules[id].name, rules_group_names[g], a.g[g].p ? a.g[g].p - msg.p : -1, a.g[g].n,
					 b.g[g].p ? b.g[g].p - msg.p : -1, b.g[g].n);
				return (int)id + 1;
			}
	}
	return 0;
}

/*
 * scan.h - hand-written scanners for the hottest rules of rules.c, which
 * stay the reference: a scanner returns what PCRE2 returns for the rule's
 * pattern (tests/unit/test-scan.c, fuzz-scan).
 */
#pragma once

#include <stdbool.h>

#include "parse.h"

/* ScanFn - match msg against one rule's pattern: true with every group of
 * *ret set (ret->rule is the caller's), false when it does not match. */
typedef bool (*ScanFn)(Slice msg, Match *ret);

/* scan_for - the scanner of rule id, or NULL (the rule uses PCRE2). */
ScanFn scan_for(RuleId id);

/*
 * utf8.h - keep log data valid UTF-8 on its way to labels, reports and state.
 *
 * Prometheus rejects a whole scrape with one invalid UTF-8 label value, and
 * any local user can write a line into the journal as postfix/smtpd. So
 * every field of a log record is checked once, when it enters the pipeline:
 * invalid sequences (stray continuation bytes, overlong forms, surrogates,
 * code points past U+10FFFF, truncated sequences) and control bytes (C0 and
 * DEL, which Postfix itself never logs) are each replaced by U+FFFD.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* utf8_clean - true if p[0..n) is valid UTF-8 without control bytes. */
bool utf8_clean(const char *p, size_t n);
/* utf8_line_end - the first '\n' in [p, end), or NULL. *printable is set
 * to whether every byte before it (before end when there is none) is
 * printable ASCII, 0x20..0x7e, which utf8_clean() need not check again: a
 * file source finds its line ends and the check in one pass. */
const char *utf8_line_end(const char *p, const char *end, bool *printable);
/* utf8_sanitize - append p[0..n) to out with every invalid sequence and
 * control byte replaced by U+FFFD (EF BF BD). */
void utf8_sanitize(Buf *out, const char *p, size_t n);
/* utf8_cut - the longest prefix of valid UTF-8 p[0..n) that is at most max
 * bytes and ends on a character boundary. */
size_t utf8_cut(const char *p, size_t n, size_t max);

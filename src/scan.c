/*
 * scan.c - hand-written scanners for the rules every inbound session hits:
 * connect and disconnect.
 *
 * DESCRIPTION
 *	The patterns of rules.c stay the reference. A scanner answers exactly
 *	what PCRE2 answers for its rule's pattern, with the same anchoring
 *	(PCRE2_ANCHORED, PCRE2_DOLLAR_ENDONLY, no PCRE2_UTF): match or not, and
 *	every group as the same slice of the message (an empty group that took
 *	part is an empty slice at its position, not SLICE_NULL). They save the
 *	JIT's entry and backtracking, about 1 000 instructions a match.
 *
 *	tests/unit/test-scan.c runs every rule's examples through both, and
 *	fuzz-scan compares them on any input; CI fuzzes it like the parsers.
 *	A rule without a scanner keeps using PCRE2.
 */
#include <string.h>

#include "scan.h"

/* \s of PCRE2's default (C locale) tables: space, \t, \n, \v, \f, \r */
static inline bool is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* nonspace - the length of the \S run at p (n bytes left). */
static size_t nonspace(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && !is_space((unsigned char)p[i]))
		i++;
	return i;
}

static void clear(Match *ret)
{
	for (unsigned g = 0; g < _G_MAX; g++)
		ret->g[g] = SLICE_NULL;
}

/* "^connect from (?<peer>\S+)$" */
static bool scan_connect(Slice m, Match *ret)
{
	static const char pre[] = "connect from ";
	const size_t k = sizeof(pre) - 1;
	if (m.n <= k || memcmp(m.p, pre, k) != 0 || nonspace(m.p + k, m.n - k) != m.n - k)
		return false;
	clear(ret);
	ret->g[G_PEER] = (Slice){ m.p + k, m.n - k };
	return true;
}

/* stat_item - the length of " [a-z]+=\d+(?:/\d+)?" at p when it ends where
 * the next item, the notes or the message may begin (a space or the end),
 * else 0. An item followed by anything else can match no shorter either:
 * the byte after it would still be a digit, '/' or letter, so PCRE2 ends
 * the repetition before it. */
static size_t stat_item(const char *p, size_t n)
{
	size_t i = 1, j;
	if (n < 4 || p[0] != ' ')
		return 0;
	while (i < n && p[i] >= 'a' && p[i] <= 'z')
		i++;
	if (i == 1 || i >= n || p[i] != '=')
		return 0;
	for (j = ++i; i < n && is_digit((unsigned char)p[i]); i++)
		;
	if (i == j)
		return 0;
	if (i + 1 < n && p[i] == '/' && is_digit((unsigned char)p[i + 1]))
		for (i++; i < n && is_digit((unsigned char)p[i]); i++)
			;
	return i == n || p[i] == ' ' ? i : 0;
}

/* "^disconnect from (?<peer>\S+)(?<stats>(?: [a-z]+=\d+(?:/\d+)?)*)(?: notes=\S+)?$"
 * The peer is the run up to the first white space (no shorter peer can be
 * followed by a space). The notes, if any, are the last token: a stats
 * item that ends at a space cannot be shortened into them. */
static bool scan_disconnect(Slice m, Match *ret)
{
	static const char pre[] = "disconnect from ", notes[] = " notes=";
	const size_t k = sizeof(pre) - 1, kn = sizeof(notes) - 1;
	if (m.n <= k || memcmp(m.p, pre, k) != 0)
		return false;
	size_t peer = nonspace(m.p + k, m.n - k);
	if (peer == 0)
		return false;
	size_t stats = k + peer, pos = stats, l;
	while ((l = stat_item(m.p + pos, m.n - pos)) > 0)
		pos += l;
	if (pos < m.n) {
		size_t rest = m.n - pos;
		if (rest <= kn || memcmp(m.p + pos, notes, kn) != 0 || nonspace(m.p + pos + kn, rest - kn) != rest - kn)
			return false;
	}
	clear(ret);
	ret->g[G_PEER] = (Slice){ m.p + k, peer };
	ret->g[G_STATS] = (Slice){ m.p + stats, pos - stats };
	return true;
}

ScanFn scan_for(RuleId id)
{
	switch (id) {
	case R_CONNECT:
		return scan_connect;
	case R_DISCONNECT:
		return scan_disconnect;
	default:
		return NULL;
	}
}

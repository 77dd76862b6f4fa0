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

/* word - whether m has the literal s at *i; advances past it if so. */
static bool word(Slice m, size_t *i, const char *s)
{
	if (!slice_has_prefix((Slice){ m.p + *i, m.n - *i }, s))
		return false;
	*i += strlen(s);
	return true;
}

/* token - "\S+" at *i: its slice (empty: none), *i past it. */
static Slice token(Slice m, size_t *i)
{
	size_t l = nonspace(m.p + *i, m.n - *i);
	Slice t = { m.p + *i, l };
	*i += l;
	return t;
}

/* paren - " \(([^)]*)\)" at *i: the inside (NULL: none), *i past it. */
static Slice paren(Slice m, size_t *i)
{
	size_t j = *i;
	if (!word(m, &j, " ("))
		return SLICE_NULL;
	const char *close = memchr(m.p + j, ')', m.n - j);
	if (!close)
		return SLICE_NULL;
	Slice in = { m.p + j, (size_t)(close - (m.p + j)) };
	*i = (size_t)(close - m.p) + 1;
	return in;
}

/* digits - "\d+" at *i. */
static bool digits(Slice m, size_t *i)
{
	size_t j = *i;
	while (j < m.n && is_digit((unsigned char)m.p[j]))
		j++;
	if (j == *i)
		return false;
	*i = j;
	return true;
}

/* signature - "(?: WHO-signature \S+(?: \([^)]*\))?(?: WHO-digest \S+)?)?" */
static void signature(Slice m, size_t *i, const char *sig, const char *dig)
{
	size_t j = *i;
	if (!word(m, &j, sig) || token(m, &j).n == 0)
		return;
	paren(m, &j);
	size_t k = j;
	if (word(m, &k, dig) && token(m, &k).n > 0)
		j = k;
	*i = j;
}

/* tls_rest - from "(?<proto>" to the end of the TLS summary pattern, at i.
 * Every token is a maximal \S run and every optional part starts with a
 * word no other part starts with, so taking each part when it is there is
 * what PCRE2's backtracking ends with. */
static bool tls_rest(Slice m, size_t i, Match *ret)
{
	size_t start = i;
	if (!word(m, &i, "SSLv") && !word(m, &i, "TLSv"))
		return false;
	size_t v = i;
	while (i < m.n && (is_digit((unsigned char)m.p[i]) || m.p[i] == '.'))
		i++;
	if (i == v)
		return false;
	Slice proto = { m.p + start, i - start };
	if (!word(m, &i, " with cipher "))
		return false;
	Slice cipher = token(m, &i);
	if (cipher.n == 0 || !word(m, &i, " (") || !digits(m, &i) || !word(m, &i, "/") || !digits(m, &i) ||
	    !word(m, &i, " bits)"))
		return false;
	Slice kex = SLICE_NULL, kexparm = SLICE_NULL;
	size_t j = i;
	if (word(m, &j, " key-exchange ") && (kex = token(m, &j)).n > 0) {
		kexparm = paren(m, &j);
		i = j;
	} else {
		kex = SLICE_NULL;
	}
	signature(m, &i, " server-signature ", " server-digest ");
	signature(m, &i, " client-signature ", " client-digest ");
	if (i != m.n)
		return false;
	ret->g[G_PROTO] = proto;
	ret->g[G_CIPHER] = cipher;
	ret->g[G_KEX] = kex;
	ret->g[G_KEXPARM] = kexparm;
	return true;
}

/* "^(?:(?<trust>Anonymous|Untrusted|Trusted|Verified) )?TLS connection
 * (?<usage>established|reused) (?<dir>from|to) (?<peer>\S+)(?: to
 * (?<sni>[^\s:]+))?: " then tls_rest(). The peer is the whole token when
 * " to SNI: " follows it; else the token less a final ':' that ": " ends. */
static bool scan_tls_summary(Slice m, Match *ret)
{
	static const char *const trusts[] = { "Anonymous ", "Untrusted ", "Trusted ", "Verified " };
	size_t i = 0;
	Slice trust = SLICE_NULL;
	for (unsigned t = 0; t < 4 && !trust.p; t++)
		if (word(m, &i, trusts[t]))
			trust = (Slice){ m.p, i - 1 };
	size_t u = i + 15;
	if (!word(m, &i, "TLS connection ") || !(word(m, &i, "established ") || word(m, &i, "reused ")))
		return false;
	Slice usage = { m.p + u, i - u - 1 };
	size_t d = i;
	if (!word(m, &i, "from ") && !word(m, &i, "to "))
		return false;
	Slice dir = { m.p + d, i - d - 1 };
	Slice peer = token(m, &i);
	if (peer.n == 0)
		return false;
	clear(ret);
	size_t j = i;
	if (word(m, &j, " to ")) {
		size_t s = j;
		while (j < m.n && m.p[j] != ':' && !is_space((unsigned char)m.p[j]))
			j++;
		Slice sni = { m.p + s, j - s };
		if (sni.n > 0 && word(m, &j, ": ") && tls_rest(m, j, ret)) {
			ret->g[G_SNI] = sni;
			goto found;
		}
	}
	/* the peer less its final ':', then ": " */
	if (peer.n < 2 || peer.p[peer.n - 1] != ':' || i >= m.n || m.p[i] != ' ' || !tls_rest(m, i + 1, ret))
		return false;
	peer.n--;
found:
	ret->g[G_TRUST] = trust;
	ret->g[G_USAGE] = usage;
	ret->g[G_DIR] = dir;
	ret->g[G_PEER] = peer;
	return true;
}

ScanFn scan_for(RuleId id)
{
	switch (id) {
	case R_CONNECT:
		return scan_connect;
	case R_DISCONNECT:
		return scan_disconnect;
	case R_TLS_SUMMARY:
		return scan_tls_summary;
	default:
		return NULL;
	}
}

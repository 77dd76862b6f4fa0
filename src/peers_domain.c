/*
 * peers_domain.c - peer identity: host name -> registrable domain.
 *
 * DESCRIPTION
 *	A name is lower-cased, stripped of trailing dots, converted to ASCII
 *	(non-ASCII labels are NFKC-lower-cased by libpsl and encoded as
 *	punycode "xn--" labels, RFC 3492) and checked for hostname syntax
 *	(letters, digits, '-', '_', labels of 1..63 bytes, at most 253 bytes).
 *	Its registrable domain comes from psl_registrable_domain(); a name that
 *	is itself a public suffix ("localhost", "co.uk") is its own peer.
 *	IP literals, "unknown", "other" and anything invalid map to "unknown".
 *
 *	Results for ASCII names are cached in a set-associative table keyed by
 *	the name lower-cased without trailing dots (seeded hash), so
 *	steady-state lookups neither allocate nor call libpsl, whose
 *	psl_registrable_domain() costs about 11 000 instructions. Non-ASCII
 *	names and names of DOMCACHE_NAME_MAX bytes or more are normalised every
 *	time (rare; only they allocate, in psl_str_to_utf8lower()). An entry
 *	holds the key's hash, not its bytes (see DomCacheEntry), so that the
 *	32 768 entries take 512 KB.
 * SECURITY
 *	Input comes from the log. Lengths are checked before every copy; the
 *	cache cannot grow; a set collision only costs a re-computation, a
 *	64-bit one is as unlikely as guessing the random seed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "peers_int.h"

static bool is_ip_literal(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == '[' || memchr(s, ':', n))
		return true;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
			return false;
	return true;
}

/* Punycode (RFC 3492 section 6.3) of one label of code points. */
static int punycode_label(const uint32_t *cp, size_t n, char *out, size_t outsz, size_t *ret_len)
{
	enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, IBIAS = 72, IN = 128 };
	size_t o = 0, b = 0;
#define EMIT(c) do { if (o + 1 >= outsz) return -1; out[o++] = (char)(c); } while (0)
	EMIT('x'); EMIT('n'); EMIT('-'); EMIT('-');
	for (size_t j = 0; j < n; j++)
		if (cp[j] < 0x80) {
			EMIT(cp[j]);
			b++;
		}
	size_t h = b;
	if (b > 0)
		EMIT('-');
	uint32_t nn = IN, bias = IBIAS;
	uint64_t delta = 0;
	while (h < n) {
		uint32_t m = UINT32_MAX;
		for (size_t j = 0; j < n; j++)
			if (cp[j] >= nn && cp[j] < m)
				m = cp[j];
		delta += (uint64_t)(m - nn) * (h + 1);
		if (delta > UINT32_MAX)
			return -1;
		nn = m;
		for (size_t j = 0; j < n; j++) {
			if (cp[j] < nn && ++delta > UINT32_MAX)
				return -1;
			if (cp[j] != nn)
				continue;
			uint64_t q = delta;
			for (uint32_t k = BASE;; k += BASE) {
				uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
				if (q < t)
					break;
				uint64_t d = t + (q - t) % (BASE - t);
				EMIT(d < 26 ? 'a' + d : '0' + d - 26);
				q = (q - t) / (BASE - t);
			}
			EMIT(q < 26 ? 'a' + q : '0' + q - 26);
			/* adapt */
			uint64_t dl = h == b ? delta / DAMP : delta / 2;
			dl += dl / (h + 1);
			uint32_t k = 0;
			while (dl > ((BASE - TMIN) * TMAX) / 2) {
				dl /= BASE - TMIN;
				k += BASE;
			}
			bias = (uint32_t)(k + (BASE - TMIN + 1) * dl / (dl + SKEW));
			delta = 0;
			h++;
		}
		delta++;
		nn++;
	}
#undef EMIT
	*ret_len = o;
	return 0;
}

/* utf8_decode - strict decoder; returns the number of bytes or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret)
{
	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	}
	size_t len;
	uint32_t c, min;
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*ret = c;
	return len;
}

/* to_ascii - lower-case UTF-8 (no trailing dot) -> ASCII with xn-- labels. */
static int to_ascii(const char *s, size_t n, char *out, size_t outsz, size_t *ret_len)
{
	size_t o = 0, i = 0;
	uint32_t cp[HOST_MAX];
	while (i <= n) {
		size_t start = i, ncp = 0;
		bool ascii = true;
		while (i < n && s[i] != '.') {
			uint32_t c;
			size_t l = utf8_decode((const unsigned char *)s + i, n - i, &c);
			if (l == 0 || ncp >= ELEMENTSOF(cp))
				return -1;
			if (c >= 0x80)
				ascii = false;
			/* IDNA label separators that NFKC leaves alone */
			if (c == 0x3002 || c == 0xff0e || c == 0xff61)
				return -1;
			cp[ncp++] = c;
			i += l;
		}
		if (ascii) {
			if (o + (i - start) + 1 > outsz)
				return -1;
			memcpy(out + o, s + start, i - start);
			o += i - start;
		} else {
			size_t l;
			if (punycode_label(cp, ncp, out + o, outsz - o, &l) < 0)
				return -1;
			o += l;
		}
		if (i < n) {
			if (o + 2 > outsz)
				return -1;
			out[o++] = '.';
		}
		i++;
	}
	*ret_len = o;
	return 0;
}

static bool valid_hostname(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* compute - fill e->norm / reg_off for key; norm_len 0 means "unknown". */
static void compute(const psl_ctx_t *psl, DomName *e, const char *s, size_t n)
{
	e->norm_len = 0;
	e->reg_off = 0;
	while (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= HOST_MAX || is_ip_literal(s, n))
		return;

	char lower[HOST_MAX];
	bool ascii = true;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80)
			ascii = false;
		else if (c < 0x20 || c == 0x7f)
			return;
		lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	lower[n] = '\0';

	size_t len = n;
	if (ascii) {
		memcpy(e->norm, lower, n + 1);
	} else {
		/* strict UTF-8 first: libpsl would turn invalid bytes into U+FFFD */
		for (size_t i = 0; i < n;) {
			uint32_t c;
			size_t l = utf8_decode((const unsigned char *)lower + i, n - i, &c);
			if (l == 0)
				return;
			i += l;
		}
		char *u = NULL;
		if (psl_str_to_utf8lower(lower, "utf-8", NULL, &u) != PSL_SUCCESS || !u)
			return;
		size_t ul = strlen(u);
		int r = to_ascii(u, ul, e->norm, sizeof(e->norm), &len);
		psl_free_string(u);
		if (r < 0)
			return;
		e->norm[len] = '\0';
	}
	if (!valid_hostname(e->norm, len))
		return;
	if (!strcmp(e->norm, "unknown") || !strcmp(e->norm, "other"))
		return;

	const char *reg = psl_registrable_domain(psl, e->norm);
	size_t off = reg ? (size_t)(reg - e->norm) : 0;
	if (off > len)
		off = 0;
	if (len - off >= PEERS_DOMAIN_MAX)
		return;
	e->norm_len = (uint16_t)len;
	e->reg_off = (uint16_t)off;
}

/* cache_key - the cache key of host (lower-cased, without trailing dots)
 * into key; its length, or 0 when host is not cached (non-ASCII, empty or
 * too long). */
static size_t cache_key(Slice host, char key[static DOMCACHE_NAME_MAX])
{
	size_t n = host.n;
	while (n > 0 && host.p[n - 1] == '.')
		n--;
	if (n == 0 || n >= DOMCACHE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)host.p[i];
		if (c >= 0x80)
			return 0;
		key[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	key[n] = '\0';
	return n;
}

/* cache_fill - keep the result d of key in the oldest way of set (age 0 is
 * the most recently filled). */
static DomCacheEntry *cache_fill(DomCacheEntry *set, uint64_t h, size_t n, const DomName *d)
{
	DomCacheEntry *e = &set[0];
	for (unsigned w = 1; w < DOMCACHE_WAYS; w++)
		if (set[w].len == 0 || set[w].age > e->age)
			e = &set[w];
	for (unsigned w = 0; w < DOMCACHE_WAYS; w++)
		if (set[w].age < UINT8_MAX)
			set[w].age++;
	e->age = 0;
	e->hash = h;
	e->len = (uint8_t)n;
	e->valid = d->norm_len > 0;
	e->reg_off = (uint8_t)d->reg_off;
	return e;
}

int peers_domcache_init(DomCache *c, const psl_ctx_t *psl, bool huge)
{
	*c = (DomCache){ .psl = psl, .seed = hash_random_seed() };
	/* one line more, to start the sets on a line (the pages stay the
	 * kernel's zero pages until used) */
	c->dom_mem = peers_alloc_zeroed(DOMCACHE_SETS * DOMCACHE_WAYS + 64 / sizeof(*c->dom), sizeof(*c->dom), huge);
	c->dom = c->dom_mem ? (DomCacheEntry *)(((uintptr_t)c->dom_mem + 63) & ~(uintptr_t)63) : NULL;
	return c->dom ? 0 : -ENOMEM;
}

void peers_domcache_deinit(DomCache *c)
{
	peers_free_zeroed(c->dom_mem);
	*c = (DomCache){ 0 };
}

void peers_normalize_host(DomCache *c, Slice host, PeerName *ret)
{
	*ret = (PeerName){ SLICE_NULL, 0 };
	if (host.n == 0 || host.n >= HOST_MAX)
		return;

	char *key = c->key;
	size_t kn = cache_key(host, key);
	const char *norm;
	size_t norm_len, reg_off;
	if (kn > 0) {
		uint64_t h = hash64(key, kn, c->seed);
		DomCacheEntry *set = c->dom + (h % DOMCACHE_SETS) * DOMCACHE_WAYS, *e = NULL;
		for (unsigned w = 0; w < DOMCACHE_WAYS && !e; w++)
			if (set[w].len == kn && set[w].hash == h)
				e = &set[w];
		if (!e) {
			compute(c->psl, &c->out, host.p, host.n);
			e = cache_fill(set, h, kn, &c->out);
		}
		if (!e->valid)
			return;
		norm = key; /* for an ASCII name, the normalised name is the key */
		norm_len = e->len;
		reg_off = e->reg_off;
	} else {
		compute(c->psl, &c->out, host.p, host.n);
		norm = c->out.norm;
		norm_len = c->out.norm_len;
		reg_off = c->out.reg_off;
	}
	if (norm_len == 0)
		return;
	*ret = (PeerName){ { norm, norm_len }, reg_off };
}

const char *peers_domain_of_host(Peers *p, Slice host)
{
	PeerName n;
	peers_normalize_host(&p->dc, host, &n);
	return n.norm.n ? n.norm.p + n.reg_off : "unknown";
}

/* recipient_domain - the part after the last '@', without <>. */
static Slice recipient_domain(Slice r)
{
	if (r.n > 0 && r.p[0] == '<') {
		r.p++;
		r.n--;
	}
	if (r.n > 0 && r.p[r.n - 1] == '>')
		r.n--;
	const char *at = NULL;
	for (size_t i = r.n; i > 0; i--)
		if (r.p[i - 1] == '@') {
			at = r.p + i - 1;
			break;
		}
	if (!at)
		return SLICE_NULL;
	return (Slice){ at + 1, (size_t)(r.p + r.n - at - 1) };
}

const char *peers_domain_of_recipient(Peers *p, Slice recipient)
{
	return peers_domain_of_host(p, recipient_domain(recipient));
}

Slice peers_recipient_domain(Slice recipient)
{
	return recipient_domain(recipient);
}

struct PeerNamer {
	DomCache dc;
};

int peers_namer_new(PeerNamer **ret, const Peers *p)
{
	PeerNamer *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* 4 KiB pages: the reading thread's cache is one of several tables
	 * (2 MB pages for the 512 KiB cache cost more memory than they saved) */
	int r = peers_domcache_init(&n->dc, p->dc.psl, false);
	if (r < 0) {
		free(n);
		return r;
	}
	*ret = n;
	return 0;
}

PeerNamer *peers_namer_free(PeerNamer *n)
{
	if (n) {
		peers_domcache_deinit(&n->dc);
		free(n);
	}
	return NULL;
}

void peers_namer_host(PeerNamer *n, Slice host, PeerName *ret)
{
	peers_normalize_host(&n->dc, host, ret);
}

void peers_namer_recipient(PeerNamer *n, Slice recipient, PeerName *ret)
{
	peers_normalize_host(&n->dc, recipient_domain(recipient), ret);
}

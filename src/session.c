/*
 * session.c - turn matched lines into classified sessions and deliveries:
 * the entry table, the shared counting helpers and mappings, and the
 * inbound side (smtpd sessions, postscreen connections, tlsproxy).
 *
 * DESCRIPTION
 *	Entries (inbound sessions, postscreen connections, smtp client
 *	processes, tlsproxy processes) live in one hash map keyed by
 *	(kind, program id, host, pid or endpoint), and on one LRU list per kind so
 *	that the oldest entry is found in O(1) for expiry and eviction.
 *	See session.h for the correlation rules; the Postfix behaviour they
 *	rely on is cited where it is used. The outbound side (smtp/lmtp
 *	processes and their deliveries) is in session_outbound.c.
 * SECURITY
 *	Keys and copied strings come from the log. Lengths are bounded by the
 *	line length limit, the map hash is seeded, and the number of entries
 *	is capped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "hosts.h"
#include "htable.h"
#include "metrics.h"
#include "session.h"
#include "session_int.h"
#include "util.h"

int sessions_new(Sessions **ret, Store *store, size_t max_entries, int64_t max_age_usec)
{
	Sessions *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->store = store;
	s->max_entries = max_entries ? max_entries : 1;
	s->max_age_usec = max_age_usec;
	if (htable_init(&s->map, 1024) < 0) {
		free(s);
		return -ENOMEM;
	}
	/* Exposed at 0 from the start, so that an alert on it needs no absent(). */
	Slice d[] = { SLICE_LIT("inbound") };
	store_add(store, M_TLS_WITHOUT_SUMMARY, d, 0);
	*ret = s;
	return 0;
}

static void entry_free(void *p)
{
	Entry *e = p;
	free(e->peer);
	free(e->proto);
	free(e->cipher);
	free(e->tls_peer);
	free(e->tls_proto);
	free(e->bound_qid);
	free(e->policy_fail_qid);
	free(e);
}

Sessions *sessions_free(Sessions *s)
{
	if (!s)
		return NULL;
	htable_deinit(&s->map, entry_free);
	buf_deinit(&s->keybuf);
	free(s);
	return NULL;
}

void sessions_set_peers(Sessions *s, Peers *peers)
{
	s->peers = peers;
}

void sessions_set_internal_relay(Sessions *s, SessionsRelayFn fn, void *userdata)
{
	s->internal_relay = fn;
	s->internal_relay_userdata = userdata;
}

void sessions_set_hosts(Sessions *s, Hosts *hosts)
{
	s->hosts = hosts;
}

uint64_t sessions_tls_without_summary(const Sessions *s)
{
	return s->n_tls_without_summary;
}

size_t sessions_open(const Sessions *s)
{
	/* Postscreen connections that passed are normally handed to smtpd and
	 * never disconnect in postscreen's name: they are not "open". */
	return s->lists[KIND_SMTPD].n + s->lists[KIND_POSTSCREEN].n - s->n_passed - s->n_lingering;
}

/* ---- map ---------------------------------------------------------------- */

static void list_unlink(List *l, Entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	l->n--;
}

static void list_push(List *l, Entry *e)
{
	e->prev = NULL;
	e->next = l->head;
	if (l->head)
		l->head->prev = e;
	l->head = e;
	if (!l->tail)
		l->tail = e;
	l->n++;
}

void sessions_entry_touch(Sessions *s, Entry *e, int64_t ts)
{
	if (ts > e->last_ts)
		e->last_ts = ts;
	List *l = &s->lists[e->kind];
	if (l->head != e) {
		list_unlink(l, e);
		list_push(l, e);
	}
}

/*
 * make_key - (kind, program id, host, pid or endpoint) of the current
 * record, in s->keybuf. The host keeps the MTAs of a fleet apart: identical
 * MTAs log the same PIDs, endpoints behind NAT and queue IDs. Its length
 * comes first so that no host/endpoint split is ambiguous.
 * Return: the key, or SLICE_NULL when out of memory.
 */
#define KEY_HOST_OFF (1 + sizeof(uint32_t) + sizeof(uint32_t))
static Slice make_key(Sessions *s, EntryKind kind, const ProgInfo *prog, uint32_t pid, Slice ep)
{
	_Static_assert(sizeof(prog->id) == sizeof(uint32_t), "KEY_HOST_OFF");
	/* one reservation and plain copies: this runs for nearly every line */
	Buf *b = &s->keybuf;
	uint32_t hn = (uint32_t)s->host.n;
	size_t n = KEY_HOST_OFF + hn + (ep.p ? ep.n : sizeof(pid));
	buf_clear(b);
	if (buf_reserve(b, n) < 0)
		return SLICE_NULL;
	char *d = b->data;
	d[0] = (char)kind;
	memcpy(d + 1, &prog->id, sizeof(prog->id));
	memcpy(d + 1 + sizeof(prog->id), &hn, sizeof(hn));
	if (hn)
		memcpy(d + KEY_HOST_OFF, s->host.p, hn);
	if (ep.p)
		memcpy(d + KEY_HOST_OFF + hn, ep.p, ep.n);
	else
		memcpy(d + KEY_HOST_OFF + hn, &pid, sizeof(pid));
	b->len = n;
	return (Slice){ b->data, b->len };
}

/* entry_host - the host part of an entry's key. */
static Slice entry_host(const Entry *e)
{
	uint32_t hn;
	memcpy(&hn, e->key + 1 + sizeof(uint32_t), sizeof(hn));
	return (Slice){ e->key + KEY_HOST_OFF, hn };
}

static bool entry_key_eq(const void *item, const void *key)
{
	const Entry *e = item;
	const Slice *k = key;
	return e->keylen == k->n && memcmp(e->key, k->p, k->n) == 0;
}

Entry *sessions_entry_lookup(Sessions *s, EntryKind kind, const ProgInfo *prog, uint32_t pid, Slice ep)
{
	Slice k = make_key(s, kind, prog, pid, ep);
	if (!k.p)
		return NULL;
	uint64_t h = htable_hash(&s->map, k.p, k.n);
	return htable_find(&s->map, h, entry_key_eq, &k);
}

static void destroy(Sessions *s, Entry *e)
{
	if (e->kind == KIND_POSTSCREEN && e->passed)
		s->n_passed--;
	htable_remove(&s->map, e->hash, e);
	list_unlink(&s->lists[e->kind], e);
	entry_free(e);
}

static void expire(Sessions *s, Entry *e);

Entry *sessions_entry_create(Sessions *s, EntryKind kind, const ProgInfo *prog, uint32_t pid, Slice ep, int64_t ts)
{
	/* Bound the table: the least recently used entry of the kind makes room. */
	List *l = &s->lists[kind];
	if (l->n >= s->max_entries && l->tail)
		expire(s, l->tail);
	Slice k = make_key(s, kind, prog, pid, ep);
	if (!k.p)
		return NULL;
	/* the key lives after the entry: one allocation instead of two */
	Entry *e = calloc(1, sizeof(*e) + k.n);
	if (!e)
		return NULL;
	e->key = (char *)(e + 1);
	memcpy(e->key, k.p, k.n);
	e->keylen = k.n;
	e->hash = htable_hash(&s->map, e->key, k.n);
	e->kind = kind;
	e->prog = prog;
	e->last_ts = ts;
	if (htable_insert(&s->map, e->hash, e) < 0) {
		entry_free(e);
		return NULL;
	}
	list_push(l, e);
	return e;
}

char *sessions_slice_dup(Slice v)
{
	char *p = malloc(v.n + 1);
	if (!p)
		return NULL;
	if (v.n)
		memcpy(p, v.p, v.n);
	p[v.n] = '\0';
	return p;
}

void sessions_set_str(char **dst, Slice v)
{
	free(*dst);
	*dst = v.p ? sessions_slice_dup(v) : NULL;
}

/* set_peer - e->peer, and after it, in one allocation, the client name as
 * the reading thread normalised it (name, or NULL: the Peers will) */
static void set_peer(Entry *e, Slice peer, const PeerName *name)
{
	free(e->peer);
	e->peer = e->name = NULL;
	if (!peer.p)
		return;
	if (name && name->norm.n > UINT8_MAX)
		name = NULL; /* names have at most 253 bytes (peers_domain.c) */
	size_t nn = name ? name->norm.n : 0;
	char *p = malloc(peer.n + 1 + (name ? nn + 1 : 0));
	if (!p)
		return;
	memcpy(p, peer.p, peer.n);
	p[peer.n] = '\0';
	e->peer = p;
	if (!name)
		return;
	e->name = p + peer.n + 1;
	if (nn)
		memcpy(e->name, name->norm.p, nn);
	e->name[nn] = '\0';
	e->name_n = (uint8_t)nn;
	e->name_reg_off = (uint8_t)name->reg_off;
}

/* ---- metrics helpers ---------------------------------------------------- */

/* sessions_host_label - the current host's label value, empty without the host label. */
Slice sessions_host_label(Sessions *s)
{
	return s->hosts ? hosts_label(s->hosts, s->host) : SLICE_NULL;
}

/* sessions_count - one increment; with the host label, the current host comes first. */
void sessions_count(Sessions *s, MetricId m, const Slice *labels)
{
	if (!s->hosts || !metrics_has_host(m)) {
		store_add(s->store, m, labels, 1);
		return;
	}
	Slice l[STORE_LABELS_MAX];
	unsigned n = store_family(s->store, m)->n_labels;
	l[0] = sessions_host_label(s);
	memcpy(l + 1, labels, (n - 1) * sizeof(*l));
	store_add(s->store, m, l, 1);
}

void sessions_count_failure(Sessions *s, MetricId m, const ProgInfo *prog, const char *reason)
{
	Slice l[] = { prog->syslog_name, slice_from(reason) };
	sessions_count(s, m, l);
}

/* sessions_count_internal_hop - an internal hop, in its own family only. */
void sessions_count_internal_hop(Sessions *s, const ProgInfo *prog, const char *direction)
{
	Slice l[] = { prog->syslog_name, slice_from(direction) };
	sessions_count(s, M_INTERNAL_HOPS, l);
}

/* ---- mappings ------------------------------------------------------------ */
const char *sessions_map_text(const Mapping *map, size_t n, Slice text, const char *fallback)
{
	for (size_t i = 0; i < n; i++)
		if (find_lit(text.p, text.n, map[i].needle, strlen(map[i].needle)))
			return map[i].reason;
	return fallback;
}

/* OpenSSL reason strings (ssl/ssl_err.c) as printed by tls_print_errors(). */
static const Mapping library_reasons[] = {
	{ "no shared cipher", "no_shared_cipher" },
	{ "no ciphers available", "no_shared_cipher" },
	{ "no suitable signature algorithm", "no_shared_cipher" },
	{ "no shared signature algorithms", "no_shared_cipher" },
	{ "no suitable key share", "no_shared_cipher" },
	{ "unsupported protocol", "unsupported_protocol" },
	{ "version too low", "unsupported_protocol" },
	{ "wrong ssl version", "unsupported_protocol" },
	{ "alert protocol version", "unsupported_protocol" },
	{ "wrong version number", "wrong_version_number" },
	/* OpenSSL 1.0.x SSL23_GET_CLIENT_HELLO / SSL23_GET_SERVER_HELLO: the
	 * peer's first bytes are not a TLS record, what 1.1+ calls "wrong
	 * version number". */
	{ "unknown protocol", "wrong_version_number" },
	{ "http request", "http_request" },
	{ "https proxy request", "http_request" },
	{ "alert unknown ca", "unknown_ca" },
	{ "alert bad certificate", "bad_certificate" },
	{ "alert certificate unknown", "bad_certificate" },
	{ "alert certificate expired", "bad_certificate" },
	{ "alert internal error", "internal_error" },
	{ "unexpected eof", "lost_connection" },
	{ "alert handshake failure", "handshake_failure" },
	{ "sslv3 alert handshake failure", "handshake_failure" },
	{ "alert decode error", "decode_error" },
	{ "alert illegal parameter", "decode_error" },
	{ "record layer failure", "decode_error" },
	{ "packet length too long", "wrong_version_number" },
};

const char *sessions_inbound_failure_reason(Slice text)
{
	return sessions_map_text(library_reasons, ELEMENTSOF(library_reasons), text, "other");
}

/* SSL_accept error text: "%d" (then library lines refine it) or "%m". */
static const char *accept_error_reason(Slice err)
{
	static const Mapping m[] = {
		{ "lost connection", "lost_connection" },
		{ "timed out", "timeout" },
		{ "reset by peer", "connection_reset" },
		{ "Broken pipe", "connection_reset" },
	};
	return sessions_map_text(m, ELEMENTSOF(m), err, NULL);
}

static void lower_into(char *out, size_t size, Slice v)
{
	size_t n = MIN(v.n, size - 1);
	for (size_t i = 0; i < n; i++) {
		char c = v.p[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
}

/*
 * Key exchange as tls_get_signature_params() logs it: 3.4-3.9 print the
 * algorithm and the curve ("X25519", "ECDHE (prime256v1)", "ECDHE (P-256)",
 * "DHE (2048 bits)"), 3.10 the TLS group name ("x25519", "secp256r1",
 * "X25519MLKEM768"). Both map to the lower-case group name.
 */
int sessions_key_exchange(Slice kex, Slice kexparm, char *out, size_t size)
{
	static const Mapping curves[] = {
		{ "prime256v1", "secp256r1" }, { "P-256", "secp256r1" }, { "secp256r1", "secp256r1" },
		{ "P-384", "secp384r1" }, { "secp384r1", "secp384r1" },
		{ "P-521", "secp521r1" }, { "secp521r1", "secp521r1" },
	};
	if (!kex.p || kex.n == 0) {
		snprintf(out, size, "unknown");
		return 0;
	}
	if (kexparm.p && kexparm.n) {
		const char *c = sessions_map_text(curves, ELEMENTSOF(curves), kexparm, NULL);
		if (c) {
			snprintf(out, size, "%s", c);
			return 0;
		}
		/* "DHE (2048 bits)" -> "dhe2048" */
		uint32_t bits;
		if (kexparm.n > 5 && memcmp(kexparm.p + kexparm.n - 5, " bits", 5) == 0 &&
		    slice_to_u32((Slice){ kexparm.p, kexparm.n - 5 }, &bits)) {
			char alg[32];
			lower_into(alg, sizeof(alg), kex);
			snprintf(out, size, "%s%u", alg, bits);
			return 0;
		}
		lower_into(out, size, kexparm);
		return 0;
	}
	const char *c = sessions_map_text(curves, ELEMENTSOF(curves), kex, NULL);
	if (c && strlen(c) == kex.n) /* exact names only: "P-256" yes, "X25519MLKEM768" no */
		snprintf(out, size, "%s", c);
	else
		lower_into(out, size, kex);
	return 0;
}

/* sessions_count_handshake - one completed handshake from a TLS summary match. */
void sessions_count_handshake(Sessions *s, MetricId metric, const ProgInfo *prog, const Match *m)
{
	char kex[64], trust[16];
	sessions_key_exchange(m->g[G_KEX], m->g[G_KEXPARM], kex, sizeof(kex));
	if (m->g[G_TRUST].p)
		lower_into(trust, sizeof(trust), m->g[G_TRUST]);
	else
		snprintf(trust, sizeof(trust), "unknown"); /* Postfix 2.2-2.4 log no trust word */
	Slice l[] = { prog->syslog_name, slice_from(trust), m->g[G_PROTO], m->g[G_CIPHER], slice_from(kex) };
	sessions_count(s, metric, l);
}

/* ---- inbound ------------------------------------------------------------- */

typedef struct Stats {
	bool present;            /* 3.0+ "commands=" statistics */
	uint32_t starttls_ok, starttls_total;
	uint32_t data_ok, bdat_ok;
	uint32_t xforward_ok;
} Stats;

/* parse_stats - " ehlo=2 starttls=1 mail=1 rcpt=0/1 ... commands=5/6" */
static Stats parse_stats(Slice st)
{
	Stats r = { 0 };
	const char *p = st.p, *end = st.p + st.n;
	while (p && p < end) {
		while (p < end && *p == ' ')
			p++;
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (!eq)
			break;
		const char *sp = memchr(eq, ' ', (size_t)(end - eq));
		if (!sp)
			sp = end;
		Slice name = { p, (size_t)(eq - p) };
		Slice val = { eq + 1, (size_t)(sp - eq - 1) };
		const char *slash = memchr(val.p, '/', val.n);
		uint32_t ok = 0, total = 0;
		if (slash) {
			slice_to_u32((Slice){ val.p, (size_t)(slash - val.p) }, &ok);
			slice_to_u32((Slice){ slash + 1, (size_t)(val.p + val.n - slash - 1) }, &total);
		} else {
			slice_to_u32(val, &ok);
			total = ok;
		}
		if (slice_eq_str(name, "starttls")) {
			r.starttls_ok = ok;
			r.starttls_total = total;
		} else if (slice_eq_str(name, "data")) {
			r.data_ok = ok;
		} else if (slice_eq_str(name, "bdat")) {
			r.bdat_ok = ok;
		} else if (slice_eq_str(name, "xforward")) {
			r.xforward_ok = ok;
		} else if (slice_eq_str(name, "commands")) {
			r.present = true;
		}
		p = sp;
	}
	return r;
}

void sessions_split_peer(Slice peer, Slice *name, Slice *addr)
{
	*addr = SLICE_LIT("");
	const char *lb = peer.n ? memrchr(peer.p, '[', peer.n) : NULL;
	const char *rb = lb ? memchr(lb, ']', (size_t)(peer.p + peer.n - lb)) : NULL;
	if (!lb || !rb) {
		*name = peer;
		return;
	}
	*name = (Slice){ peer.p, (size_t)(lb - peer.p) };
	*addr = (Slice){ lb + 1, (size_t)(rb - lb - 1) };
}

/* split_peer - an entry's peer split; no peer: "unknown" */
static void split_peer(const char *peer, Slice *name, Slice *addr)
{
	if (!peer) {
		*name = SLICE_LIT("unknown");
		*addr = SLICE_LIT("");
		return;
	}
	sessions_split_peer(slice_from(peer), name, addr);
}

/* handshake_unlogged - the session completed a TLS handshake that logged no
 * summary (smtpd_tls_loglevel = 0: tls_server_start() logs it only with
 * TLS_LOG_SUMMARY). Handshake failures are logged at every level, so:
 *   - smtpd.c counts a STARTTLS command as successful only when
 *     starttls_cmd() returns, which it does after a completed handshake
 *     (a failed one longjmps out): "starttls=1", "starttls=1/2";
 *   - a wrapper-mode service handshakes before the banner, and a failure
 *     logs "SSL_accept error" (tls_server.c);
 *   - tlsproxy, once postscreen handed it the connection ("CONNECT from"),
 *     logs "TLS handshake failed" for every handshake it did not complete
 *     (tlsp_state_free(), tlsproxy_state.c). */
static bool handshake_unlogged(const Entry *e, const Stats *st)
{
	if (e->tls_done || e->pending_failure || e->failure_counted)
		return false;
	if (e->kind == KIND_POSTSCREEN)
		return e->tls_attempted;
	if (st && st->starttls_ok > 0)
		return true;
	return e->prog->wrapper_mode && !e->tls_attempted;
}

/* count_unlogged_handshake - a handshake known only from handshake_unlogged(). */
static void count_unlogged_handshake(Sessions *s, Entry *e)
{
	const Slice u = SLICE_LIT("unknown");
	Slice l[] = { e->prog->syslog_name, u, u, u, u };
	sessions_count(s, M_INBOUND_HANDSHAKES, l);
	Slice d[] = { SLICE_LIT("inbound") };
	sessions_count(s, M_TLS_WITHOUT_SUMMARY, d);
	s->n_tls_without_summary++;
	e->tls_done = true;
	sessions_set_str(&e->proto, u);
	sessions_set_str(&e->cipher, u);
}

/* inbound_internal - a session of an internal service, or one whose client
 * sent XFORWARD: smtpd accepts it only from smtpd_authorized_xforward_hosts
 * (smtpd.c: xforward_cmd()), and the smtp client sends it only with
 * smtp_send_xforward_command = yes, i.e. a content filter reinjecting. */
static bool inbound_internal(const Entry *e, const Stats *st)
{
	return e->prog->internal || (st && st->xforward_ok > 0);
}

/* finish - classify an ended inbound session exactly once, then drop it. */
static void finish(Sessions *s, Entry *e, const Stats *st, int64_t ts)
{
	const ProgInfo *prog = e->prog;
	/* The sweep ends entries of any host; the key dies with the entry. */
	Slice current = s->host;
	s->host = entry_host(e);
	bool internal = inbound_internal(e, st);
	if (internal)
		sessions_count_internal_hop(s, prog, "inbound");
	if (handshake_unlogged(e, st))
		count_unlogged_handshake(s, e);
	bool attempted = e->tls_attempted || (st && st->starttls_total > 0);
	Encryption enc = e->tls_done ? ENC_TLS : attempted ? ENC_STARTTLS_FAILED : ENC_PLAINTEXT;
	/* A message was accepted: DATA or BDAT succeeded (3.0+ statistics);
	 * before 3.0, a queue file was opened ("QID: client=" logged). */
	bool mail = (st && st->present) ? (st->data_ok + st->bdat_ok) > 0 : e->client_seen;

	if (enc == ENC_STARTTLS_FAILED && !e->failure_counted && !internal) {
		/* No handshake error line: smtpd refused STARTTLS itself (syntax
		 * error, "454 TLS not available due to local problem"). */
		const char *reason = e->pending_failure ? e->pending_failure : "starttls_rejected";
		sessions_count_failure(s, M_INBOUND_TLS_FAILURES, prog, reason);
		e->failure_counted = true;
	}
	/* An internal hop (a content filter reinjecting, an internal service)
	 * counts in its own family only: in the session family it would count
	 * each filtered message twice and skew every share. */
	if (!internal) {
		Slice l[] = { prog->syslog_name, slice_from(encryption_name(enc)),
			      mail ? SLICE_LIT("true") : SLICE_LIT("false") };
		sessions_count(s, M_INBOUND_SESSIONS, l);
	}
	if (e->kind == KIND_POSTSCREEN) {
		Slice c[] = { prog->syslog_name };
		sessions_count(s, M_INBOUND_CONNECTIONS, c);
	}
	if (s->peers && !internal) {
		PeerSession ps = {
			.ts_usec = ts,
			.host = sessions_host_label(s),
			.syslog_name = prog->syslog_name,
			.encryption = enc,
			.mail = mail,
			.protocol = slice_from(e->proto),
			.cipher = slice_from(e->cipher),
			.failure = enc == ENC_STARTTLS_FAILED ? (e->pending_failure ? e->pending_failure : "starttls_rejected") : NULL,
		};
		PeerName pn;
		if (e->name) {
			pn = (PeerName){ { e->name, e->name_n }, e->name_reg_off };
			ps.name = &pn;
		}
		if (e->kind == KIND_POSTSCREEN) {
			/* postscreen logs no client name: "[addr]:port" */
			ps.client_name = SLICE_LIT("unknown");
			Slice name;
			split_peer(e->peer, &name, &ps.client_addr);
		} else {
			split_peer(e->peer, &ps.client_name, &ps.client_addr);
		}
		peers_inbound_session(s->peers, &ps);
	}
	if (e->lingering)
		s->n_lingering--;
	destroy(s, e);
	s->host = current;
}

/* expire - an entry dropped without its end line. */
static void expire(Sessions *s, Entry *e)
{
	if (e->lingering) { /* it has ended: tlsproxy said nothing more */
		finish(s, e, NULL, e->last_ts);
		return;
	}
	if (e->kind == KIND_SMTPD || (e->kind == KIND_POSTSCREEN && !e->passed))
		store_add(s->store, M_SESSIONS_EXPIRED, NULL, 1);
	destroy(s, e);
}

/* A connection postscreen passed is smtpd's once a few seconds went by
 * without its DISCONNECT; there is no line that says so. tlsproxy gives up
 * on a handshake after smtpd_starttls_timeout (300s by default), so a
 * lingering connection's outcome has been logged by then too. */
#define PASSED_HANDOFF_USEC (5 * 60 * USEC_PER_SEC)

void sessions_sweep(Sessions *s, int64_t now)
{
	for (unsigned k = 0; k < _KIND_MAX; k++) {
		List *l = &s->lists[k];
		while (l->tail && l->tail->last_ts + s->max_age_usec < now)
			expire(s, l->tail);
	}
	/* Passed postscreen entries would otherwise fill the table for an hour;
	 * lingering ones end as they are when tlsproxy stayed silent. */
	for (Entry *e = s->lists[KIND_POSTSCREEN].tail; e && e->last_ts + PASSED_HANDOFF_USEC < now;) {
		Entry *prev = e->prev;
		if (e->lingering)
			finish(s, e, NULL, e->last_ts);
		else if (e->passed)
			destroy(s, e);
		e = prev;
	}
}

static void on_smtpd(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m)
{
	Entry *e = sessions_entry_lookup(s, KIND_SMTPD, prog, ll->pid, SLICE_NULL);
	switch (m->rule) {
	case R_CONNECT: {
		/* One smtpd process serves one client at a time: an open session
		 * under the same PID lost its disconnect line. */
		if (e)
			expire(s, e);
		e = sessions_entry_create(s, KIND_SMTPD, prog, ll->pid, SLICE_NULL, ll->ts_usec);
		if (e)
			set_peer(e, m->g[G_PEER], s->name);
		Slice c[] = { prog->syslog_name };
		sessions_count(s, M_INBOUND_CONNECTIONS, c);
		return;
	}
	case R_TLS_SUMMARY: {
		sessions_count_handshake(s, M_INBOUND_HANDSHAKES, prog, m);
		if (e) {
			e->tls_done = true;
			sessions_set_str(&e->proto, m->g[G_PROTO]);
			sessions_set_str(&e->cipher, m->g[G_CIPHER]);
			sessions_entry_touch(s, e, ll->ts_usec);
		}
		return;
	}
	case R_SSL_ACCEPT_ERROR:
		if (!e)
			return;
		e->tls_attempted = true;
		/* "%d" (-1, 0): the TLS library lines that follow say why. */
		e->pending_failure = accept_error_reason(m->g[G_ERR]);
		if (!e->pending_failure)
			e->pending_failure = "other";
		sessions_entry_touch(s, e, ll->ts_usec);
		return;
	case R_TLS_LIBRARY_PROBLEM:
		/* Only a pending handshake failure is refined; library lines after
		 * a completed handshake (a TLS 1.3 client rejecting our
		 * certificate) belong to a session that is already "tls". */
		if (e && e->pending_failure && !strcmp(e->pending_failure, "other") && !e->tls_done) {
			e->pending_failure = sessions_inbound_failure_reason(m->g[G_ERR]);
			sessions_entry_touch(s, e, ll->ts_usec);
		}
		return;
	case R_CLIENT:
		if (e) {
			e->client_seen = true;
			sessions_entry_touch(s, e, ll->ts_usec);
		}
		return;
	case R_DISCONNECT: {
		if (!e)
			return; /* started after its connect line: outcome unknown */
		Stats st = parse_stats(m->g[G_STATS]);
		finish(s, e, &st, ll->ts_usec);
		return;
	}
	case R_ABNORMAL_END:
	case R_TLS_ABORT:
	case R_TLS_SETUP:
	case R_LEGACY_CERT:
	case R_PIPELINING:
	case R_TLS_SNI:
	case R_VERIFY_FAILED:
		if (e)
			sessions_entry_touch(s, e, ll->ts_usec);
		return;
	default:
		return;
	}
}

/* Postscreen connections are keyed by endpoint alone, so that tlsproxy
 * (another program) finds them: "[addr]:port" is unique while connected. */
static const ProgInfo endpoint_key = { .id = UINT32_MAX };

static void on_postscreen(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m)
{
	Slice ep = m->g[G_EP];
	Entry *e = sessions_entry_lookup(s, KIND_POSTSCREEN, &endpoint_key, 0, ep);
	switch (m->rule) {
	case R_POSTSCREEN_CONNECT:
		if (e)
			expire(s, e);
		e = sessions_entry_create(s, KIND_POSTSCREEN, &endpoint_key, 0, ep, ll->ts_usec);
		if (e) {
			e->prog = prog;
			set_peer(e, ep, NULL);
		}
		return;
	case R_POSTSCREEN_PASS:
	case R_POSTSCREEN_ALLOWLISTED: /* psc_conclude() hands it on without a PASS line */
		if (e) {
			if (!e->passed)
				s->n_passed++;
			e->passed = true;
			sessions_entry_touch(s, e, ll->ts_usec);
		}
		return;
	case R_POSTSCREEN_DISCONNECT:
		/* Counted here rather than at CONNECT: a connection that passes and
		 * is handed to smtpd logs no DISCONNECT and is counted by smtpd. */
		if (!e)
			return;
		if (e->proxied && !e->tls_done && !e->failure_counted) {
			/* postscreen gave up while tlsproxy is still in the
			 * handshake: tlsproxy's lines that follow say how it ended. */
			if (!e->lingering)
				s->n_lingering++;
			e->lingering = true;
			sessions_entry_touch(s, e, ll->ts_usec);
			return;
		}
		finish(s, e, NULL, ll->ts_usec);
		return;
	default:
		return;
	}
}

/* The postscreen connection behind a tlsproxy server-role endpoint. */
static Entry *postscreen_for(Sessions *s, Slice ep)
{
	return sessions_entry_lookup(s, KIND_POSTSCREEN, &endpoint_key, 0, ep);
}

static void on_tlsproxy(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m)
{
	switch (m->rule) {
	case R_TLS_SUMMARY: {
		/* Client role ("to host[addr]:port", smtp connection reuse): the smtp
		 * process logs the same handshake itself; count only that copy. */
		if (!slice_eq_str(m->g[G_DIR], "from"))
			return;
		sessions_count_handshake(s, M_INBOUND_HANDSHAKES, prog, m);
		Entry *e = postscreen_for(s, m->g[G_PEER]);
		if (e) {
			e->tls_attempted = e->tls_done = true;
			sessions_set_str(&e->proto, m->g[G_PROTO]);
			sessions_set_str(&e->cipher, m->g[G_CIPHER]);
			sessions_entry_touch(s, e, ll->ts_usec);
		}
		return;
	}
	case R_TLSPROXY_ENDPOINT: {
		if (slice_eq_str(m->g[G_WHAT], "DISCONNECT")) {
			/* tlsp_state_free() logs the handshake failure, if any, just
			 * before: library lines seen so far are spent. */
			Entry *t = sessions_entry_lookup(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL);
			if (t)
				t->last_library_reason = NULL;
		}
		/* postscreen hands a connection to tlsproxy only after STARTTLS. */
		Entry *e = postscreen_for(s, m->g[G_EP]);
		if (!e)
			return;
		if (slice_eq_str(m->g[G_WHAT], "CONNECT from")) {
			e->tls_attempted = e->proxied = true;
			sessions_entry_touch(s, e, ll->ts_usec);
		} else if (slice_eq_str(m->g[G_WHAT], "DISCONNECT")) {
			e->proxied = false;
			if (e->lingering)
				finish(s, e, NULL, ll->ts_usec);
		}
		return;
	}
	case R_TLS_WARNING:
		/* tlsp_ciphertext_event(): "ciphertext read/write timeout" comes
		 * right before tlsp_state_free()'s "TLS handshake failed". */
		if (slice_eq_str(m->g[G_WHAT], "ciphertext read/write timeout")) {
			Entry *t = sessions_entry_lookup(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL);
			if (!t)
				t = sessions_entry_create(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL, ll->ts_usec);
			if (t) {
				t->last_library_reason = "timeout";
				sessions_entry_touch(s, t, ll->ts_usec);
			}
		}
		return;
	case R_TLS_LIBRARY_PROBLEM: {
		Entry *t = sessions_entry_lookup(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL);
		if (!t)
			t = sessions_entry_create(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL, ll->ts_usec);
		if (t) {
			t->last_library_reason = sessions_inbound_failure_reason(m->g[G_ERR]);
			sessions_entry_touch(s, t, ll->ts_usec);
		}
		return;
	}
	case R_TLSPROXY_HANDSHAKE_FAILED: {
		/* tlsp_eval_tls_error() prints the library errors, then this line. */
		Entry *t = sessions_entry_lookup(s, KIND_TLSPROXY, prog, ll->pid, SLICE_NULL);
		const char *reason = t && t->last_library_reason ? t->last_library_reason : "other";
		if (t)
			t->last_library_reason = NULL;
		sessions_count_failure(s, M_INBOUND_TLS_FAILURES, prog, reason);
		Entry *e = postscreen_for(s, m->g[G_EP]);
		if (e) {
			e->tls_attempted = true;
			e->failure_counted = true;
			e->pending_failure = reason;
			sessions_entry_touch(s, e, ll->ts_usec);
			if (e->lingering)
				finish(s, e, NULL, ll->ts_usec);
		}
		return;
	}
	default:
		return;
	}
}

void sessions_handle(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m, const PeerName *name)
{
	s->host = ll->host;
	s->name = name;
	switch (prog->daemon_class) {
	case DAEMON_SMTPD:
		on_smtpd(s, prog, ll, m);
		break;
	case DAEMON_POSTSCREEN:
		on_postscreen(s, prog, ll, m);
		break;
	case DAEMON_TLSPROXY:
		on_tlsproxy(s, prog, ll, m);
		break;
	case DAEMON_SMTP:
		sessions_on_client(s, prog, ll, m);
		break;
	default:
		break;
	}	/* The record's bytes are the caller's. */
	s->host = SLICE_NULL;
	s->name = NULL;
}

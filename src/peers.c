/*
 * peers.c - per-peer accounting and its read API: the events
 * (peers_inbound_session, peers_outbound_delivery), interned syslog names
 * and combos, hourly windows in log time, labelled series with folding into
 * "other" (the store collector), and the window, list and totals reads.
 *
 * DESCRIPTION
 *	Three tables (inbound domains, outbound domains, addresses of inbound
 *	clients without a name) share one implementation, in peers_table.c:
 *	a hash of Space-Saving entries, each with a list of hour slots.
 *
 *	Labelled series are not written to the store on every event: the
 *	cumulative counts live in Table.labels / Table.other and a store
 *	collector sets the two peer families before each scrape, rebuilding a
 *	family only after a demotion (whose series must go), so series keep
 *	their creation time. A demoted peer's counts are added to "other", so
 *	sums stay exact.
 *
 *	Time is log time. When the newest event moves into a new hour, slots
 *	older than the window are freed and peers not seen within the window
 *	are dropped (demoted first if labelled).
 * LIMITS
 *	cap entries per table (--peers.track), max_labelled labelled peers
 *	(--peers.max), cap * 3 + (max_labelled + 1) * window_hours slots,
 *	COMBO_MAX distinct (protocol, cipher) / reason / syslog_name strings,
 *	PEERS_SYSLOG_MAX syslog names. Everything is allocated and touched in
 *	peers_new(); events never allocate.
 * DIAGNOSTICS
 *	Never logs. Events that cannot be recorded in a window (older than the
 *	window, or no slot could be freed) are counted (late_events).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "metrics.h"
#include "peers_int.h"
#include "utf8.h"

const char *const peers_proto_names[PEERS_PROTO_MAX] = {
	"SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other",
};

const char *peer_direction_name(PeerDirection d)
{
	static const char *const n[] = { "inbound", "outbound", "unknown_address", "destination" };
	return (unsigned)d < _PEER_DIR_MAX ? n[d] : "invalid";
}

/*
 * Interned strings: syslog names and combos.
 */
int peers_syslog_index(Peers *p, const char *name, size_t len, bool create)
{
	len = utf8_cut(name, len, PEERS_DOMAIN_MAX - 1); /* on a character boundary: the state file holds UTF-8 */
	for (unsigned i = 0; i < p->n_syslog; i++)
		if (strlen(p->syslog[i]) == len && !memcmp(p->syslog[i], name, len))
			return (int)i;
	if (!create || p->n_syslog >= PEERS_SYSLOG_MAX)
		return PEERS_SYSLOG_MAX;
	memcpy(p->syslog[p->n_syslog], name, len);
	p->syslog[p->n_syslog][len] = '\0';
	return (int)p->n_syslog++;
}

static const char *syslog_name_at(const Peers *p, unsigned i)
{
	return i < p->n_syslog ? p->syslog[i] : "other";
}

int peers_combo_id(Peers *p, PeerComboKind kind, const char *a, size_t alen, const char *b, size_t blen)
{
	/* cut on a character boundary: a cut inside one made a cipher name the
	 * state file could not load again (found by fuzz-ingest-peers) */
	alen = utf8_cut(a, alen, COMBO_STR_MAX - 1);
	blen = utf8_cut(b, blen, COMBO_STR_MAX - 1);
	char key[2 * COMBO_STR_MAX + 2];
	key[0] = (char)kind;
	memcpy(key + 1, a, alen);
	key[1 + alen] = '\0';
	memcpy(key + 2 + alen, b, blen);
	size_t klen = 2 + alen + blen;
	uint32_t *bucket = &p->combo_hash[hash64(key, klen, p->seed) % COMBO_MAX];
	for (uint32_t i = *bucket; i != PEERS_NIL; i = p->combos[i].hnext) {
		Combo *c = &p->combos[i];
		if (c->kind == kind && strlen(c->a) == alen && !memcmp(c->a, a, alen) &&
		    strlen(c->b) == blen && !memcmp(c->b, b, blen))
			return (int)i;
	}
	if (p->n_combos >= COMBO_MAX)
		return -1;
	uint32_t i = (uint32_t)p->n_combos++;
	Combo *c = &p->combos[i];
	c->kind = (uint8_t)kind;
	memcpy(c->a, a, alen);
	c->a[alen] = '\0';
	memcpy(c->b, b, blen);
	c->b[blen] = '\0';
	c->hnext = *bucket;
	*bucket = i;
	return (int)i;
}

unsigned peers_proto_index(Slice proto)
{
	for (unsigned i = 0; i + 1 < PEERS_PROTO_MAX; i++)
		if (slice_eq_str(proto, peers_proto_names[i]))
			return i;
	return PEERS_PROTO_MAX - 1;
}

/*
 * Time.
 */
Hour *peers_hour_get(Peers *p, int32_t hour)
{
	int32_t w = p->window_hours;
	Hour *h = &p->hours[((hour % w) + w) % w];
	if (h->hour != hour) {
		memset(h, 0, sizeof(*h));
		h->hour = hour;
		p->hours_dirty = true;
	}
	return h;
}

/* advance - move "now" to the event's hour; returns whether ts is in the window. */
static bool advance(Peers *p, int64_t ts)
{
	if (ts <= 0 || ts > PEERS_USEC_MAX)
		return false;
	int32_t h = peers_hour_of(ts);
	if (p->newest_usec == 0 || h > p->now_hour) {
		p->now_hour = h;
		peers_sweep(p);
	}
	if (ts > p->newest_usec)
		p->newest_usec = ts;
	return h > p->now_hour - p->window_hours;
}

/*
 * Events.
 */
typedef struct Event {
	int64_t ts;
	bool in_window;
	unsigned cell;
	bool plain;
	int proto;               /* peers_proto_index() of a TLS event, or -1 */
	bool legacy_mail;        /* inbound mail session below TLS 1.2 */
	int combos[4];
	PeerComboKind kinds[4];
	unsigned n_combos;
	Slice example;
	Slice host;            /* host label value, empty without --postfix.host-label */
} Event;

static void account(Peers *p, Table *t, const char *key, size_t len, const Event *ev)
{
	/* With the host label a peer is tracked per MTA as "host/domain" ('/'
	 * is in no host or domain name); a host too long for the key is "other". */
	char hk[PEERS_DOMAIN_MAX];
	if (ev->host.n) {
		Slice h = ev->host.n + 1 + len < sizeof(hk) ? ev->host : SLICE_LIT("other");
		int n = snprintf(hk, sizeof(hk), "%.*s/%.*s", (int)h.n, h.p, (int)len, key);
		if (n < 0 || (size_t)n >= sizeof(hk))
			return;
		key = hk;
		len = (size_t)n;
	}
	Entry *e = peers_entry_lookup(t, p, key, len);
	if (!e)
		e = peers_entry_insert(p, t, key, len);
	t->total[ev->cell]++;
	if (!e && t->max_labelled > 0) {
		t->other[ev->cell]++;
		t->folded++;
	}
	if (!e)
		return;
	uint32_t idx = (uint32_t)(e - t->e);
	peers_entry_count(t, e);
	if (e->label != PEERS_NIL)
		t->labels[e->label].cum[ev->cell]++;
	else if (t->max_labelled > 0) {
		t->other[ev->cell]++;
		t->folded++;
	}

	if (ev->ts > 0 && ev->ts <= PEERS_USEC_MAX) {
		if (e->first_seen == 0 || ev->ts < e->first_seen)
			e->first_seen = ev->ts;
		if (ev->ts > e->last_seen)
			e->last_seen = ev->ts;
		if (ev->plain && ev->ts > e->last_plain)
			e->last_plain = ev->ts;
	}
	peers_table_note_hour(t, peers_hour_of(e->last_seen)); /* a new entry may have none: 0 */
	if (ev->example.n > 0)
		peers_add_example(t, e, ev->example.p, ev->example.n);
	if (!ev->in_window)
		return;
	Slot *sl = peers_slot_get(p, t, &t->e[idx], peers_hour_of(ev->ts));
	if (!sl) {
		p->late_events++;
		return;
	}
	sl->cell[ev->cell]++;
	if (ev->proto >= 0)
		sl->proto[ev->proto]++;
	sl->legacy_mail += ev->legacy_mail;
	for (unsigned i = 0; i < ev->n_combos; i++)
		peers_slot_combo_add(t, sl, ev->kinds[i], ev->combos[i], 1);
}

static void event_combo(Peers *p, Event *ev, PeerComboKind kind, Slice a, Slice b)
{
	ev->kinds[ev->n_combos] = kind;
	ev->combos[ev->n_combos++] = peers_combo_id(p, kind, a.p, a.n, b.p, b.n);
}

static bool printable(Slice s)
{
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] <= 0x20 || s.p[i] == 0x7f)
			return false;
	return true;
}

void peers_inbound_session(Peers *p, const PeerSession *s)
{
	if (!p || !s || (unsigned)s->encryption >= _ENC_MAX)
		return;
	Event ev = { .ts = s->ts_usec, .cell = peers_in_cell(s->encryption, s->mail),
		     .plain = s->encryption == ENC_PLAINTEXT,
		     .proto = s->encryption == ENC_TLS ? (int)peers_proto_index(s->protocol) : -1, .host = s->host };
	ev.legacy_mail = s->mail && ev.proto >= 0 && ev.proto < PEERS_PROTO_TLS12;
	ev.in_window = advance(p, s->ts_usec);
	if (!ev.in_window)
		p->late_events++;

	bool all = !p->cfg.series_only;
	if (all) {
		int si = peers_syslog_index(p, s->syslog_name.p, s->syslog_name.n, true);
		const char *sname = syslog_name_at(p, (unsigned)si);
		if (s->encryption == ENC_TLS && s->protocol.n > 0)
			event_combo(p, &ev, COMBO_TLS, s->protocol, s->cipher);
		if (s->failure)
			event_combo(p, &ev, COMBO_FAILURE, slice_from(s->failure), SLICE_LIT(""));
		if (s->mail && ev.plain)
			event_combo(p, &ev, COMBO_PLAINMAIL, slice_from(sname), SLICE_LIT(""));
		if (ev.in_window) {
			Hour *h = peers_hour_get(p, peers_hour_of(s->ts_usec));
			h->in[si][ev.cell]++;
			if (s->encryption == ENC_TLS)
				h->proto_in[peers_proto_index(s->protocol)]++;
			h->legacy_mail_in += ev.legacy_mail;
		}
	}

	PeerName n = { SLICE_NULL, 0 };
	if (s->name)
		n = *s->name;
	else if (!slice_eq_str(s->client_name, "unknown"))
		peers_normalize_host(&p->dc, s->client_name, &n);
	if (n.norm.n == 0) {
		account(p, &p->t[PEER_INBOUND], "unknown", 7, &ev);
		Slice a = s->client_addr;
		if (all && a.n > 0 && a.n < PEERS_DOMAIN_MAX && printable(a))
			account(p, &p->t[PEER_UNKNOWN_ADDR], a.p, a.n, &ev);
		return;
	}
	if (all)
		ev.example = n.norm;
	account(p, &p->t[PEER_INBOUND], n.norm.p + n.reg_off, n.norm.n - n.reg_off, &ev);
}

void peers_outbound_delivery(Peers *p, const PeerDelivery *d)
{
	if (!p || !d || (unsigned)d->tls >= _TRUST_MAX || (unsigned)d->status >= _DELIVERY_MAX)
		return;
	bool noconn = slice_eq_str(d->relay, "none");
	Event ev = { .ts = d->ts_usec, .cell = peers_out_cell(d->tls, d->status),
		     .plain = d->tls == TRUST_NONE && !noconn,
		     .proto = d->tls != TRUST_NONE ? (int)peers_proto_index(d->protocol) : -1, .host = d->host };
	ev.in_window = advance(p, d->ts_usec);
	if (!ev.in_window)
		p->late_events++;
	bool all = !p->cfg.series_only;
	if (all) {
		if (d->tls != TRUST_NONE)
			event_combo(p, &ev, COMBO_TLS, d->protocol, d->dane ? SLICE_LIT("dane") : SLICE_LIT(""));
		if (noconn)
			event_combo(p, &ev, COMBO_NOCONN, slice_from(delivery_status_name(d->status)), SLICE_LIT(""));
		if (ev.in_window) {
			Hour *h = peers_hour_get(p, peers_hour_of(d->ts_usec));
			h->out[ev.cell]++;
			if (noconn)
				h->out_noconn++;
			if (d->tls != TRUST_NONE)
				h->proto_out[peers_proto_index(d->protocol)]++;
		}
	}
	PeerName n;
	if (d->dest)
		n = *d->dest;
	else
		peers_normalize_host(&p->dc, peers_recipient_domain(d->recipient), &n);
	/* the policy-map key is the whole domain; norm may be only valid
	 * until the next lookup, so it is copied first */
	char dest[PEERS_DOMAIN_MAX];
	size_t dl = all && n.norm.n < sizeof(dest) ? n.norm.n : 0; /* series only: no destination */
	memcpy(dest, n.norm.p ? n.norm.p : "", dl);
	if (n.norm.n == 0) {
		account(p, &p->t[PEER_OUTBOUND], "unknown", 7, &ev);
	} else {
		ev.example = all ? n.norm : SLICE_NULL;
		account(p, &p->t[PEER_OUTBOUND], n.norm.p + n.reg_off, n.norm.n - n.reg_off, &ev);
	}
	if (!all)
		return;
	/* for the destination, the examples are the relay (MX) host names */
	const char *bracket = noconn || d->relay.n == 0 ? NULL : memchr(d->relay.p, '[', d->relay.n);
	ev.example = bracket ? (Slice){ d->relay.p, (size_t)(bracket - d->relay.p) } : SLICE_NULL;
	account(p, &p->t[PEER_DESTINATION], dl ? dest : "unknown", dl ? dl : 7, &ev);
}

/*
 * The exposition: rewrite the peer families from the label tables.
 */
static void collect_table(Peers *p, Store *s, PeerDirection d, unsigned family)
{
	Table *t = &p->t[d];
	/* Rebuild the family only when a peer lost its label, so that series
	 * keep their creation time (OpenMetrics _created) between scrapes. */
	if (t->series_stale) {
		store_reset_family(s, family);
		t->series_stale = false;
	}
	/* With the host label the family's labels are host, peer_domain, ...:
	 * a "host/domain" key fills both; the folded rest is host="other". */
	bool by_host = store_family(s, family)->n_labels == 4;
	Slice all[4], *v = all + by_host;
	for (size_t pass = 0; pass <= t->nl; pass++) {
		const uint64_t *cum;
		if (pass < t->nl) {
			Entry *e = &t->e[t->lheap[pass]];
			v[0] = (Slice){ e->key, e->key_len };
			const char *sl = by_host ? memchr(e->key, '/', e->key_len) : NULL;
			if (sl) {
				all[0] = (Slice){ e->key, (size_t)(sl - e->key) };
				v[0] = (Slice){ sl + 1, (size_t)(e->key + e->key_len - sl - 1) };
			}
			cum = t->labels[e->label].cum;
		} else {
			all[0] = v[0] = SLICE_LIT("other");
			cum = t->other;
		}
		for (unsigned c = 0; c < PEERS_CELLS; c++) {
			if (cum[c] == 0)
				continue;
			if (d == PEER_INBOUND) {
				if (c >= 6)
					continue;
				v[1] = slice_from(encryption_name((Encryption)(c / 2)));
				v[2] = slice_from(c % 2 ? "true" : "false");
			} else {
				if (c >= 15)
					continue;
				v[1] = slice_from(trust_name((Trust)(c / 3)));
				v[2] = slice_from(delivery_status_name((DeliveryStatus)(c % 3)));
			}
			(void)store_set(s, family, all, (double)cum[c]);
		}
	}
}

static void collect(Store *s, void *userdata)
{
	Peers *p = userdata;
	collect_table(p, s, PEER_INBOUND, M_INBOUND_PEER_SESSIONS);
	collect_table(p, s, PEER_OUTBOUND, M_OUTBOUND_PEER_DELIVERIES);
	for (unsigned d = PEER_INBOUND; d <= PEER_OUTBOUND; d++) {
		Slice v[1] = { slice_from(peer_direction_name((PeerDirection)d)) };
		(void)store_set(s, M_PEERS_TRACKED, v, (double)p->t[d].n);
		(void)store_set(s, M_PEERS_FOLDED, v, (double)p->t[d].folded);
	}
}

/*
 * Life cycle.
 */
/* peers_reset - forget every peer and window (not the cumulative series). */
void peers_reset(Peers *p)
{
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++)
		peers_table_reset(&p->t[d]);
	memset(p->combos, 0, p->n_combos * sizeof(*p->combos));
	p->n_combos = 0;
	memset(p->combo_hash, 0xff, sizeof(p->combo_hash));
	memset(p->syslog, 0, sizeof(p->syslog));
	p->n_syslog = 0;
	/* A slot of the calloc'd ring holds hour 0, which only slot 0 can be
	 * asked for: marking slot 0 empty empties a ring never written. */
	if (p->hours_dirty)
		memset(p->hours, 0, (size_t)p->window_hours * sizeof(*p->hours));
	p->hours_dirty = false;
	p->hours[0].hour = INT32_MIN;
	p->newest_usec = 0;
	p->now_hour = 0;
	p->late_events = 0;
}

int peers_new(Peers **ret, Store *store, const PeersConfig *cfg)
{
	PeersConfig c = cfg ? *cfg : PEERS_CONFIG_DEFAULT;
	if (c.max_labelled == 0)
		c.max_labelled = PEERS_MAX_LABELLED_DEFAULT;
	if (c.max_tracked == 0)
		c.max_tracked = PEERS_MAX_TRACKED_DEFAULT;
	if (c.window_usec == 0)
		c.window_usec = PEERS_WINDOW_DEFAULT_USEC;
	if (c.window_usec < 0 || c.window_usec > (int64_t)PEERS_WINDOW_MAX_HOURS * USEC_PER_HOUR ||
	    c.max_labelled > PEERS_MAX_LABELLED_LIMIT || c.max_tracked > PEERS_MAX_TRACKED_LIMIT)
		return -EINVAL;
	if (c.max_tracked <= c.max_labelled)
		c.max_tracked = c.max_labelled + 1;

	Peers *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->store = store;
	p->cfg = c;
	p->window_hours = (int32_t)((c.window_usec + USEC_PER_HOUR - 1) / USEC_PER_HOUR);
	if (p->window_hours < 1)
		p->window_hours = 1;
	p->seed = hash_random_seed();

	size_t unknown_cap = c.max_tracked / 10;
	unknown_cap = MAX(unknown_cap, (size_t)64);
	unknown_cap = MIN(unknown_cap, (size_t)1000);
	int r = peers_table_init(&p->t[PEER_INBOUND], PEER_INBOUND, c.max_tracked, c.max_labelled, p->window_hours, c.huge_pages);
	if (r == 0)
		r = peers_table_init(&p->t[PEER_OUTBOUND], PEER_OUTBOUND, c.max_tracked, c.max_labelled, p->window_hours, c.huge_pages);
	if (r == 0)
		r = peers_table_init(&p->t[PEER_UNKNOWN_ADDR], PEER_UNKNOWN_ADDR, unknown_cap, 0, p->window_hours, c.huge_pages);
	if (r == 0)
		r = peers_table_init(&p->t[PEER_DESTINATION], PEER_DESTINATION, c.max_tracked, 0, p->window_hours, c.huge_pages);
	p->combos = peers_alloc_zeroed(COMBO_MAX, sizeof(*p->combos), c.huge_pages);
	p->hours = peers_alloc_zeroed((size_t)p->window_hours, sizeof(*p->hours), c.huge_pages);
	if (r == 0 && (!p->combos || !p->hours))
		r = -ENOMEM;
	const psl_ctx_t *psl = NULL;
	if (r == 0) {
		psl = psl_latest(NULL);
		if (!psl)
			psl = psl_builtin();
		if (!psl)
			r = -ENOENT;
	}
	if (r == 0)
		r = peers_domcache_init(&p->dc, psl, c.huge_pages);
	else if (psl && psl != psl_builtin())
		psl_free((psl_ctx_t *)psl);
	if (r == 0 && store)
		r = store_add_collector(store, collect, p);
	if (r < 0) {
		peers_free(p);
		return r;
	}
	peers_reset(p);
	*ret = p;
	return 0;
}

Peers *peers_free(Peers *p)
{
	if (!p)
		return NULL;
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++)
		peers_table_deinit(&p->t[d]);
	peers_free_zeroed(p->combos);
	peers_free_zeroed(p->hours);
	const psl_ctx_t *psl = p->dc.psl;
	peers_domcache_deinit(&p->dc);
	if (psl && psl != psl_builtin())
		psl_free((psl_ctx_t *)psl);
	free(p);
	return NULL;
}

/*
 * Read access.
 */
static int32_t end_hour(const Peers *p, int64_t now_usec)
{
	return now_usec > 0 ? peers_hour_of(now_usec) : p->now_hour;
}
/* (end_hour is at most the hour of PEERS_USEC_MAX: loops over it terminate) */

/* window_hours - the hours a read covers: window_usec rounded up to whole
 * hours, as peers_new() does; 0 for the configured window, -1 when it is
 * more than the hours the table keeps. */
static int32_t window_hours(const Peers *p, int64_t window_usec)
{
	if (window_usec == 0)
		return p->window_hours;
	if (window_usec < 0 || window_usec > (int64_t)p->window_hours * USEC_PER_HOUR)
		return -1;
	return (int32_t)((window_usec + USEC_PER_HOUR - 1) / USEC_PER_HOUR);
}

int64_t peers_window_usec(const Peers *p)
{
	return p->cfg.window_usec;
}

static int combo_cmp(const void *a, const void *b)
{
	const PeerComboCount *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	int r = strcmp(x->a, y->a);
	return r ? r : strcmp(x->b, y->b);
}

/* the combinations PeerStats lists per kind (PEERS_STAT_COMBOS in all);
 * the rest of a kind is counted in combos_other[kind] */
static const unsigned stat_kind_max[_COMBO_KIND_MAX] = {
	[COMBO_TLS] = 14, [COMBO_FAILURE] = 14, [COMBO_PLAINMAIL] = PEERS_SYSLOG_MAX + 1, [COMBO_NOCONN] = 3,
};

/* stats_keep - insert c into the kind's part of top[] (n[kind] sorted by
 * combo_cmp), folding what falls off the end into combos_other. */
static void stats_keep(PeerStats *st, PeerComboCount top[_COMBO_KIND_MAX][PEERS_STAT_COMBOS],
		       unsigned n[_COMBO_KIND_MAX], PeerComboCount c)
{
	PeerComboCount *v = top[c.kind];
	unsigned max = stat_kind_max[c.kind], i = n[c.kind];
	if (i == max) {
		if (combo_cmp(&c, &v[max - 1]) > 0) {
			st->combos_other[c.kind] += c.n;
			return;
		}
		st->combos_other[c.kind] += v[--i].n;
	} else
		n[c.kind]++;
	for (; i > 0 && combo_cmp(&c, &v[i - 1]) < 0; i--)
		v[i] = v[i - 1];
	v[i] = c;
}

/* window_slot - slot s, or the first after it, in hours (start, end]; NULL
 * when none is (the list is newest first: a slot at or before start ends it). */
static const Slot *window_slot(const Table *t, uint32_t s, int32_t start, int32_t end)
{
	for (; s != PEERS_NIL; s = peers_slot_at(t, s)->next) {
		const Slot *sl = peers_slot_at(t, s);
		if (sl->hour > end)
			continue;
		if (sl->hour <= start)
			break;
		return sl;
	}
	return NULL;
}

/* entry_combos - the peer's combinations over hours (start, end], summed
 * exactly per combination, then the busiest of each kind listed. pos
 * (COMBO_MAX) is all zero on entry and again on return: only the ids seen
 * are reset, where a memset of 2 KB per peer was most of what a report of
 * 10 k peers cost. */
static void entry_combos(const Peers *p, const Table *t, const Entry *e, int32_t start, int32_t end, PeerStats *st,
			 PeerComboCount *out, uint16_t *pos)
{
	uint64_t sum[COMBO_MAX];
	uint16_t ids[COMBO_MAX]; /* pos[id]: index in ids + 1, 0 = not seen */
	unsigned n_ids = 0;
	for (const Slot *sl = window_slot(t, e->slots, start, end); sl; sl = window_slot(t, sl->next, start, end)) {
		for (unsigned k = 0; k < _COMBO_KIND_MAX; k++)
			st->combos_other[k] += sl->combo_other[k];
		for (uint32_t c = sl->combos; c != PEERS_NIL; c = t->cc[c].next) {
			uint32_t id = t->cc[c].id;
			if (pos[id] == 0) {
				ids[n_ids] = (uint16_t)id;
				sum[n_ids] = 0;
				pos[id] = (uint16_t)++n_ids;
			}
			sum[pos[id] - 1] += t->cc[c].n;
		}
	}
	PeerComboCount top[_COMBO_KIND_MAX][PEERS_STAT_COMBOS];
	unsigned n[_COMBO_KIND_MAX] = { 0 };
	for (unsigned j = 0; j < n_ids; j++) {
		const Combo *c = &p->combos[ids[j]];
		stats_keep(st, top, n, (PeerComboCount){ (PeerComboKind)c->kind, c->a, c->b, sum[j] });
		pos[ids[j]] = 0;
	}
	for (unsigned k = 0; k < _COMBO_KIND_MAX; k++)
		for (unsigned i = 0; i < n[k]; i++)
			out[st->n_combos++] = top[k][i];
	st->combos = out;
}

/* entry_stats - e's PeerStats in *st, its combinations in combos
 * (PEERS_STAT_COMBOS) */
static void entry_stats(const Peers *p, const Table *t, const Entry *e, int32_t end, int32_t w, PeerStats *st,
			PeerComboCount *combos, uint16_t *combo_pos)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->key, e->key, e->key_len);
	st->first_seen_usec = e->first_seen;
	st->last_seen_usec = e->last_seen;
	st->last_plaintext_usec = e->last_plain;
	st->ss_count = e->count;
	st->ss_error = e->err;
	st->labelled = e->label != PEERS_NIL;
	if (t->ex) {
		st->n_examples = e->n_examples;
		st->more_examples = e->more_examples;
		for (unsigned i = 0; i < e->n_examples && i < PEERS_EXAMPLES; i++)
			memcpy(st->examples[i], t->ex[e->ex[i]], PEERS_EXAMPLE_MAX);
	}
	int32_t start = end - w;
	for (const Slot *sl = window_slot(t, e->slots, start, end); sl; sl = window_slot(t, sl->next, start, end)) {
		for (unsigned c = 0; c < t->n_cells; c++) {
			st->n[c] += sl->cell[c];
			st->total += sl->cell[c];
		}
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			st->proto[i] += sl->proto[i];
		st->legacy_mail += sl->legacy_mail;
	}
	entry_combos(p, t, e, start, end, st, combos, combo_pos);
}

/* stats_group - a destination's registrable domain, the report's grouping level */
static void stats_group(Peers *p, PeerDirection dir, PeerStats *st)
{
	if (dir != PEER_DESTINATION)
		return;
	size_t host_len; /* per MTA, the host is not part of the domain */
	const char *name = peers_key_name(st->key, &host_len);
	snprintf(st->group, sizeof(st->group), "%s", peers_domain_of_host(p, slice_from(name)));
}

int peers_get_window(Peers *p, PeerDirection dir, const char *key, int64_t now_usec, int64_t window_usec,
		     PeerStats *ret)
{
	if (p->cfg.series_only)
		return -EOPNOTSUPP;
	int32_t w = window_hours(p, window_usec);
	if ((unsigned)dir >= _PEER_DIR_MAX || !key)
		return -EINVAL;
	if (w < 0)
		return -ERANGE;
	Table *t = &p->t[dir];
	Entry *e = peers_entry_lookup(t, p, key, strlen(key));
	if (!e)
		return -ENOENT;
	uint16_t pos[COMBO_MAX] = { 0 };
	entry_stats(p, t, e, end_hour(p, now_usec), w, ret, p->window_combos, pos);
	stats_group(p, dir, ret);
	return 0;
}

/* huge_pages - ask for 2 MB pages inside a large array about to be
 * written whole: 10 k peers' statistics are 8 MB, and 4 KB page faults
 * were a sixth of the report's time on a VM. A hint only. */
static void huge_pages(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = 2u << 20;
	uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1), b = ((uintptr_t)p + n) & ~(huge - 1);
	if (b > a)
		(void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
	(void)p;
	(void)n;
#endif
}

static int stats_cmp(const void *a, const void *b)
{
	return strcmp(((const PeerStats *)a)->key, ((const PeerStats *)b)->key);
}

int peers_list(Peers *p, PeerDirection dir, int64_t now_usec, int64_t window_usec, PeerStats **ret, size_t *ret_n)
{
	if (p->cfg.series_only)
		return -EOPNOTSUPP;
	int32_t w = window_hours(p, window_usec);
	if ((unsigned)dir >= _PEER_DIR_MAX)
		return -EINVAL;
	if (w < 0)
		return -ERANGE;
	Table *t = &p->t[dir];
	/* one block, freed as one: the statistics, then room for every
	 * peer's combinations, of which only what is used is written */
	size_t cap = t->n ? t->n : 1, stats_bytes = cap * sizeof(PeerStats);
	size_t bytes = stats_bytes + cap * PEERS_STAT_COMBOS * sizeof(PeerComboCount);
	PeerStats *v = calloc(1, bytes);
	if (!v)
		return -ENOMEM;
	huge_pages(v, bytes);
	PeerComboCount *combos = (PeerComboCount *)(void *)((char *)v + stats_bytes);
	size_t n = 0;
	int32_t end = end_hour(p, now_usec);
	uint16_t pos[COMBO_MAX] = { 0 };
	for (size_t i = 0; i < t->e_hwm && n < t->n; i++) {
		if (!t->e[i].used)
			continue;
		entry_stats(p, t, &t->e[i], end, w, &v[n], combos, pos);
		stats_group(p, dir, &v[n]);
		if (v[n].total > 0)
			combos += v[n++].n_combos;
	}
	qsort(v, n, sizeof(*v), stats_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

int peers_get_totals(Peers *p, int64_t now_usec, int64_t window_usec, PeersTotals *ret)
{
	PeersTotals *T = ret;
	memset(T, 0, sizeof(*T));
	if (p->cfg.series_only)
		return -EOPNOTSUPP;
	int32_t w = window_hours(p, window_usec);
	if (w < 0)
		return -ERANGE;
	int32_t end = end_hour(p, now_usec);
	int32_t start = end - w + 1;  /* first hour in the window */
	T->window_usec = window_usec ? (int64_t)w * USEC_PER_HOUR : p->cfg.window_usec;
	T->from_usec = (int64_t)start * USEC_PER_HOUR;
	T->to_usec = now_usec > 0 ? now_usec : p->newest_usec;
	if (T->to_usec < T->from_usec)
		T->to_usec = T->from_usec;
	T->newest_event_usec = p->newest_usec;
	for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
		T->proto_names[i] = peers_proto_names[i];

	/* syslog names sorted */
	unsigned order[PEERS_SYSLOG_MAX + 1];
	unsigned n = p->n_syslog;
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && strcmp(p->syslog[order[j - 1]], p->syslog[order[j]]) > 0; j--) {
			unsigned x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	bool other_used = false;

	int32_t first_day = (int32_t)((start >= 0 ? start : start - 23) / 24);
	int32_t last_day = (int32_t)((end >= 0 ? end : end - 23) / 24);
	T->n_days = (unsigned)(last_day - first_day + 1);
	if (T->n_days > ELEMENTSOF(T->day_sessions))
		T->n_days = ELEMENTSOF(T->day_sessions);
	for (unsigned d = 0; d < T->n_days; d++)
		T->day_start_usec[d] = (int64_t)(first_day + (int32_t)d) * 24 * USEC_PER_HOUR;

	uint64_t slog[PEERS_SYSLOG_MAX + 1][6];
	memset(slog, 0, sizeof(slog));
	for (int32_t h = start; h <= end; h++) {
		int32_t ring = p->window_hours;
		const Hour *hr = &p->hours[((h % ring) + ring) % ring];
		if (hr->hour != h)
			continue;
		bool any = false;
		unsigned day = (unsigned)(((h >= 0 ? h : h - 23) / 24) - first_day);
		for (unsigned s = 0; s <= PEERS_SYSLOG_MAX; s++)
			for (unsigned c = 0; c < 6; c++) {
				uint32_t v = hr->in[s][c];
				if (!v)
					continue;
				any = true;
				slog[s][c] += v;
				T->in[c] += v;
				if (s == PEERS_SYSLOG_MAX)
					other_used = true;
				if (day < T->n_days) {
					T->day_sessions[day] += v;
					if (c / 2 == ENC_PLAINTEXT)
						T->day_plain[day] += v;
					if (c % 2) {
						T->day_mail[day] += v;
						if (c / 2 == ENC_PLAINTEXT)
							T->day_plain_mail[day] += v;
					}
				}
			}
		for (unsigned c = 0; c < PEERS_CELLS; c++) {
			T->out[c] += hr->out[c];
			any |= hr->out[c] != 0;
		}
		T->out_noconn += hr->out_noconn;
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++) {
			T->proto_in[i] += hr->proto_in[i];
			T->proto_out[i] += hr->proto_out[i];
		}
		T->legacy_mail_in += hr->legacy_mail_in;
		if (any && T->data_from_usec == 0)
			T->data_from_usec = (int64_t)h * USEC_PER_HOUR;
	}
	for (unsigned i = 0; i < n; i++) {
		PeersSyslogTotals *st = &T->syslog[T->n_syslog++];
		snprintf(st->name, sizeof(st->name), "%s", p->syslog[order[i]]);
		for (unsigned c = 0; c < 6; c++)
			st->in[c] = slog[order[i]][c];
	}
	if (other_used) {
		PeersSyslogTotals *st = &T->syslog[T->n_syslog++];
		snprintf(st->name, sizeof(st->name), "other");
		for (unsigned c = 0; c < 6; c++)
			st->in[c] = slog[PEERS_SYSLOG_MAX][c];
	}
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++) {
		T->tracked[d] = p->t[d].n;
		T->evicted[d] = p->t[d].evicted;
		T->folded[d] = p->t[d].folded;
	}
	T->max_tracked = p->cfg.max_tracked;
	T->max_labelled = p->cfg.max_labelled;
	T->late_events = p->late_events;
	return 0;
}

int64_t peers_newest_usec(const Peers *p)
{
	return p->newest_usec;
}

size_t peers_labelled_count(const Peers *p, PeerDirection dir)
{
	return (unsigned)dir < _PEER_DIR_MAX ? p->t[dir].nl : 0;
}

uint64_t peers_series_value(const Peers *p, PeerDirection dir, const char *domain, unsigned cell)
{
	if ((unsigned)dir >= _PEER_DIR_MAX || cell >= PEERS_CELLS)
		return 0;
	const Table *t = &p->t[dir];
	if (!strcmp(domain, "other"))
		return t->other[cell];
	Entry *e = peers_entry_lookup((Table *)t, p, domain, strlen(domain));
	if (!e || e->label == PEERS_NIL)
		return 0;
	return t->labels[e->label].cum[cell];
}

uint64_t peers_event_total(const Peers *p, PeerDirection dir, unsigned cell)
{
	if ((unsigned)dir >= _PEER_DIR_MAX || cell >= PEERS_CELLS)
		return 0;
	return p->t[dir].total[cell];
}

/*
 * peers_state.c - save and load the peer tables and windows.
 *
 * FORMAT (version 3, all integers little-endian)
 *	"PTEPEERS" u32 version, u32 cells, u32 syslog_slots, u32 protos,
 *	u32 combo_kinds, u64 body_len, body, u32 CRC-32 (zlib) of all that
 *	precedes it. The body:
 *	    i64 window_usec, i64 newest_usec, u64 late_events
 *	    u32 n; n x (u8 len, name)                        syslog names
 *	    u32 n; n x (u8 kind, u8 len, a, u8 len, b)       combos
 *	    u32 n; n x (i32 hour, u32 in[slots*6], u32 proto_in[protos],
 *	                u32 legacy_mail_in, u32 out[cells], u32 out_noconn,
 *	                u32 proto_out[protos])
 *	    4 x (u32 n; n x entry)        inbound, outbound, unknown addresses,
 *	                                  destinations
 *	an entry: u8 len, key, u64 count, u64 err, i64 first, i64 last,
 *	i64 last_plain, u8 more, u8 n; n x (u8 len, example), u32 n_slots;
 *	n_slots x (i32 hour, u32 cell[cells], u32 proto[protos], u32 legacy_mail, u16 n;
 *	n x (u16 combo, u32 count), u32 combo_other[combo_kinds]), newest hour
 *	first.
 *
 *	Version 2 had no legacy_mail counts and no destination table; it
 *	loads with those empty (the next deliveries fill the destinations).
 *	Version 1 (SLOT_COMBOS_V1 = 6 in the header's fourth dimension) had
 *	no proto[], at most 6 combos per slot (u8 n) and one u32 combo_other.
 *	It is still loaded: a slot's protocol counts are rebuilt from its TLS
 *	combinations, and its combo_other, whose kind v1 did not record, is
 *	counted as other TLS combinations.
 *	Entries are written busiest first, so a smaller --peers.track keeps
 *	the busiest peers.
 * SECURITY
 *	The file is parsed twice: a validating pass that changes nothing, then
 *	the applying pass. Every count is bounded by the bytes that remain and
 *	by the table limits, every string is checked for length and for valid
 *	UTF-8 without control bytes, slot hours must decrease, combo ids must
 *	exist. A file whose structure is broken (header, checksum, counts,
 *	lengths, syslog names, which index the totals) is rejected and leaves
 *	the tables as they were. A bad record inside an intact structure (a
 *	combo, an hour of the totals, a peer, an example, a slot) is skipped
 *	and the rest is kept: one odd record must not throw the report's
 *	window away on every restart. The skipped records are counted and
 *	logged once per load.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "error.h"
#include "log.h"
#include "peers_int.h"
#include "statefile.h"
#include "utf8.h"

#define MAGIC "PTEPEERS"
#define HEADER_LEN (8 + 4 * 5 + 8)
#define SLOT_COMBOS_V1 6

/*
 * Writing.
 */
static void put_u8(Buf *b, uint8_t v) { buf_append(b, &v, 1); }

static void put_u16(Buf *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	buf_append(b, x, 2);
}

static void put_u32(Buf *b, uint32_t v)
{
	unsigned char x[4];
	for (unsigned i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, x, 4);
}

static void put_u64(Buf *b, uint64_t v)
{
	unsigned char x[8];
	for (unsigned i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	buf_append(b, x, 8);
}

static void put_str(Buf *b, const char *s)
{
	size_t n = utf8_cut(s, strlen(s), 255); /* the loader wants whole characters */
	put_u8(b, (uint8_t)n);
	buf_append(b, s, n);
}

static int save_table(Table *t, Buf *b)
{
	uint32_t *idx = malloc((t->n ? t->n : 1) * sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < t->e_hwm && n < t->n; i++)
		if (t->e[i].used)
			idx[n++] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), peers_entry_cmp_count, t);
	put_u32(b, (uint32_t)n);
	for (size_t k = 0; k < n; k++) {
		const Entry *e = &t->e[idx[k]];
		put_str(b, e->key);
		put_u64(b, e->count);
		put_u64(b, e->err);
		put_u64(b, (uint64_t)e->first_seen);
		put_u64(b, (uint64_t)e->last_seen);
		put_u64(b, (uint64_t)e->last_plain);
		put_u8(b, e->more_examples);
		unsigned nex = t->ex ? e->n_examples : 0;
		put_u8(b, (uint8_t)nex);
		for (unsigned i = 0; i < nex; i++)
			put_str(b, t->ex[e->ex[i]]);
		uint32_t ns = 0;
		for (uint32_t s = e->slots; s != PEERS_NIL; s = peers_slot_at(t, s)->next)
			ns++;
		put_u32(b, ns);
		for (uint32_t s = e->slots; s != PEERS_NIL; s = peers_slot_at(t, s)->next) {
			const Slot *sl = peers_slot_at(t, s);
			put_u32(b, (uint32_t)sl->hour);
			for (unsigned c = 0; c < PEERS_CELLS; c++) /* the file has every cell */
				put_u32(b, c < t->n_cells ? sl->cell[c] : 0);
			for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
				put_u32(b, sl->proto[i]);
			put_u32(b, sl->legacy_mail);
			unsigned nc = 0;
			for (uint32_t c = sl->combos; c != PEERS_NIL; c = t->cc[c].next)
				nc++;
			put_u16(b, (uint16_t)nc); /* at most COMBO_MAX: ids are distinct */
			for (uint32_t c = sl->combos; c != PEERS_NIL; c = t->cc[c].next) {
				put_u16(b, (uint16_t)t->cc[c].id);
				put_u32(b, t->cc[c].n);
			}
			for (unsigned kind = 0; kind < _COMBO_KIND_MAX; kind++)
				put_u32(b, sl->combo_other[kind]);
		}
	}
	free(idx);
	return 0;
}

int peers_save_buffer(Peers *p, Buf *b)
{
	buf_clear(b);
	if (p->cfg.series_only)
		return -EOPNOTSUPP;
	buf_append(b, MAGIC, 8);
	put_u32(b, PEERS_STATE_VERSION);
	put_u32(b, PEERS_CELLS);
	put_u32(b, PEERS_SYSLOG_MAX + 1);
	put_u32(b, PEERS_PROTO_MAX);
	put_u32(b, _COMBO_KIND_MAX);
	put_u64(b, 0); /* body length, patched below */
	size_t body = b->len;
	put_u64(b, (uint64_t)p->cfg.window_usec);
	put_u64(b, (uint64_t)p->newest_usec);
	put_u64(b, p->late_events);
	put_u32(b, p->n_syslog);
	for (unsigned i = 0; i < p->n_syslog; i++)
		put_str(b, p->syslog[i]);
	put_u32(b, (uint32_t)p->n_combos);
	for (size_t i = 0; i < p->n_combos; i++) {
		put_u8(b, p->combos[i].kind);
		put_str(b, p->combos[i].a);
		put_str(b, p->combos[i].b);
	}
	/* hours of the current window, newest first */
	uint32_t nh = 0;
	int32_t start = p->now_hour - p->window_hours;
	for (int32_t h = p->now_hour; p->newest_usec && h > start; h--) {
		int32_t w = p->window_hours;
		nh += p->hours[((h % w) + w) % w].hour == h;
	}
	put_u32(b, p->newest_usec ? nh : 0);
	for (int32_t h = p->now_hour; p->newest_usec && h > start; h--) {
		int32_t w = p->window_hours;
		const Hour *hr = &p->hours[((h % w) + w) % w];
		if (hr->hour != h)
			continue;
		put_u32(b, (uint32_t)hr->hour);
		for (unsigned s = 0; s <= PEERS_SYSLOG_MAX; s++)
			for (unsigned c = 0; c < 6; c++)
				put_u32(b, hr->in[s][c]);
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			put_u32(b, hr->proto_in[i]);
		put_u32(b, hr->legacy_mail_in);
		for (unsigned c = 0; c < PEERS_CELLS; c++)
			put_u32(b, hr->out[c]);
		put_u32(b, hr->out_noconn);
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			put_u32(b, hr->proto_out[i]);
	}
	int r;
	for (unsigned d = 0; d < _PEER_DIR_MAX; d++)
		if ((r = save_table(&p->t[d], b)) < 0)
			return r;
	if ((r = buf_error(b)) < 0)
		return r;
	uint64_t blen = b->len - body;
	for (unsigned i = 0; i < 8; i++)
		b->data[body - 8 + i] = (char)(blen >> (8 * i));
	uLong crc = crc32(0L, (const Bytef *)b->data, (uInt)b->len);
	put_u32(b, (uint32_t)crc);
	return buf_error(b);
}

int peers_save(Peers *p, const char *state_dir)
{
	Buf b = BUF_NULL;
	int r = peers_save_buffer(p, &b);
	if (r >= 0)
		r = statefile_write(state_dir, PEERS_STATE_FILE, b.data, b.len);
	buf_deinit(&b);
	return r;
}

/*
 * Reading.
 */
typedef struct Reader {
	const uint8_t *p;
	size_t len, off;
	bool bad;
	char **error;      /* the caller's ret_error, may be NULL */
	bool odd;          /* the record being read is bad (but its bytes are intact) */
	unsigned skipped;  /* bad records skipped */
	char *first_odd;   /* what was wrong with the first of them */
} Reader;

/* odd - the record being read is bad; it will be skipped, not the file. */
_printf_(2, 3) static void odd(Reader *r, const char *fmt, ...)
{
	r->odd = true;
	va_list ap;
	va_start(ap, fmt);
	error_setv(&r->first_odd, -EBADMSG, fmt, ap);
	va_end(ap);
}

/* record_done - whether the record just read is good; counts it if not. */
static bool record_done(Reader *r)
{
	bool good = !r->odd;
	r->skipped += !good && !r->bad;
	r->odd = false;
	return good && !r->bad;
}

_printf_(2, 3) static void fail(Reader *r, const char *fmt, ...)
{
	if (r->bad)
		return;
	r->bad = true;
	va_list ap;
	va_start(ap, fmt);
	error_setv(r->error, -EBADMSG, fmt, ap);
	va_end(ap);
}

static bool need(Reader *r, size_t n, const char *what)
{
	if (r->bad)
		return false;
	if (n > r->len - r->off) {
		fail(r, "truncated at byte %zu (reading %s)", r->off, what);
		return false;
	}
	return true;
}

static uint64_t get_n(Reader *r, unsigned bytes, const char *what)
{
	if (!need(r, bytes, what))
		return 0;
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += bytes;
	return v;
}

#define get_u8(r, w) ((uint8_t)get_n(r, 1, w))
#define get_u16(r, w) ((uint16_t)get_n(r, 2, w))
#define get_u32(r, w) ((uint32_t)get_n(r, 4, w))
#define get_u64(r, w) (get_n(r, 8, w))

/* get_str - a length-prefixed string of valid UTF-8 without control bytes
 * into out[max]. A string that is empty (and must not be), too long or not
 * clean marks the record odd; strict (a syslog name) fails the file. */
static size_t get_str(Reader *r, char *out, size_t max, bool allow_empty, bool strict, const char *what)
{
	size_t n = get_u8(r, what);
	out[0] = '\0';
	if (!need(r, n, what))
		return 0;
	const char *s = (const char *)r->p + r->off;
	r->off += n;
	void (*bad)(Reader *, const char *, ...) = strict ? fail : odd;
	if (n >= max || (n == 0 && !allow_empty)) {
		bad(r, "bad length %zu of %s at byte %zu", n, what, r->off - n);
		return 0;
	}
	if (!utf8_clean(s, n)) {
		bad(r, "control byte or invalid UTF-8 in %s at byte %zu", what, r->off - n);
		return 0;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

/* count - a u32 count of items of at least min_size bytes, at most max. */
static uint32_t get_count(Reader *r, size_t min_size, size_t max, const char *what)
{
	uint32_t n = get_u32(r, what);
	if (r->bad)
		return 0;
	if (n > max || (uint64_t)n * min_size > r->len - r->off) {
		fail(r, "implausible count %u of %s at byte %zu", n, what, r->off);
		return 0;
	}
	return n;
}

/* parse_slot - one hour of entry e (NULL: validate only, or not kept).
 * Slot hours must decrease (*prev). */
static void parse_slot(Reader *r, Peers *p, Table *t, Entry *e, int32_t *prev, int32_t now_hour, uint32_t version,
		       const int *combo_map, size_t n_combos, const char *key)
{
	const char *what = peer_direction_name(t->dir);
	int32_t hour = (int32_t)get_u32(r, "hour");
	uint32_t cell[PEERS_CELLS], proto[PEERS_PROTO_MAX] = { 0 };
	for (unsigned c = 0; c < PEERS_CELLS; c++)
		cell[c] = get_u32(r, "cell");
	for (unsigned i = 0; version >= 2 && i < PEERS_PROTO_MAX; i++)
		proto[i] = get_u32(r, "protocol count");
	uint32_t legacy_mail = version >= 3 ? get_u32(r, "legacy mail count") : 0;
	unsigned nc = version == 1 ? get_u8(r, "slot combos") : get_u16(r, "slot combos");
	if (r->bad)
		return;
	/* the file has every cell; a table keeps the ones its events use */
	bool cells_ok = true;
	for (unsigned c = t->n_cells; c < PEERS_CELLS; c++)
		cells_ok &= cell[c] == 0;
	if (hour >= *prev || hour < 0 || !cells_ok || nc > (version == 1 ? SLOT_COMBOS_V1 : n_combos))
		odd(r, "bad slot at hour %d of %s peer '%s'", hour, what, key);
	else
		*prev = hour;
	Slot *sl = NULL;
	if (e && !r->odd && hour > now_hour - p->window_hours && hour <= now_hour)
		sl = peers_slot_get(p, t, e, hour);
	if (sl) {
		for (unsigned c = 0; c < t->n_cells; c++)
			sl->cell[c] += cell[c];
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			sl->proto[i] += proto[i];
		sl->legacy_mail += legacy_mail;
	}
	for (unsigned i = 0; i < nc && !r->bad; i++) {
		uint16_t id = get_u16(r, "combo id");
		uint32_t cn = get_u32(r, "combo count");
		if (r->bad)
			return;
		if (id >= n_combos) { /* its count is kept as "other" */
			odd(r, "combo id %u out of range in %s peer '%s'", id, what, key);
			continue;
		}
		int mapped = combo_map[id];
		if (!sl || mapped < 0)
			continue;
		const Combo *c = &p->combos[mapped];
		peers_slot_combo_add(t, sl, (PeerComboKind)c->kind, mapped, cn);
		if (version == 1 && c->kind == COMBO_TLS)
			sl->proto[peers_proto_index(slice_from(c->a))] += cn;
	}
	for (unsigned k = 0; k < (version == 1 ? 1u : (unsigned)_COMBO_KIND_MAX); k++) {
		uint32_t other = get_u32(r, "combo other");
		if (sl)
			sl->combo_other[k] += other;
	}
	record_done(r);
}

static void parse_table(Reader *r, Peers *p, Table *t, bool apply, const int *combo_map, size_t n_combos,
			int32_t now_hour, uint32_t version)
{
	const char *what = peer_direction_name(t->dir);
	uint32_t n = get_count(r, 1 + 40 + 2 + 4, PEERS_MAX_TRACKED_LIMIT, "entries");
	for (uint32_t k = 0; k < n && !r->bad; k++) {
		char key[PEERS_DOMAIN_MAX];
		size_t kl = get_str(r, key, sizeof(key), false, false, "peer key");
		uint64_t count = get_u64(r, "count"), err = get_u64(r, "error");
		int64_t first = (int64_t)get_u64(r, "first seen");
		int64_t last = (int64_t)get_u64(r, "last seen");
		int64_t last_plain = (int64_t)get_u64(r, "last plaintext");
		uint8_t more = get_u8(r, "flags");
		uint8_t nex = get_u8(r, "examples");
		if (r->bad)
			return;
		if (err > count || first < 0 || last < 0 || last_plain < 0 || first > PEERS_USEC_MAX ||
		    last > PEERS_USEC_MAX || last_plain > PEERS_USEC_MAX || more > 1 || nex > PEERS_EXAMPLES)
			odd(r, "bad %s peer '%s' (entry %u)", what, key, k);
		/* a bad peer is skipped with its examples and slots */
		bool good = record_done(r);
		Entry *e = NULL;
		if (apply && good && !peers_entry_lookup(t, p, key, kl)) {
			e = peers_entry_insert(p, t, key, kl);
			if (e) {
				peers_entry_set_count(t, e, count, err);
				e->first_seen = first;
				e->last_seen = last;
				e->last_plain = last_plain;
				peers_table_note_hour(t, peers_hour_of(last));
			}
		}
		for (unsigned i = 0; i < nex && !r->bad; i++) {
			char ex[PEERS_EXAMPLE_MAX];
			size_t el = get_str(r, ex, sizeof(ex), false, false, "example");
			if (record_done(r) && e)
				peers_add_example(t, e, ex, el);
		}
		if (e)
			e->more_examples |= more;
		size_t slot_min = version == 1 ? 4 + 4 * PEERS_CELLS + 1 + 4
					       : 4 + 4 * (PEERS_CELLS + PEERS_PROTO_MAX + (version >= 3)) + 2 +
						 4 * _COMBO_KIND_MAX;
		uint32_t ns = get_count(r, slot_min, PEERS_WINDOW_MAX_HOURS, "slots");
		int32_t prev = INT32_MAX;
		for (uint32_t s = 0; s < ns && !r->bad; s++)
			parse_slot(r, p, t, e, &prev, now_hour, version, combo_map, n_combos, key);
	}
}

int peers_state_parse(Peers *p, const uint8_t *data, size_t len, bool apply, char **ret_error)
{
	Reader rd = { .p = data, .len = len, .error = ret_error };
	Reader *r = &rd;
	int *combo_map = NULL;

	if (len < HEADER_LEN + 4 || memcmp(data, MAGIC, 8) != 0)
		return error_set(ret_error, -EBADMSG, len < HEADER_LEN + 4 && len >= 8 && !memcmp(data, MAGIC, 8) ?
				 "truncated header (%zu bytes)" : "not a peers state file (bad magic, %zu bytes)", len);
	r->off = 8;
	uint32_t version = get_u32(r, "version");
	if (version > PEERS_STATE_VERSION)
		return error_set(ret_error, -EPROTONOSUPPORT, "format version %u is newer than supported (%u)",
				 version, PEERS_STATE_VERSION);
	if (version == 0)
		return error_set(ret_error, -EBADMSG, "bad format version 0");
	uint32_t cells = get_u32(r, "dims"), slots = get_u32(r, "dims");
	uint32_t protos = get_u32(r, "dims"), scombos = get_u32(r, "dims");
	uint64_t body_len = get_u64(r, "body length");
	if (cells != PEERS_CELLS || slots != PEERS_SYSLOG_MAX + 1 || protos != PEERS_PROTO_MAX ||
	    scombos != (version == 1 ? SLOT_COMBOS_V1 : _COMBO_KIND_MAX))
		return error_set(ret_error, -EBADMSG, "table dimensions %u/%u/%u/%u differ from this build", cells,
				 slots, protos, scombos);
	if (body_len != len - HEADER_LEN - 4)
		return error_set(ret_error, -EBADMSG, "length mismatch: header says %llu body bytes, file has %zu%s",
				 (unsigned long long)body_len, len - HEADER_LEN - 4,
				 body_len > len - HEADER_LEN - 4 ? " (truncated)" : "");
	uint32_t want = (uint32_t)crc32(0L, data, (uInt)(len - 4));
	uint32_t have = (uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 | (uint32_t)data[len - 2] << 16 |
			(uint32_t)data[len - 1] << 24;
	if (want != have)
		return error_set(ret_error, -EBADMSG, "checksum mismatch (stored %08x, computed %08x)", have, want);
	r->len = len - 4;

	int64_t window = (int64_t)get_u64(r, "window");
	int64_t newest = (int64_t)get_u64(r, "newest event");
	uint64_t late = get_u64(r, "late events");
	if (!r->bad && (window <= 0 || newest < 0 || newest > PEERS_USEC_MAX))
		return error_set(ret_error, -EBADMSG, "bad window or timestamp");
	if (apply) {
		peers_reset(p);
		p->newest_usec = newest;
		p->now_hour = newest > 0 ? peers_hour_of(newest) : 0;
		p->late_events = late;
	}
	int32_t now_hour = newest > 0 ? peers_hour_of(newest) : 0;

	uint32_t ns = get_count(r, 1, PEERS_SYSLOG_MAX, "syslog names");
	for (uint32_t i = 0; i < ns && !r->bad; i++) {
		char name[PEERS_DOMAIN_MAX];
		size_t l = get_str(r, name, sizeof(name), false, true, "syslog name");
		if (apply && !r->bad)
			peers_syslog_index(p, name, l, true);
	}

	uint32_t nc = get_count(r, 3, COMBO_MAX, "combos");
	combo_map = malloc((nc ? nc : 1) * sizeof(*combo_map));
	if (!combo_map)
		return -ENOMEM;
	for (uint32_t i = 0; i < nc && !r->bad; i++) {
		uint8_t kind = get_u8(r, "combo kind");
		char a[COMBO_STR_MAX], b[COMBO_STR_MAX];
		size_t al = get_str(r, a, sizeof(a), true, false, "combo");
		size_t bl = get_str(r, b, sizeof(b), true, false, "combo");
		if (!r->bad && kind >= _COMBO_KIND_MAX)
			odd(r, "bad combo kind %u", kind);
		/* a bad combo's counts are kept as "other" (id -1) */
		bool good = record_done(r);
		combo_map[i] = apply && good ? peers_combo_id(p, (PeerComboKind)kind, a, al, b, bl) : -1;
	}

	size_t hour_size = 4 + 4 * ((PEERS_SYSLOG_MAX + 1) * 6 + 2 * PEERS_PROTO_MAX + PEERS_CELLS + 1 + (version >= 3));
	uint32_t nh = get_count(r, hour_size, PEERS_WINDOW_MAX_HOURS, "hours");
	int32_t prev = INT32_MAX;
	for (uint32_t i = 0; i < nh && !r->bad; i++) {
		Hour h;
		h.hour = (int32_t)get_u32(r, "hour");
		for (unsigned s = 0; s <= PEERS_SYSLOG_MAX; s++)
			for (unsigned c = 0; c < 6; c++)
				h.in[s][c] = get_u32(r, "hour");
		for (unsigned k = 0; k < PEERS_PROTO_MAX; k++)
			h.proto_in[k] = get_u32(r, "hour");
		h.legacy_mail_in = version >= 3 ? get_u32(r, "hour") : 0;
		for (unsigned c = 0; c < PEERS_CELLS; c++)
			h.out[c] = get_u32(r, "hour");
		h.out_noconn = get_u32(r, "hour");
		for (unsigned k = 0; k < PEERS_PROTO_MAX; k++)
			h.proto_out[k] = get_u32(r, "hour");
		if (r->bad)
			break;
		if (h.hour >= prev || h.hour < 0 || h.hour > now_hour)
			odd(r, "bad hour %d in the totals", h.hour);
		else
			prev = h.hour;
		if (record_done(r) && apply && h.hour > now_hour - p->window_hours)
			*peers_hour_get(p, h.hour) = h;
	}

	unsigned n_tables = version >= 3 ? _PEER_DIR_MAX : PEER_DESTINATION;
	for (unsigned d = 0; d < n_tables && !r->bad; d++)
		parse_table(r, p, &p->t[d], apply, combo_map, nc, now_hour, version);
	free(combo_map);

	if (!r->bad && r->off != r->len)
		fail(r, "%zu bytes of trailing garbage", r->len - r->off);
	if (r->bad) {
		free(r->first_odd);
		return -EBADMSG;
	}
	if (apply)
		peers_after_load(p);
	if (apply && r->skipped)
		log_warn("peers.state: %u bad record%s skipped (or kept as \"other\"), the rest loaded; first: %s",
			 r->skipped, r->skipped == 1 ? "" : "s", r->first_odd ? r->first_odd : "?");
	free(r->first_odd);
	return (int)r->skipped;
}

int peers_load_buffer(Peers *p, const void *data, size_t len, char **ret_error)
{
	if (ret_error)
		*ret_error = NULL;
	int r = peers_state_parse(p, data, len, false, ret_error);
	if (r < 0)
		return r;
	r = peers_state_parse(p, data, len, true, NULL);
	if (r < 0) /* cannot happen after a successful validation; keep the tables sane */
		peers_reset(p);
	return r;
}

int peers_load(Peers *p, const char *state_dir, char **ret_error)
{
	Buf b = BUF_NULL;
	if (ret_error)
		*ret_error = NULL;
	int r = statefile_read(state_dir, PEERS_STATE_FILE, PEERS_STATE_MAX_BYTES, &b);
	if (r == -EFBIG)
		error_set(ret_error, r, "larger than %u bytes", PEERS_STATE_MAX_BYTES);
	else if (r == -ENOENT)
		error_set(ret_error, r, "no state file");
	else if (r < 0)
		error_set(ret_error, r, "cannot read: %s", strerror(-r));
	else
		r = peers_load_buffer(p, b.data ? b.data : "", b.len, ret_error);
	buf_deinit(&b);
	return r;
}

/*
 * ingest.c - per-record pipeline: header split, program filter, rule
 * match, session correlation.
 *
 * DESCRIPTION
 *	The hot path is every line of the mail log, most of which are not TLS
 *	related (qmgr, cleanup, other daemons): the header is split by hand,
 *	the program is looked up in a small intern table (which also caches
 *	the --postfix.syslog-name decision), and only smtpd, smtp/lmtp,
 *	tlsproxy and postscreen lines reach the rule engine. Per-line counters
 *	are plain integers published to the store by a collector.
 * LIMITS
 *	INGEST_MAX_PROGRAMS distinct program names are interned; lines of
 *	further programs are ignored (a local user can log under any name).
 *	A record stamped over FUTURE_SLACK_USEC ahead of both the wall clock
 *	and the newest event so far is counted (future_lines_total) and taken
 *	as of that newest event: one line stamped 2099 must not pin
 *	last_event_timestamp_seconds, expire every session in flight and stop
 *	age expiry. The clocks kept here only move forward, so an old line
 *	does not move them either.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hosts.h"
#include "htable.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "queue.h"
#include "session.h"
#include "utf8.h"
#include "util.h"

#define INGEST_MAX_PROGRAMS 4096
/* Syslog host names a queued record refers to by number; further ones are
 * copied into each record (a central log host sees a few hundred). */
#define INGEST_MAX_HOSTS 4096
#define HOST_INLINE UINT16_MAX
#define INGEST_RECENT_PROGS 61
#define SWEEP_INTERVAL_USEC (60 * USEC_PER_SEC)
/* Blocks of 16 KiB hold about 100 records; sixteen let the two threads
 * drift apart by several hundred lines either way (larger blocks were no
 * faster; sixteen waited less than eight: docs/development.md). */
#define PIPE_BLOCK (16 * 1024)
#define PIPE_BLOCKS 16
/* Over the hour a local-time stamp can be off around a DST change. */
#define FUTURE_SLACK_USEC (2 * 3600 * USEC_PER_SEC)

/* What the two halves write is on cache lines of their own: while they run
 * in two threads, a line both write would move between the cores at every
 * write (false sharing). */
#define CACHE_LINE 64

struct Ingest {
	/* set up once */
	Store *store;
	IngestConfig cfg;
	Parser *parser;        /* the front half's */
	Sessions *sessions;    /* the back half's */
	Hosts *hosts;          /* NULL: no host label */
	PeerNamer *namer;      /* the front half's, while a Peers is attached */
	LoglineClock *clock;
	pcre2_code *name_re;
	pcre2_code *wrapper_re;
	pcre2_code *internal_service_re;  /* NULL: none */
	pcre2_code *internal_relay_re;
	IngestClockFn clock_fn;
	void *clock_userdata;
	Queue *queue;          /* NULL: the back half runs in the caller's thread */
	bool counts_apart;     /* the collector shows `shown` */
	IngestMatch match;     /* which thread matches the rules while pipelined */

	/* the front half's: header, UTF-8, program, rule match */
	_Alignas(CACHE_LINE) HTable progs; /* intern table: ProgInfo *, by program name */
	ProgInfo *last_prog;   /* lines of one program come in runs */
	ProgInfo *recent_progs[INGEST_RECENT_PROGS];
	ProgInfo **prog_at;    /* by ProgInfo.id, for the queued records */
	Slice *host_at;        /* interned host names, for the queued records */
	HTable host_ids;       /* Slice * into host_at, by name */
	uint16_t last_host;    /* lines of one host come in runs; HOST_INLINE: none yet */
	pcre2_match_data *name_md;
	IngestCounts n;
	Buf clean;             /* repaired copy of a record that was not valid UTF-8 */
	int64_t last_sweep_usec;
	int64_t last_clock_usec; /* the last stamp handed to the back half's clock */

	/* the back half's: sessions, counters, peers, the clock hook */
	_Alignas(CACHE_LINE) IngestCounts shown; /* n as of the back half's record */
	pcre2_match_data *relay_md;
	Parser *back_parser;   /* the rules, for messages the front half left unmatched */
	bool warned_no_summary;
	/* a queued record's match: only the groups the last one set are
	 * cleared, not all of them (ingest_new zeroes it: every group SLICE_NULL) */
	Match rec_m;
	uint32_t rec_mask;
};

static void collect(Store *store, void *userdata)
{
	Ingest *in = userdata;
	const IngestCounts *c = in->counts_apart ? &in->shown : &in->n;
	store_set(store, M_LINES_READ, NULL, (double)c->lines_read);
	store_set(store, M_MALFORMED_LINES, NULL, (double)c->malformed);
	store_set(store, M_OVERSIZED_LINES, NULL, (double)c->oversized);
	store_set(store, M_INVALID_UTF8_LINES, NULL, (double)c->invalid_utf8);
	store_set(store, M_FUTURE_LINES, NULL, (double)c->future);
	store_set(store, M_LAST_EVENT_TS, NULL, (double)c->last_event_usec / 1e6);
	store_set(store, M_SESSIONS_OPEN, NULL, (double)sessions_open(in->sessions));
	store_set(store, M_SERIES_DROPPED, NULL, (double)store_series_dropped(store));
}

/* compile_regex - a flag's PCRE2 pattern; -EINVAL with a message naming the flag. */
static int compile_regex(pcre2_code **ret, const char *flag, const char *re, const char *fallback,
			 char **ret_error)
{
	if (!re)
		re = fallback;
	int err;
	PCRE2_SIZE off;
	*ret = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
	if (!*ret) {
		char msg[128];
		pcre2_get_error_message(err, (PCRE2_UCHAR *)msg, sizeof(msg));
		return error_set(ret_error, -EINVAL, "%s='%s': %s at offset %zu", flag, re, msg, (size_t)off);
	}
	return 0;
}

/* internal_relay - --postfix.internal-relay on a delivery's relay= value */
static bool internal_relay(void *userdata, Slice relay)
{
	Ingest *in = userdata;
	return in->internal_relay_re &&
	       pcre2_match(in->internal_relay_re, (PCRE2_SPTR)relay.p, relay.n, 0, 0, in->relay_md, NULL) >= 0;
}

int ingest_new(Ingest **ret, Store *store, const IngestConfig *cfg, char **ret_error)
{
	if (ret_error)
		*ret_error = NULL;
	Ingest *in = aligned_alloc(CACHE_LINE, sizeof(*in));
	if (!in)
		return -ENOMEM;
	memset(in, 0, sizeof(*in));
	in->store = store;
	in->cfg = *cfg;
	int r = parser_new(&in->parser, ret_error);
	if (r < 0)
		goto fail;
	r = sessions_new(&in->sessions, store, cfg->max_sessions, cfg->session_max_age_usec);
	if (r < 0)
		goto fail;
	if (cfg->max_hosts) {
		r = hosts_new(&in->hosts, store, cfg->max_hosts);
		if (r < 0)
			goto fail;
		sessions_set_hosts(in->sessions, in->hosts);
	}
	if (!in->cfg.now_fn)
		in->cfg.now_fn = now_realtime_usec;
	r = logline_clock_new(&in->clock, in->cfg.now_fn());
	if (r < 0)
		goto fail;
	logline_clock_set_now_fn(in->clock, in->cfg.now_fn);
	r = compile_regex(&in->name_re, "--postfix.syslog-name", cfg->syslog_name_regex, "^postfix", ret_error);
	if (r == 0)
		r = compile_regex(&in->wrapper_re, "--postfix.wrapper-service", cfg->wrapper_service_regex,
				  INGEST_WRAPPER_SERVICE_DEFAULT, ret_error);
	/* An empty --postfix.internal-relay names no relay (it would match all). */
	if (r == 0 && !(cfg->internal_relay_regex && !cfg->internal_relay_regex[0]))
		r = compile_regex(&in->internal_relay_re, "--postfix.internal-relay", cfg->internal_relay_regex,
				  INGEST_INTERNAL_RELAY_DEFAULT, ret_error);
	if (r == 0 && cfg->internal_service_regex && cfg->internal_service_regex[0])
		r = compile_regex(&in->internal_service_re, "--postfix.internal-service",
				  cfg->internal_service_regex, NULL, ret_error);
	if (r < 0)
		goto fail;
	in->name_md = pcre2_match_data_create_from_pattern(in->name_re, NULL);
	in->relay_md = pcre2_match_data_create(1, NULL);
	in->prog_at = calloc(INGEST_MAX_PROGRAMS, sizeof(*in->prog_at));
	in->last_host = HOST_INLINE;
	if (!in->name_md || !in->relay_md || !in->prog_at || htable_init(&in->progs, 64) < 0 ||
	    htable_init(&in->host_ids, 16) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	sessions_set_internal_relay(in->sessions, internal_relay, in);
	r = store_add_collector(store, collect, in);
	if (r < 0)
		goto fail;
	*ret = in;
	return 0;
fail:
	ingest_free(in);
	return r;
}

static void prog_free(void *p)
{
	ProgInfo *pi = p;
	free((char *)pi->prog.p);
	free(pi);
}

Ingest *ingest_free(Ingest *in)
{
	if (!in)
		return NULL;
	ingest_pipeline_stop(in);
	peers_namer_free(in->namer);
	parser_free(in->back_parser);
	parser_free(in->parser);
	sessions_free(in->sessions);
	hosts_free(in->hosts);
	logline_clock_free(in->clock);
	pcre2_code_free(in->name_re);
	pcre2_code_free(in->wrapper_re);
	pcre2_code_free(in->internal_relay_re);
	pcre2_code_free(in->internal_service_re);
	pcre2_match_data_free(in->relay_md);
	pcre2_match_data_free(in->name_md);
	htable_deinit(&in->progs, prog_free);
	free(in->prog_at);
	htable_deinit(&in->host_ids, NULL);
	for (size_t i = 0; in->host_at && i < INGEST_MAX_HOSTS && in->host_at[i].p; i++)
		free((char *)in->host_at[i].p);
	free(in->host_at);
	buf_deinit(&in->clean);
	free(in);
	return NULL;
}

void ingest_set_peers(Ingest *in, Peers *peers)
{
	sessions_set_peers(in->sessions, peers);
	/* without one, the Peers normalise every name themselves */
	in->namer = peers_namer_free(in->namer);
	if (peers && peers_namer_new(&in->namer, peers) < 0)
		in->namer = NULL;
}

Hosts *ingest_hosts(const Ingest *in)
{
	return in->hosts;
}

size_t ingest_max_line(const Ingest *in)
{
	return in->cfg.max_line;
}

bool ingest_jit(const Ingest *in)
{
	return parser_jit(in->parser);
}

uint64_t ingest_lines_read(const Ingest *in)
{
	return in->n.lines_read;
}

uint64_t ingest_postfix_lines(const Ingest *in)
{
	return in->n.postfix_lines;
}

size_t ingest_sessions_open(const Ingest *in)
{
	return sessions_open(in->sessions);
}

int64_t ingest_last_event_usec(const Ingest *in)
{
	return in->n.last_event_usec;
}

static uint32_t daemon_class_of(Slice d)
{
	if (slice_eq_str(d, "smtpd"))
		return DAEMON_SMTPD;
	if (slice_eq_str(d, "smtp") || slice_eq_str(d, "lmtp"))
		return DAEMON_SMTP;
	if (slice_eq_str(d, "tlsproxy"))
		return DAEMON_TLSPROXY;
	if (slice_eq_str(d, "postscreen"))
		return DAEMON_POSTSCREEN;
	return 0;
}

static ProgInfo *prog_new(Ingest *in, Slice prog)
{
	ProgInfo *pi = calloc(1, sizeof(*pi));
	char *copy = malloc(prog.n + 1);
	if (!pi || !copy) {
		free(pi);
		free(copy);
		return NULL;
	}
	memcpy(copy, prog.p, prog.n);
	copy[prog.n] = '\0';
	pi->id = (uint32_t)htable_size(&in->progs);
	pi->prog = (Slice){ copy, prog.n };
	Slice name, daemon;
	if (logline_split_prog(pi->prog, &name, &daemon)) {
		pi->syslog_name = name;
		pi->daemon = daemon;
		pi->daemon_class = daemon_class_of(daemon);
		int rc = pcre2_match(in->name_re, (PCRE2_SPTR)name.p, name.n, 0, 0, in->name_md, NULL);
		pi->accepted = rc >= 0;
		/* name_md was created from name_re; a larger wrapper or service
		 * pattern only means fewer captures kept, and only match or no
		 * match is used. (relay_md is the back half's.) */
		rc = pcre2_match(in->wrapper_re, (PCRE2_SPTR)name.p, name.n, 0, 0, in->name_md, NULL);
		pi->wrapper_mode = rc >= 0;
		pi->internal = in->internal_service_re &&
			       pcre2_match(in->internal_service_re, (PCRE2_SPTR)name.p, name.n, 0, 0, in->name_md, NULL) >= 0;
	}
	return pi;
}

static bool prog_eq(const void *item, const void *key)
{
	return slice_eq(((const ProgInfo *)item)->prog, *(const Slice *)key);
}

static void emit_prog(Ingest *in, const ProgInfo *pi);

static ProgInfo *prog_intern(Ingest *in, Slice prog)
{
	if (in->last_prog && slice_eq(in->last_prog->prog, prog))
		return in->last_prog;
	/* A log interleaves a dozen programs: most lines find theirs in a small
	 * table indexed by two bytes and the length, without hashing the name. */
	unsigned slot = prog.n ? (unsigned)(prog.n * 7 + (unsigned char)prog.p[prog.n - 1] * 3 +
					    (unsigned char)prog.p[prog.n / 2]) % INGEST_RECENT_PROGS
			       : 0;
	ProgInfo *pi = in->recent_progs[slot];
	if (pi && slice_eq(pi->prog, prog))
		return in->last_prog = pi;
	uint64_t h = htable_hash(&in->progs, prog.p, prog.n);
	pi = htable_find(&in->progs, h, prog_eq, &prog);
	if (pi)
		return in->last_prog = in->recent_progs[slot] = pi;
	if (htable_size(&in->progs) >= INGEST_MAX_PROGRAMS)
		return NULL;
	pi = prog_new(in, prog);
	if (!pi)
		return NULL;
	if (htable_insert(&in->progs, h, pi) < 0) {
		prog_free(pi);
		return NULL;
	}
	in->prog_at[pi->id] = pi;
	/* the failure reasons of a new instance start at 0 (with the host
	 * label they wait for their host's first increment: the host of a
	 * series is not known when its program is first seen) */
	if (!in->hosts && pi->accepted && pi->daemon_class)
		emit_prog(in, pi);
	return in->last_prog = in->recent_progs[slot] = pi;
}

/* repair - make every field of the record valid UTF-8 before anything keeps
 * a byte of it (labels, peer tables, the report, the state file). */
static const LogLine *repair(Ingest *in, const LogLine *ll, LogLine *fixed, bool printable)
{
	if (printable)
		return ll; /* the source saw every byte of the line (utf8_line_end) */
	/* A text line that is clean as a whole has clean fields, since each
	 * is cut at ASCII separators: one pass instead of three short ones. */
	if (ll->line.p && utf8_clean(ll->line.p, ll->line.n))
		return ll;
	if (utf8_clean(ll->prog.p, ll->prog.n) && utf8_clean(ll->msg.p, ll->msg.n) &&
	    utf8_clean(ll->host.p, ll->host.n))
		return ll;
	in->n.invalid_utf8++;
	Buf *b = &in->clean;
	buf_clear(b);
	utf8_sanitize(b, ll->host.p, ll->host.n);
	size_t host_n = b->len;
	utf8_sanitize(b, ll->prog.p, ll->prog.n);
	size_t prog_n = b->len - host_n;
	utf8_sanitize(b, ll->msg.p, ll->msg.n);
	if (buf_error(b))
		return NULL;
	*fixed = *ll;
	fixed->line = SLICE_NULL; /* the fields are no longer cut from it */
	fixed->host = (Slice){ b->data, host_n };
	fixed->prog = (Slice){ b->data + host_n, prog_n };
	fixed->msg = (Slice){ b->data + host_n + prog_n, b->len - host_n - prog_n };
	return fixed;
}


/* from_future - whether the record is stamped too far ahead to move the
 * clocks; the wall clock is read only when the log jumps ahead. */
static bool from_future(Ingest *in, int64_t ts)
{
	if (ts <= in->n.last_event_usec + FUTURE_SLACK_USEC)
		return false;
	return ts > in->cfg.now_fn() + FUTURE_SLACK_USEC;
}

/*
 * The back half: what a parsed record changes (sessions, counters, peers,
 * the backfill clock). It runs in the caller's thread, or in the queue's
 * consumer thread between ingest_pipeline_start() and _stop(); the front
 * half (header, UTF-8, program, rule match) always runs in the caller's.
 */
static void back_clock(Ingest *in, int64_t ts)
{
	in->clock_fn(in->clock_userdata, ts);
}

static void back_prog(Ingest *in, const ProgInfo *pi)
{
	metrics_init_instance(in->store, pi->syslog_name,
			      pi->daemon_class & (DAEMON_SMTPD | DAEMON_POSTSCREEN | DAEMON_TLSPROXY));
}

static void back_line(Ingest *in, const ProgInfo *pi, const LogLine *ll, const Match *m, const PeerName *name)
{
	sessions_handle(in->sessions, pi, ll, m, name);
	if (!in->warned_no_summary && sessions_tls_without_summary(in->sessions)) {
		in->warned_no_summary = true;
		log_warn("%.*s: TLS session without a TLS summary line; protocol, cipher and trust are counted "
			 "as unknown (postfix_tls_exporter_tls_sessions_parameters_unknown_total). "
			 "Set smtpd_tls_loglevel = 1 and smtp_tls_loglevel = 1 in main.cf",
			 (int)pi->prog.n, pi->prog.p);
	}
}

static void back_unrecognized(Ingest *in, const ProgInfo *pi)
{
	Slice l[] = { pi->daemon };
	store_add(in->store, M_UNRECOGNIZED_LINES, l, 1);
}

static void back_sweep(Ingest *in, int64_t ts)
{
	sessions_sweep(in->sessions, ts);
}

/*
 * Records for the consumer thread. A record holds what the back half reads
 * and nothing else: a line's stamp, pid, program and host, and the captured
 * groups as offsets into a copy of the part of the message they span. The
 * front half's buffers are reused as soon as it returns, so bytes are
 * copied. Programs and host names are referred to by number (prog_at,
 * host_at: written before the record that first names them is published,
 * kept until ingest_free()). Records are small because every byte of them
 * moves from one core's cache to the other's: 48 bytes more a record cost
 * 3 % of a run (docs/development.md).
 */
enum { EV_CLOCK, EV_PROG, EV_LINE, EV_MSG, EV_UNRECOGNIZED, EV_SWEEP };

typedef struct EvHead {
	int64_t ts;
	uint32_t pid;
	uint32_t mask;     /* EV_LINE: the set groups */
	uint16_t size;     /* of the whole record, a multiple of 4 */
	uint16_t prog;     /* ProgInfo.id */
	uint16_t host;     /* host_at index, or HOST_INLINE: host_n bytes in the record */
	uint16_t span_n;   /* EV_LINE: the bytes the groups span; EV_MSG: the message */
	uint8_t kind;
	uint8_t rule;      /* EV_LINE */
	uint8_t n_groups;  /* EV_LINE: set groups, in GroupId order (mask) */
	uint8_t host_n;
} __attribute__((packed, aligned(4))) EvHead; /* 28 bytes, not 32 */

typedef struct EvClock {
	EvHead h;
	IngestCounts n;    /* what the collector shows at this stamp */
} EvClock;

/* EvHead.rule of an EV_LINE record that ends with its peer's name: the
 * length of the normalised name, its registrable domain's offset, the
 * name (name_peer()); of an EV_MSG record that ends with a NameHint: the
 * group's offset and length (16 bits each), then the same. The rest of
 * the byte is the rule. */
#define EV_NAMED 0x80
_Static_assert(_G_MAX <= 32 && _R_MAX <= EV_NAMED, "EvHead.mask and EvHead.rule");
_Static_assert(sizeof(EvHead) == 28 && INGEST_MAX_PROGRAMS <= UINT16_MAX && INGEST_MAX_HOSTS < HOST_INLINE,
	       "EvHead");

/* Records start on 4 bytes: fields wider than that are read with memcpy(). */
#define EV_ALIGN(n) (((n) + 3) & ~(size_t)3)

static bool host_eq(const void *item, const void *key)
{
	return slice_eq(*(const Slice *)item, *(const Slice *)key);
}

/* host_id - the number of a host name, or HOST_INLINE when it is to be
 * copied into the record (the table is full, the name long, or memory short) */
static uint16_t host_id(Ingest *in, Slice host)
{
	if (in->last_host != HOST_INLINE && slice_eq(in->host_at[in->last_host], host))
		return in->last_host;
	if (host.n == 0 || host.n > UINT8_MAX)
		return HOST_INLINE;
	uint64_t h = htable_hash(&in->host_ids, host.p, host.n);
	const Slice *found = htable_find(&in->host_ids, h, host_eq, &host);
	if (found)
		return in->last_host = (uint16_t)(found - in->host_at);
	size_t n = htable_size(&in->host_ids);
	if (n >= INGEST_MAX_HOSTS)
		return HOST_INLINE;
	if (!in->host_at && !(in->host_at = calloc(INGEST_MAX_HOSTS, sizeof(*in->host_at))))
		return HOST_INLINE;
	char *copy = malloc(host.n);
	if (!copy)
		return HOST_INLINE;
	memcpy(copy, host.p, host.n);
	in->host_at[n] = (Slice){ copy, host.n };
	if (htable_insert(&in->host_ids, h, &in->host_at[n]) < 0) {
		in->host_at[n] = SLICE_NULL;
		free(copy);
		return HOST_INLINE;
	}
	return in->last_host = (uint16_t)n;
}

/* ev_head - a record's header: the host by number, or its length when its
 * bytes go into the record (HOST_INLINE) */
static EvHead ev_head(Ingest *in, unsigned kind, const ProgInfo *pi, const LogLine *ll)
{
	EvHead h = { .kind = (uint8_t)kind, .pid = ll->pid, .ts = ll->ts_usec, .prog = (uint16_t)pi->id };
	h.host = host_id(in, ll->host);
	h.host_n = h.host == HOST_INLINE && ll->host.n <= UINT8_MAX ? (uint8_t)ll->host.n : 0;
	return h;
}

/* ev_reserve - room for a record of n bytes in the queue, or NULL when it
 * takes the slow way: larger than a block, or a host name neither numbered
 * nor short enough for host_n */
static char *ev_reserve(Ingest *in, const EvHead *h, const LogLine *ll, size_t n)
{
	if (h->host == HOST_INLINE && h->host_n != ll->host.n)
		return NULL;
	return n <= UINT16_MAX ? queue_reserve(in->queue, n) : NULL;
}

/* ev_host - the host name of a record */
static Slice ev_host(const Ingest *in, const EvHead *h, const char *inline_bytes)
{
	return h->host == HOST_INLINE ? (Slice){ inline_bytes, h->host_n } : in->host_at[h->host];
}

/* name_group - the group a rule's peer name is normalised from, for the
 * program's lines whose peer the Peers count: a connect line's client
 * ("host[addr]", the session's peer when it ends), a delivery's recipient
 * (internal hops have no peer: session_outbound.c) */
static int name_group(const ProgInfo *pi, RuleId rule)
{
	if (rule == R_CONNECT && pi->daemon_class == DAEMON_SMTPD)
		return G_PEER;
	if (rule == R_DELIVERY && pi->daemon_class == DAEMON_SMTP && !pi->internal &&
	    !slice_eq_str(pi->daemon, "lmtp"))
		return G_TO;
	return -1;
}

/* name_peer - the peer name of a queued record, normalised here so that
 * the counting thread, which sets the pace of a run while it keeps up,
 * does not: from v, the rule's name_group(). What the Peers would compute
 * from the same bytes (peers_inbound_session(), split_peer() in session.c). */
static bool name_peer(Ingest *in, RuleId rule, Slice v, PeerName *ret)
{
	if (rule == R_CONNECT) {
		/* "unknown", or no peer, normalises to no name, as the Peers
		 * take it (peers_domain.c compute()) */
		Slice name, addr;
		sessions_split_peer(v, &name, &addr);
		peers_namer_host(in->namer, name, ret);
	} else {
		peers_namer_recipient(in->namer, v, ret);
	}
	return ret->norm.n <= UINT8_MAX; /* at most 253 bytes; else the Peers decide */
}

/* put_name - a name at the end of a record: its length, its registrable
 * domain's offset, its bytes (2 + norm.n bytes); get_name - read it back */
static void put_name(uint8_t *t, const PeerName *n)
{
	t[0] = (uint8_t)n->norm.n;
	t[1] = (uint8_t)n->reg_off;
	if (n->norm.n)
		memcpy(t + 2, n->norm.p, n->norm.n);
}

static PeerName get_name(const uint8_t *t)
{
	return (PeerName){ { (const char *)t + 2, t[0] }, t[1] };
}

/* A name for a message the counting thread matches (EV_MSG): taken from
 * where the rule's group would be, and used only if the match puts the
 * group there (hint_fits()). */
typedef struct NameHint {
	RuleId rule;
	uint16_t off, len;   /* of the group in the message */
	PeerName name;
} NameHint;

/* hint_peer - the name of a message that looks like a connect line or a
 * delivery: "connect from " and the rest (the rule's "\S+$"), or the
 * recipient between the first ": to=<" and '>' ("^qid: to=<([^>]*)>") */
static bool hint_peer(Ingest *in, const ProgInfo *pi, Slice msg, NameHint *ret)
{
	static const char connect[] = "connect from ", to[] = ": to=<";
	Slice v;
	if (name_group(pi, R_CONNECT) >= 0 && msg.n > strlen(connect) && !memcmp(msg.p, connect, strlen(connect))) {
		ret->rule = R_CONNECT;
		v = (Slice){ msg.p + strlen(connect), msg.n - strlen(connect) };
	} else if (name_group(pi, R_DELIVERY) >= 0) {
		const char *at = memmem(msg.p, msg.n < 64 ? msg.n : 64, to, strlen(to));
		const char *gt = at ? memchr(at, '>', (size_t)(msg.p + msg.n - at)) : NULL;
		if (!gt)
			return false;
		ret->rule = R_DELIVERY;
		v = (Slice){ at + strlen(to), (size_t)(gt - at - strlen(to)) };
	} else {
		return false;
	}
	if (v.n > UINT16_MAX)
		return false;
	ret->off = (uint16_t)(v.p - msg.p);
	ret->len = (uint16_t)v.n;
	return name_peer(in, ret->rule, v, &ret->name);
}

/* hint_fits - whether the match m of msg has the hint's group where the
 * hint found it, so that the hint's name is the group's */
static const PeerName *hint_fits(const NameHint *hint, const ProgInfo *pi, const Match *m, Slice msg)
{
	int g = hint && m->rule == hint->rule ? name_group(pi, m->rule) : -1;
	if (g < 0)
		return NULL;
	return m->g[g].p == msg.p + hint->off && m->g[g].n == hint->len ? &hint->name : NULL;
}

static void emit_line(Ingest *in, const ProgInfo *pi, const LogLine *ll, const Match *m)
{
	if (!in->queue) {
		back_line(in, pi, ll, m, NULL);
		return;
	}
	EvHead h = ev_head(in, EV_LINE, pi, ll);
	h.rule = (uint8_t)m->rule;
	/* the set groups and the bytes they span: in msg, so an unset group's
	 * bounds can be msg's end and start without moving lo and hi */
	const char *lo = ll->msg.p + ll->msg.n, *hi = ll->msg.p;
	for (unsigned g = 0; g < _G_MAX; g++) {
		const Slice *s = &m->g[g];
		bool set = s->p != NULL;
		h.mask |= (uint32_t)set << g;
		h.n_groups += set; /* not __builtin_popcount: a libgcc call on baseline x86-64 */
		const char *a = set ? s->p : lo, *b = set ? s->p + s->n : hi;
		lo = a < lo ? a : lo;
		hi = b > hi ? b : hi;
	}
	size_t span = h.mask ? (size_t)(hi - lo) : 0;
	PeerName name;
	int g = in->namer ? name_group(pi, m->rule) : -1;
	bool named = g >= 0 && name_peer(in, m->rule, m->g[g], &name);
	h.rule |= named ? EV_NAMED : 0;
	size_t n = EV_ALIGN(sizeof(h) + 4 * (size_t)h.n_groups + h.host_n + span + (named ? 2 + name.norm.n : 0));
	h.span_n = (uint16_t)span;
	char *p = span <= UINT16_MAX ? ev_reserve(in, &h, ll, n) : NULL;
	if (!p) {
		/* larger than a block (a long line): run it here, with the
		 * consumer idle */
		queue_sync(in->queue);
		back_line(in, pi, ll, m, NULL);
		return;
	}
	h.size = (uint16_t)n;
	memcpy(p, &h, sizeof(h));
	/* offsets and lengths within the span, which is at most n bytes */
	uint16_t *off = (uint16_t *)(p + sizeof(h));
	for (uint32_t bits = h.mask; bits; bits &= bits - 1) {
		const Slice *s = &m->g[__builtin_ctz(bits)];
		*off++ = (uint16_t)(s->p - lo);
		*off++ = (uint16_t)s->n;
	}
	char *bytes = (char *)off;
	if (h.host_n)
		memcpy(bytes, ll->host.p, h.host_n);
	if (span)
		memcpy(bytes + h.host_n, lo, span);
	if (named) {
		put_name((uint8_t *)bytes + h.host_n + span, &name);
	}
	queue_commit(in->queue, n);
}

/* match_line - the rule match, and what it found to the back half */
static void match_line(Ingest *in, Parser *parser, const ProgInfo *pi, const LogLine *ll, const NameHint *hint)
{
	Match m;
	int r = parser_match(parser, pi->daemon_class, ll->msg, &m);
	if (r == 0)
		back_line(in, pi, ll, &m, hint_fits(hint, pi, &m, ll->msg));
	else if (r == PARSE_NO_MATCH)
		back_unrecognized(in, pi);
}

/* A message goes to the back half to match while it keeps up (fewer than
 * PIPE_BLOCKS / 2 blocks queued, match_late()); its peer's name is
 * normalised here too unless the back half is about to run dry, which is
 * when this thread is the slower (inflating a .gz file). */
#define HINT_BACKLOG (PIPE_BLOCKS / 4) /* 1 or 2: the .gz 10 % slower; 4 to 6 alike */

/* emit_msg - a whole message, for the back half to match */
static void emit_msg(Ingest *in, const ProgInfo *pi, const LogLine *ll)
{
	EvHead h = ev_head(in, EV_MSG, pi, ll);
	NameHint hint;
	bool named = in->namer && queue_backlog(in->queue) >= HINT_BACKLOG && hint_peer(in, pi, ll->msg, &hint);
	h.rule = named ? (uint8_t)(hint.rule | EV_NAMED) : 0;
	size_t n = EV_ALIGN(sizeof(h) + (size_t)h.host_n + ll->msg.n + (named ? 6 + hint.name.norm.n : 0));
	h.span_n = (uint16_t)ll->msg.n;
	char *p = ll->msg.n <= UINT16_MAX ? ev_reserve(in, &h, ll, n) : NULL;
	if (!p) {
		queue_sync(in->queue);
		match_line(in, in->parser, pi, ll, NULL);
		return;
	}
	h.size = (uint16_t)n;
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), ll->host.p, h.host_n);
	memcpy(p + sizeof(h) + h.host_n, ll->msg.p, h.span_n);
	if (named) {
		uint8_t *t = (uint8_t *)p + sizeof(h) + h.host_n + h.span_n;
		memcpy(t, &hint.off, 2);
		memcpy(t + 2, &hint.len, 2);
		put_name(t + 4, &hint.name);
	}
	queue_commit(in->queue, n);
}

/* apply - one record to the back half: in the consumer thread, or in the
 * caller's when there is no queue or the record does not fit a block */
static void apply(Ingest *in, const char *rec)
{
	EvHead h;
	memcpy(&h, rec, sizeof(h));
	switch (h.kind) {
	case EV_CLOCK: {
		EvClock c;
		memcpy(&c, rec, sizeof(c));
		in->shown = c.n;
		back_clock(in, h.ts);
		break;
	}
	case EV_PROG:
		back_prog(in, in->prog_at[h.prog]);
		break;
	case EV_UNRECOGNIZED:
		back_unrecognized(in, in->prog_at[h.prog]);
		break;
	case EV_SWEEP:
		back_sweep(in, h.ts);
		break;
	case EV_MSG: {
		const ProgInfo *pi = in->prog_at[h.prog];
		const char *host = rec + sizeof(h);
		LogLine ll = { .ts_usec = h.ts, .host = ev_host(in, &h, host), .prog = pi->prog,
			       .msg = { host + h.host_n, h.span_n }, .pid = h.pid, .line = SLICE_NULL };
		NameHint hint = { 0 };
		if (h.rule & EV_NAMED) {
			const uint8_t *t = (const uint8_t *)ll.msg.p + ll.msg.n;
			hint.rule = (RuleId)(h.rule & ~EV_NAMED);
			memcpy(&hint.off, t, 2);
			memcpy(&hint.len, t + 2, 2);
			hint.name = get_name(t + 4);
		}
		match_line(in, in->back_parser, pi, &ll, h.rule & EV_NAMED ? &hint : NULL);
		break;
	}
	case EV_LINE: {
		const ProgInfo *pi = in->prog_at[h.prog];
		const uint16_t *off = (const uint16_t *)(rec + sizeof(h));
		const char *host = (const char *)(off + 2 * h.n_groups), *span = host + h.host_n;
		LogLine ll = { .ts_usec = h.ts, .host = ev_host(in, &h, host), .prog = pi->prog,
			       .msg = { span, h.span_n }, .pid = h.pid, .line = SLICE_NULL };
		Match *m = &in->rec_m;
		for (uint32_t bits = in->rec_mask; bits; bits &= bits - 1)
			m->g[__builtin_ctz(bits)] = SLICE_NULL;
		in->rec_mask = h.mask;
		m->rule = (RuleId)(h.rule & ~EV_NAMED);
		bool named = h.rule & EV_NAMED;
		PeerName name = named ? get_name((const uint8_t *)span + h.span_n) : (PeerName){ SLICE_NULL, 0 };
		for (uint32_t bits = h.mask; bits; bits &= bits - 1, off += 2)
			m->g[__builtin_ctz(bits)] = (Slice){ span + off[0], off[1] };
		back_line(in, pi, &ll, m, named ? &name : NULL);
		break;
	}
	}
}

/* consume - the consumer thread's side: each record of a block in turn */
static void consume(void *userdata, const char *p, size_t n)
{
	Ingest *in = userdata;
	for (const char *end = p + n; p < end;) {
		uint16_t size;
		memcpy(&size, p + offsetof(EvHead, size), sizeof(size));
		apply(in, p);
		p += size;
	}
}

/* emit - a fixed-size record (not EV_LINE) to the back half: queued, or
 * applied here without a queue or when it is larger than a block (tiny
 * test blocks; the consumer is idle after the sync) */
static void emit(Ingest *in, const void *rec, size_t n)
{
	void *p = in->queue ? queue_reserve(in->queue, n) : NULL;
	if (p) {
		memcpy(p, rec, n);
		queue_commit(in->queue, n);
		return;
	}
	if (in->queue)
		queue_sync(in->queue);
	apply(in, rec);
}

static void emit_prog(Ingest *in, const ProgInfo *pi)
{
	EvHead h = { .size = sizeof(h), .kind = EV_PROG, .prog = (uint16_t)pi->id };
	emit(in, &h, sizeof(h));
}

/* emit_clock - the clock hook's stamp; the same stamp again changes nothing
 * in the backfill's clock, so only new ones are handed on */
static void emit_clock(Ingest *in, int64_t ts)
{
	if (ts == in->last_clock_usec)
		return;
	in->last_clock_usec = ts;
	EvClock c = { .h = { .size = sizeof(c), .kind = EV_CLOCK, .ts = ts }, .n = in->n };
	emit(in, &c, sizeof(c));
}

static void emit_unrecognized(Ingest *in, const ProgInfo *pi)
{
	EvHead h = { .size = sizeof(h), .kind = EV_UNRECOGNIZED, .prog = (uint16_t)pi->id };
	emit(in, &h, sizeof(h));
}

static void emit_sweep(Ingest *in, int64_t ts)
{
	EvHead h = { .size = sizeof(h), .kind = EV_SWEEP, .ts = ts };
	emit(in, &h, sizeof(h));
}

/* match_late - whether the back half matches this message's rules. The
 * front half matches them unless the back half keeps up: with the queue
 * less than half full, the back half takes the matching (a quarter to a
 * third of the front half's work) off a front half that has more to do,
 * as when it inflates a .gz file; with it fuller, the back half is the
 * slower and gets only what was matched. Line by line this evens out the
 * two threads. Either way the records are applied in order, so the result
 * is the same. */
static bool match_late(Ingest *in)
{
	if (!in->queue)
		return false;
	return in->match == INGEST_MATCH_COUNTING || queue_backlog(in->queue) < PIPE_BLOCKS / 2;
}

/* handle - the front half of one record */
static void handle(Ingest *in, const LogLine *raw, bool printable)
{
	LogLine fixed;
	const LogLine *ll = repair(in, raw, &fixed, printable);
	if (!ll)
		return; /* out of memory: lose this record, not the daemon */
	if (from_future(in, ll->ts_usec)) {
		in->n.future++;
		if (ll != &fixed) {
			fixed = *ll;
			ll = &fixed;
		}
		fixed.ts_usec = in->n.last_event_usec; /* 0 (unknown) before the first event */
	}
	if (in->clock_fn && ll->ts_usec)
		emit_clock(in, ll->ts_usec);
	ProgInfo *pi = prog_intern(in, ll->prog);
	if (!pi || !pi->accepted || !pi->daemon_class)
		return;
	in->n.postfix_lines++;
	if (ll->ts_usec > in->n.last_event_usec)
		in->n.last_event_usec = ll->ts_usec;
	if (match_late(in)) {
		emit_msg(in, pi, ll);
	} else {
		Match m;
		int r = parser_match(in->parser, pi->daemon_class, ll->msg, &m);
		if (r == 0)
			emit_line(in, pi, ll, &m);
		else if (r == PARSE_NO_MATCH)
			emit_unrecognized(in, pi);
	}
	if (in->n.last_event_usec - in->last_sweep_usec >= SWEEP_INTERVAL_USEC) {
		emit_sweep(in, in->n.last_event_usec);
		in->last_sweep_usec = in->n.last_event_usec;
	}
}

void ingest_set_clock_hook(Ingest *in, IngestClockFn fn, void *userdata)
{
	in->clock_fn = fn;
	in->clock_userdata = userdata;
}

static void text_line(Ingest *in, const char *line, size_t len, bool printable)
{
	in->n.lines_read++;
	if (!line)
		line = "";
	if (len && line[len - 1] == '\r')
		len--;
	LogLine ll;
	if (logline_parse(in->clock, line, len, &ll) < 0) {
		if (len)
			in->n.malformed++;
		return;
	}
	handle(in, &ll, printable);
}

void ingest_line(Ingest *in, const char *line, size_t len)
{
	text_line(in, line, len, false);
}

void ingest_line_printable(Ingest *in, const char *line, size_t len)
{
	text_line(in, line, len, true);
}

void ingest_entry(Ingest *in, const LogLine *ll)
{
	in->n.lines_read++;
	handle(in, ll, false);
}

void ingest_oversized(Ingest *in)
{
	in->n.oversized++;
}

int ingest_pipeline_start(Ingest *in, size_t block_size)
{
	if (in->queue)
		return 0;
	in->shown = in->n;
	int r = in->back_parser ? 0 : parser_new_sibling(&in->back_parser, in->parser);
	if (r < 0)
		return r;
	r = queue_new(&in->queue, block_size ? block_size : PIPE_BLOCK, PIPE_BLOCKS, consume, in);
	if (r < 0)
		return r;
	in->counts_apart = true;
	return 0;
}

bool ingest_pipelined(const Ingest *in)
{
	return in->queue != NULL;
}

void ingest_sync(Ingest *in)
{
	if (in->queue)
		queue_sync(in->queue);
}

void ingest_pipeline_match(Ingest *in, IngestMatch where)
{
	in->match = where;
}

void ingest_pipeline_stop(Ingest *in)
{
	if (in->queue && log_get_level() <= LOG_LEVEL_DEBUG) {
		/* which half sets the pace: the one that waited less */
		QueueStats st;
		queue_stats(in->queue, &st);
		log_debug("pipeline: the reading thread (header, rules) used %.3f s of CPU and waited %.3f s for "
			  "the counting thread; the counting thread (sessions, peers, counters) used %.3f s and "
			  "waited %.3f s; %.1f MB of records went from one to the other",
			  st.producer_cpu_usec / 1e6, st.producer_wait_usec / 1e6, st.consumer_cpu_usec / 1e6,
			  st.consumer_wait_usec / 1e6, st.bytes / 1e6);
	}
	in->queue = queue_free(in->queue);
	in->counts_apart = false;
}

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
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "hosts.h"
#include "htable.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "session.h"
#include "utf8.h"
#include "util.h"

#define INGEST_MAX_PROGRAMS 4096
#define SWEEP_INTERVAL_USEC (60 * USEC_PER_SEC)
/* Over the hour a local-time stamp can be off around a DST change. */
#define FUTURE_SLACK_USEC (2 * 3600 * USEC_PER_SEC)

struct Ingest {
	Store *store;
	IngestConfig cfg;
	Parser *parser;
	Sessions *sessions;
	Hosts *hosts;          /* NULL: no host label */
	LoglineClock *clock;
	pcre2_code *name_re;
	pcre2_match_data *name_md;
	pcre2_code *wrapper_re;
	pcre2_code *internal_service_re;  /* NULL: none */
	pcre2_code *internal_relay_re;
	pcre2_match_data *relay_md;
	bool warned_no_summary;

	HTable progs;          /* intern table: ProgInfo *, by program name */
	ProgInfo *last_prog;   /* lines of one program come in runs */

	uint64_t lines_read;
	uint64_t postfix_lines; /* records of an accepted syslog name and a daemon we parse */
	uint64_t malformed;
	uint64_t oversized;
	uint64_t invalid_utf8;
	uint64_t future;
	Buf clean;             /* repaired copy of a record that was not valid UTF-8 */
	IngestClockFn clock_fn;
	void *clock_userdata;
	int64_t last_event_usec;
	int64_t last_sweep_usec;
};

static void collect(Store *store, void *userdata)
{
	Ingest *in = userdata;
	store_set(store, M_LINES_READ, NULL, (double)in->lines_read);
	store_set(store, M_MALFORMED_LINES, NULL, (double)in->malformed);
	store_set(store, M_OVERSIZED_LINES, NULL, (double)in->oversized);
	store_set(store, M_INVALID_UTF8_LINES, NULL, (double)in->invalid_utf8);
	store_set(store, M_FUTURE_LINES, NULL, (double)in->future);
	store_set(store, M_LAST_EVENT_TS, NULL, (double)in->last_event_usec / 1e6);
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
	Ingest *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
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
	if (!in->name_md || !in->relay_md || htable_init(&in->progs, 64) < 0) {
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
	buf_deinit(&in->clean);
	free(in);
	return NULL;
}

void ingest_set_peers(Ingest *in, Peers *peers)
{
	sessions_set_peers(in->sessions, peers);
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
	return in->lines_read;
}

uint64_t ingest_postfix_lines(const Ingest *in)
{
	return in->postfix_lines;
}

size_t ingest_sessions_open(const Ingest *in)
{
	return sessions_open(in->sessions);
}

int64_t ingest_last_event_usec(const Ingest *in)
{
	return in->last_event_usec;
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
		/* the failure reasons of a new instance start at 0 (with the host
		 * label they wait for their host's first increment: the host of a
		 * series is not known when its program is first seen) */
		if (in->hosts)
			;
		else if (pi->accepted && pi->daemon_class & (DAEMON_SMTPD | DAEMON_POSTSCREEN | DAEMON_TLSPROXY))
			metrics_init_instance(in->store, name, true);
		else if (pi->accepted && pi->daemon_class & DAEMON_SMTP)
			metrics_init_instance(in->store, name, false);
		/* name_md was created from name_re; a larger wrapper pattern only
		 * means fewer captures kept, and only match or no match is used. */
		rc = pcre2_match(in->wrapper_re, (PCRE2_SPTR)name.p, name.n, 0, 0, in->name_md, NULL);
		pi->wrapper_mode = rc >= 0;
		pi->internal = in->internal_service_re &&
			       pcre2_match(in->internal_service_re, (PCRE2_SPTR)name.p, name.n, 0, 0, in->relay_md, NULL) >= 0;
	}
	return pi;
}

static bool prog_eq(const void *item, const void *key)
{
	return slice_eq(((const ProgInfo *)item)->prog, *(const Slice *)key);
}

static ProgInfo *prog_intern(Ingest *in, Slice prog)
{
	if (in->last_prog && slice_eq(in->last_prog->prog, prog))
		return in->last_prog;
	uint64_t h = htable_hash(&in->progs, prog.p, prog.n);
	ProgInfo *pi = htable_find(&in->progs, h, prog_eq, &prog);
	if (pi)
		return in->last_prog = pi;
	if (htable_size(&in->progs) >= INGEST_MAX_PROGRAMS)
		return NULL;
	pi = prog_new(in, prog);
	if (!pi)
		return NULL;
	if (htable_insert(&in->progs, h, pi) < 0) {
		prog_free(pi);
		return NULL;
	}
	return in->last_prog = pi;
}

/* repair - make every field of the record valid UTF-8 before anything keeps
 * a byte of it (labels, peer tables, the report, the state file). */
static const LogLine *repair(Ingest *in, const LogLine *ll, LogLine *fixed)
{
	/* A text line that is clean as a whole has clean fields, since each
	 * is cut at ASCII separators: one pass instead of three short ones. */
	if (ll->line.p && utf8_clean(ll->line.p, ll->line.n))
		return ll;
	if (utf8_clean(ll->prog.p, ll->prog.n) && utf8_clean(ll->msg.p, ll->msg.n) &&
	    utf8_clean(ll->host.p, ll->host.n))
		return ll;
	in->invalid_utf8++;
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
	if (ts <= in->last_event_usec + FUTURE_SLACK_USEC)
		return false;
	return ts > in->cfg.now_fn() + FUTURE_SLACK_USEC;
}

static void handle(Ingest *in, const LogLine *raw)
{
	LogLine fixed;
	const LogLine *ll = repair(in, raw, &fixed);
	if (!ll)
		return; /* out of memory: lose this record, not the daemon */
	if (from_future(in, ll->ts_usec)) {
		in->future++;
		if (ll != &fixed) {
			fixed = *ll;
			ll = &fixed;
		}
		fixed.ts_usec = in->last_event_usec; /* 0 (unknown) before the first event */
	}
	if (in->clock_fn && ll->ts_usec)
		in->clock_fn(in->clock_userdata, ll->ts_usec);
	ProgInfo *pi = prog_intern(in, ll->prog);
	if (!pi || !pi->accepted || !pi->daemon_class)
		return;
	in->postfix_lines++;
	if (ll->ts_usec > in->last_event_usec)
		in->last_event_usec = ll->ts_usec;
	Match m;
	int r = parser_match(in->parser, pi->daemon_class, ll->msg, &m);
	if (r == 0) {
		sessions_handle(in->sessions, pi, ll, &m);
		if (!in->warned_no_summary && sessions_tls_without_summary(in->sessions)) {
			in->warned_no_summary = true;
			log_warn("%.*s: TLS session without a TLS summary line; protocol, cipher and trust are counted "
				 "as unknown (postfix_tls_exporter_tls_sessions_parameters_unknown_total). "
				 "Set smtpd_tls_loglevel = 1 and smtp_tls_loglevel = 1 in main.cf",
				 (int)pi->prog.n, pi->prog.p);
		}
	} else if (r == PARSE_NO_MATCH) {
		Slice l[] = { pi->daemon };
		store_add(in->store, M_UNRECOGNIZED_LINES, l, 1);
	}
	if (in->last_event_usec - in->last_sweep_usec >= SWEEP_INTERVAL_USEC) {
		sessions_sweep(in->sessions, in->last_event_usec);
		in->last_sweep_usec = in->last_event_usec;
	}
}

void ingest_set_clock_hook(Ingest *in, IngestClockFn fn, void *userdata)
{
	in->clock_fn = fn;
	in->clock_userdata = userdata;
}

void ingest_line(Ingest *in, const char *line, size_t len)
{
	in->lines_read++;
	if (!line)
		line = "";
	if (len && line[len - 1] == '\r')
		len--;
	LogLine ll;
	if (logline_parse(in->clock, line, len, &ll) < 0) {
		if (len)
			in->malformed++;
		return;
	}
	handle(in, &ll);
}

void ingest_entry(Ingest *in, const LogLine *ll)
{
	in->lines_read++;
	handle(in, ll);
}

void ingest_oversized(Ingest *in)
{
	in->oversized++;
}

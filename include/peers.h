/*
 * peers.h - per-peer accounting for the enforcement-readiness question:
 * registrable domain (eTLD+1, libpsl) of each inbound client and outbound
 * recipient, heavy-hitter folding into "other", rolling time windows in
 * log time, persistence in the state directory.
 *
 * The session tracker calls peers_inbound_session() once per classified
 * inbound session and peers_outbound_delivery() once per delivery line.
 *
 * DESCRIPTION
 *	Peer identity is the registrable domain of the client hostname
 *	(inbound) or of the recipient domain (outbound), lower-cased, in ASCII
 *	(IDN labels are converted to punycode), without a trailing dot. Clients
 *	logged as "unknown", IP literals, empty or invalid names map to the peer
 *	"unknown"; their addresses are tracked separately for the report.
 *	Outbound deliveries are also tracked by destination, the whole
 *	recipient domain: the key smtp_tls_policy_maps looks up (without a
 *	label in /metrics; the examples are the relay hosts, i.e. MX names).
 *
 *	Labelled series: at most max_labelled peers per direction carry their
 *	own peer_domain label; every other event is counted under
 *	peer_domain="other". Who is labelled follows a Space-Saving summary over
 *	the tracked peers: a peer replaces the least busy labelled peer once its
 *	guaranteed count exceeds that peer's count. A demoted peer's totals move
 *	into "other", so for every family and label combination the sum over
 *	peer_domain equals the number of events seen (exact).
 *
 *	Tracking: at most max_tracked peers per direction (Space-Saving: a new
 *	peer replaces the least busy unlabelled one and inherits its count as
 *	error). For each tracked peer, hourly buckets in log time over the
 *	window hold sessions by (encryption, mail) or deliveries by (tls,
 *	status), plus (protocol, cipher), failure reasons and plaintext mail by
 *	syslog_name; first/last seen and last plaintext seen are kept.
 *
 *	Names are normalised through a domain cache (peers_domain.c); another
 *	thread may normalise them with a PeerNamer and hand the result in
 *	(PeerSession.name, PeerDelivery.dest), as ingest's reading thread does.
 *
 *	Series only (PeersConfig.series_only, for --once and backfill, whose
 *	output is the metrics alone): the inbound and outbound tables keep
 *	their entries, counts, labels and slots, since slots taken back from
 *	a full pool and the window's sweep decide who stays tracked; nothing
 *	else is kept. The series are the same as with everything kept.
 * LIMITS
 *	All tables are reserved in peers_new() and become resident as they
 *	are used, up to the bounds (about 1 KiB per tracked peer and
 *	direction, plus 112 bytes per labelled peer and window hour; about
 *	20 MiB with the defaults). A domain cache takes up to 512 KiB (one per
 *	Peers and one per PeerNamer). Window at most PEERS_WINDOW_MAX_HOURS hours.
 *	Log times after 9999-12-31 are ignored by the windows.
 * THREADS
 *	None. A Peers belongs to the event-loop thread. While no other call
 *	runs, lists of different directions may be built in other threads at
 *	once (peers_list() only reads), except that peers_list() of
 *	PEER_DESTINATION groups by domain through the domain cache: one such
 *	list at a time (report_model.c builds two lists in a second thread).
 *	A PeerNamer may be used in another thread at any time.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "slice.h"
#include "store.h"

typedef struct Peers Peers;

typedef struct PeersConfig {
	size_t max_labelled;   /* --peers.max: labelled series per direction */
	size_t max_tracked;    /* --peers.track: peers tracked for the report */
	int64_t window_usec;   /* --window */
	/* Keep only what the labelled series need (the exposition of --once
	 * and backfill): no combinations, examples, hourly totals, unknown
	 * addresses or destinations. The reads of the report and the state
	 * file then return -EOPNOTSUPP. The series come out the same. */
	bool series_only;
	/* Back the larger tables with 2 MB pages where the kernel has them:
	 * fewer page faults, up to 2 MB more resident memory per table pool
	 * in use. For runs that read to the end; the daemon keeps 4 KiB. */
	bool huge_pages;
} PeersConfig;

#define PEERS_MAX_LABELLED_DEFAULT 100
#define PEERS_MAX_TRACKED_DEFAULT 10000
#define PEERS_WINDOW_DEFAULT_USEC (7LL * 24 * 3600 * 1000000)
#define PEERS_CONFIG_DEFAULT \
	((PeersConfig){ PEERS_MAX_LABELLED_DEFAULT, PEERS_MAX_TRACKED_DEFAULT, PEERS_WINDOW_DEFAULT_USEC })
#define PEERS_WINDOW_MAX_HOURS (366 * 24)
#define PEERS_MAX_LABELLED_LIMIT 10000
#define PEERS_MAX_TRACKED_LIMIT 1000000

/* PeerName - a host name as the peer tables see it: norm is the name
 * normalised (lower case, ASCII with xn-- labels, no trailing dot), empty
 * when it maps to "unknown"; its registrable domain is norm from reg_off. */
typedef struct PeerName {
	Slice norm;
	size_t reg_off;
} PeerName;

typedef struct PeerSession {
	int64_t ts_usec;
	Slice syslog_name;
	Slice client_name;     /* "mail.example.com", or "unknown" */
	Slice client_addr;     /* "192.0.2.1" */
	Encryption encryption;
	bool mail;
	Slice protocol;        /* "TLSv1.2"; empty when no TLS */
	Slice cipher;
	const char *failure;   /* inbound TLS failure reason, or NULL */
	Slice host;            /* host label value; empty: peers are not tracked per host */
	const PeerName *name;  /* client_name normalised (peers_namer_host()), or NULL: peers does it */
} PeerSession;

typedef struct PeerDelivery {
	int64_t ts_usec;
	Slice syslog_name;
	Slice recipient;       /* "user@example.org" */
	Slice relay;           /* "mx.example.org[192.0.2.7]:25" or "none" */
	Trust tls;             /* TRUST_NONE when no TLS */
	Slice protocol;
	DeliveryStatus status;
	Slice host;            /* as in PeerSession */
	bool dane;             /* Postfix logged the delivery as DANE-verified ("tls=dane", 3.11+) */
	const PeerName *dest;  /* the recipient's domain normalised (peers_namer_recipient()), or NULL */
} PeerDelivery;

typedef enum PeerDirection {
	PEER_INBOUND,
	PEER_OUTBOUND,
	PEER_UNKNOWN_ADDR,     /* inbound clients without a usable name, by address */
	PEER_DESTINATION,      /* outbound, by next-hop domain (the smtp_tls_policy_maps key) */
	_PEER_DIR_MAX,
} PeerDirection;

const char *peer_direction_name(PeerDirection d);

/* peers_new - reserve every table. Values of 0 in cfg select
 * the defaults; max_tracked is raised to max_labelled + 1 when smaller.
 * Return: 0, -EINVAL for a window of more than PEERS_WINDOW_MAX_HOURS or
 * limits beyond PEERS_*_LIMIT, -ENOMEM, or the libpsl failure -ENOENT. */
int peers_new(Peers **ret, Store *store, const PeersConfig *cfg);
Peers *peers_free(Peers *p);

void peers_inbound_session(Peers *p, const PeerSession *s);
void peers_outbound_delivery(Peers *p, const PeerDelivery *d);

/*
 * Peer identity.
 */
#define PEERS_DOMAIN_MAX 128   /* registrable domains longer than 127 bytes map to "unknown" */

/* peers_domain_of_host - the peer of a client hostname: registrable domain,
 * or "unknown". The returned string lives in the lookup cache and is valid
 * until the next peers_* call. */
const char *peers_domain_of_host(Peers *p, Slice host);
/* peers_domain_of_recipient - the peer of "user@domain" (angle brackets
 * allowed). */
const char *peers_domain_of_recipient(Peers *p, Slice recipient);

/* A PeerNamer normalises names in another thread than the Peers' (the
 * reading thread of a pipelined run), with a domain cache of its own and
 * the Peers' PSL, which libpsl allows; the result goes to
 * peers_inbound_session() and peers_outbound_delivery() in PeerName, and
 * is what the Peers would have computed. Free it before its Peers. */
typedef struct PeerNamer PeerNamer;
int peers_namer_new(PeerNamer **ret, const Peers *p);
PeerNamer *peers_namer_free(PeerNamer *n);
/* peers_namer_host - host normalised into *ret; ret->norm points into n
 * until the next call */
void peers_namer_host(PeerNamer *n, Slice host, PeerName *ret);
/* peers_namer_recipient - the domain of "<user@domain>", normalised */
void peers_namer_recipient(PeerNamer *n, Slice recipient, PeerName *ret);

/*
 * Persistence: "<state_dir>/peers.state", written with statefile_write().
 * The format is versioned (PEERS_STATE_VERSION) and carries a CRC-32 of
 * everything before it. peers_load() validates the whole file before it
 * changes anything; on failure the table is left as it was and
 * *ret_error (when ret_error is not NULL) receives a malloc'd message that
 * the caller frees.
 */
#define PEERS_STATE_FILE "peers.state"
#define PEERS_STATE_VERSION 3
#define PEERS_STATE_MAX_BYTES (512u * 1024 * 1024)

/* Return: 0, or negative errno from the write. */
int peers_save(Peers *p, const char *state_dir);
/* Return: the number of bad records skipped (0 for a clean file; the rest
 * is loaded and they are logged once), -ENOENT no state file, -EBADMSG
 * corrupt, truncated or hostile structure, -EPROTONOSUPPORT written by a
 * newer version, -EFBIG too large, other negative errno from reading. */
int peers_load(Peers *p, const char *state_dir, char **ret_error);
/* The same, on a buffer (used by the fuzzer and by tests). */
int peers_save_buffer(Peers *p, Buf *out);
int peers_load_buffer(Peers *p, const void *data, size_t len, char **ret_error);

/*
 * Read access for the report and for tests. Times are µs since the epoch
 * in log time; a window is the hours (end_hour - window_hours, end_hour]
 * where end_hour is the hour of now_usec (0: the newest event seen) and
 * window_hours is window_usec rounded up to whole hours (0: the configured
 * --window). A window longer than the configured one returns -ERANGE: the
 * table keeps no older hours.
 */
#define PEERS_CELLS 16               /* inbound: ENC*2+mail; outbound: TRUST*3+status */
#define PEERS_EXAMPLES 3
#define PEERS_EXAMPLE_MAX 64
#define PEERS_STAT_COMBOS 40
#define PEERS_SYSLOG_MAX 8           /* distinct syslog names kept; more count as "other" */
#define PEERS_PROTO_MAX 7
#define PEERS_PROTO_TLS12 4         /* index of TLSv1.2 in proto_names: indices below are SSL/TLS < 1.2 */

static inline unsigned peers_in_cell(Encryption e, bool mail) { return (unsigned)e * 2 + (mail ? 1 : 0); }
static inline unsigned peers_out_cell(Trust t, DeliveryStatus s) { return (unsigned)t * 3 + (unsigned)s; }

typedef enum PeerComboKind {
	COMBO_TLS,        /* a = protocol, b = cipher (outbound: b is "dane" for a DANE-verified delivery, else "") */
	COMBO_FAILURE,    /* a = reason */
	COMBO_PLAINMAIL,  /* a = syslog_name: plaintext sessions with mail */
	COMBO_NOCONN,     /* a = delivery status: outbound without a connection (relay=none) */
	_COMBO_KIND_MAX,
} PeerComboKind;

typedef struct PeerComboCount {
	PeerComboKind kind;
	const char *a, *b;   /* borrowed from the Peers, valid until it changes */
	uint64_t n;
} PeerComboCount;

/* peers_key_name - the domain (or address) of a key: with
 * --postfix.host-label keys are "host/domain" ('/' is in no host or domain
 * name), and the part before the '/' is the MTA. *ret_host_len is that
 * part's length, 0 without one. */
static inline const char *peers_key_name(const char *key, size_t *ret_host_len)
{
	const char *sl = strchr(key, '/');
	*ret_host_len = sl ? (size_t)(sl - key) : 0;
	return sl ? sl + 1 : key;
}

typedef struct PeerStats {
	char key[PEERS_DOMAIN_MAX];   /* domain, or address for PEER_UNKNOWN_ADDR; "host/..." per MTA */
	char group[PEERS_DOMAIN_MAX]; /* PEER_DESTINATION: the key's registrable domain; else "" */
	uint64_t n[PEERS_CELLS];      /* window counts by cell */
	uint64_t total;               /* sum of n */
	int64_t first_seen_usec, last_seen_usec, last_plaintext_usec; /* 0: never */
	uint64_t ss_count, ss_error;  /* Space-Saving estimate (since load) */
	bool labelled;
	unsigned n_examples;
	bool more_examples;           /* more distinct hosts were seen than kept */
	char examples[PEERS_EXAMPLES][PEERS_EXAMPLE_MAX];
	uint64_t proto[PEERS_PROTO_MAX];  /* TLS sessions (deliveries) by protocol, exact */
	uint64_t legacy_mail;         /* inbound mail sessions below TLS 1.2 (state files before version 3: 0) */
	unsigned n_combos;            /* at most PEERS_STAT_COMBOS */
	/* sorted by kind, n desc, a, b; the busiest of each kind. Kept apart
	 * from the struct, which it would make 2.5 times as large (and a
	 * report writes one struct per peer): in the array peers_list()
	 * returns, freed with it; for peers_get_window(), in the Peers until
	 * its next call. */
	const PeerComboCount *combos;
	uint64_t combos_other[_COMBO_KIND_MAX];   /* per kind: counts not listed ("+N other"); the
						   * listed ones plus this are every event of the kind */
} PeerStats;

/* peers_get_window - window counts of one tracked peer.
 * Return: 0, or -ENOENT when the peer is not tracked. */
int peers_get_window(Peers *p, PeerDirection dir, const char *key, int64_t now_usec, int64_t window_usec,
		     PeerStats *ret);
/* peers_list - every tracked peer with an event in the window, sorted by
 * key. *ret is malloc'ed; the caller frees it. */
int peers_list(Peers *p, PeerDirection dir, int64_t now_usec, int64_t window_usec, PeerStats **ret, size_t *ret_n);

typedef struct PeersSyslogTotals {
	char name[PEERS_DOMAIN_MAX];
	uint64_t in[PEERS_CELLS];            /* sessions by peers_in_cell() */
} PeersSyslogTotals;

typedef struct PeersTotals {
	int64_t window_usec;
	int64_t from_usec, to_usec;          /* hour-aligned window covered */
	int64_t newest_event_usec;           /* newest log time seen (0: none) */
	int64_t data_from_usec;              /* start of the oldest hour with events in the window (0: none) */
	unsigned n_syslog;
	PeersSyslogTotals syslog[PEERS_SYSLOG_MAX + 1];  /* sorted by name */
	uint64_t in[PEERS_CELLS];            /* all inbound sessions in the window */
	uint64_t out[PEERS_CELLS];           /* all outbound deliveries in the window */
	uint64_t out_noconn;                 /* of which without a connection */
	const char *proto_names[PEERS_PROTO_MAX];
	uint64_t proto_in[PEERS_PROTO_MAX];  /* inbound TLS sessions by protocol */
	uint64_t proto_out[PEERS_PROTO_MAX]; /* outbound TLS deliveries by protocol */
	uint64_t legacy_mail_in;             /* inbound mail sessions below TLS 1.2 */
	/* per day (UTC, oldest first) of the window: sessions, plaintext, mail, plaintext mail */
	unsigned n_days;
	int64_t day_start_usec[PEERS_WINDOW_MAX_HOURS / 24 + 2];
	uint64_t day_sessions[PEERS_WINDOW_MAX_HOURS / 24 + 2];
	uint64_t day_plain[PEERS_WINDOW_MAX_HOURS / 24 + 2];
	uint64_t day_mail[PEERS_WINDOW_MAX_HOURS / 24 + 2];
	uint64_t day_plain_mail[PEERS_WINDOW_MAX_HOURS / 24 + 2];
	/* tracking health */
	size_t tracked[_PEER_DIR_MAX], max_tracked, max_labelled;
	uint64_t evicted[_PEER_DIR_MAX];     /* peers dropped from tracking while busy (since start) */
	uint64_t folded[_PEER_DIR_MAX];      /* events counted as "other" (since start) */
	uint64_t late_events;                /* events older than the window when they arrived */
} PeersTotals;

int peers_get_totals(Peers *p, int64_t now_usec, int64_t window_usec, PeersTotals *ret);
/* peers_window_usec - the configured --window: the longest window a read can cover. */
int64_t peers_window_usec(const Peers *p);
/* peers_newest_usec - newest log time seen, also across a restart (0: none). */
int64_t peers_newest_usec(const Peers *p);

/* Labelled-series view (what the exposition shows), for tests. */
size_t peers_labelled_count(const Peers *p, PeerDirection dir);
/* peers_series_value - the exposed counter value for (dir, domain or "other", cell). */
uint64_t peers_series_value(const Peers *p, PeerDirection dir, const char *domain, unsigned cell);
/* peers_event_total - all events of a direction and cell since start (exact). */
uint64_t peers_event_total(const Peers *p, PeerDirection dir, unsigned cell);

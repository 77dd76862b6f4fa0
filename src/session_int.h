/*
 * session_int.h - the Sessions object's layout (entry table, entries, LRU
 * lists) and the helpers shared by session.c (table, inbound sessions) and
 * session_outbound.c (smtp/lmtp processes and deliveries). Not part of the
 * public API.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "htable.h"
#include "metrics.h"
#include "parse.h"
#include "session.h"
#include "slice.h"

typedef enum EntryKind {
	KIND_SMTPD,      /* inbound smtpd session */
	KIND_POSTSCREEN, /* postscreen connection, by endpoint */
	KIND_CLIENT,     /* smtp/lmtp process */
	KIND_TLSPROXY,   /* tlsproxy process: last TLS library problem */
	_KIND_MAX,
} EntryKind;

typedef struct Entry Entry;
struct Entry {
	Entry *prev, *next; /* LRU list of its kind, most recent first */
	EntryKind kind;
	uint64_t hash;          /* of key, in Sessions.map */
	char *key;              /* see make_key(); in the same allocation, after the entry */
	size_t keylen;
	const ProgInfo *prog;
	int64_t last_ts;

	/* inbound (smtpd, postscreen) */
	bool tls_done;
	bool tls_attempted;
	bool client_seen;
	bool passed;            /* postscreen PASS: may be handed to smtpd */
	bool proxied;           /* tlsproxy holds the connection (CONNECT from, no DISCONNECT yet) */
	bool lingering;         /* postscreen DISCONNECT seen, waiting for tlsproxy's outcome */
	bool failure_counted;
	const char *pending_failure;
	char *peer;             /* "host[addr]" as smtpd logged it (set_peer()) */
	char *name;             /* after peer in its allocation: the client name as the reading
				 * thread normalised it (PeerName), or NULL */
	uint8_t name_n, name_reg_off;
	char *proto;
	char *cipher;

	/* outbound client process */
	Trust tls;              /* TRUST_NONE: no TLS line armed */
	char *tls_peer;
	char *tls_proto;
	char *bound_qid;
	const char *pending_cert;
	const char *armed_cert; /* pending_cert of the connection the last summary announced */
	char *policy_fail_qid;  /* last attempt counted by count_policy_failure() */
	int64_t policy_fail_ts;

	/* tlsproxy */
	const char *last_library_reason;
};

typedef struct List {
	Entry *head, *tail;
	size_t n;
} List;

struct Sessions {
	Store *store;
	Peers *peers;
	SessionsRelayFn internal_relay;
	void *internal_relay_userdata;
	Hosts *hosts;           /* NULL: no host label */
	Slice host;             /* of the record being handled, or of the entry finish() ends */
	const PeerName *name;   /* of the record being handled, if the reading thread named its peer */
	size_t max_entries;
	int64_t max_age_usec;
	HTable map;             /* Entry *, by key */
	List lists[_KIND_MAX];
	size_t n_passed;        /* postscreen entries with passed set */
	uint64_t n_tls_without_summary;
	size_t n_lingering;     /* postscreen entries with lingering set */
	Buf keybuf;
};

typedef struct Mapping {
	const char *needle;
	const char *reason;
} Mapping;

/* ---- the entry table (session.c) ----------------------------------------- */

/* sessions_entry_lookup - the entry of the current record's host, or NULL. */
Entry *sessions_entry_lookup(Sessions *s, EntryKind kind, const ProgInfo *prog, uint32_t pid, Slice ep);
/* sessions_entry_create - a new entry; the least recently used one of its
 * kind makes room when the table is full. NULL when out of memory. */
Entry *sessions_entry_create(Sessions *s, EntryKind kind, const ProgInfo *prog, uint32_t pid, Slice ep,
			     int64_t ts);
/* sessions_entry_touch - mark the entry as the most recently used of its kind. */
void sessions_entry_touch(Sessions *s, Entry *e, int64_t ts);
char *sessions_slice_dup(Slice v);
void sessions_set_str(char **dst, Slice v);

/* ---- counting and mappings (session.c) ----------------------------------- */

Slice sessions_host_label(Sessions *s);
void sessions_count(Sessions *s, MetricId m, const Slice *labels);
void sessions_count_failure(Sessions *s, MetricId m, const ProgInfo *prog, const char *reason);
void sessions_count_internal_hop(Sessions *s, const ProgInfo *prog, const char *direction);
void sessions_count_handshake(Sessions *s, MetricId metric, const ProgInfo *prog, const Match *m);
const char *sessions_map_text(const Mapping *map, size_t n, Slice text, const char *fallback);

/* ---- outbound (session_outbound.c) --------------------------------------- */

/* sessions_on_client - one matched line of an smtp/lmtp process. */
void sessions_on_client(Sessions *s, const ProgInfo *prog, const LogLine *ll, const Match *m);

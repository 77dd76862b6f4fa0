/*
 * peers.h - per-peer accounting for the enforcement-readiness question:
 * registrable domain (eTLD+1, libpsl) of each inbound client and outbound
 * recipient, heavy-hitter folding into "other", rolling time windows in
 * log time, persistence in the state directory.
 *
 * The session tracker calls peers_inbound_session() once per classified
 * inbound session and peers_outbound_delivery() once per delivery line.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "slice.h"
#include "store.h"

typedef struct Peers Peers;

typedef struct PeersConfig {
	size_t max_labelled;   /* --peers.max: labelled series per direction */
	size_t max_tracked;    /* --peers.track: peers tracked for the report */
	int64_t window_usec;   /* --window */
} PeersConfig;

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
} PeerSession;

typedef struct PeerDelivery {
	int64_t ts_usec;
	Slice syslog_name;
	Slice recipient;       /* "user@example.org" */
	Slice relay;           /* "mx.example.org[192.0.2.7]:25" or "none" */
	Trust tls;             /* TRUST_NONE when no TLS */
	Slice protocol;
	DeliveryStatus status;
} PeerDelivery;

int peers_new(Peers **ret, Store *store, const PeersConfig *cfg);
Peers *peers_free(Peers *p);

void peers_inbound_session(Peers *p, const PeerSession *s);
void peers_outbound_delivery(Peers *p, const PeerDelivery *d);

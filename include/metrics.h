/*
 * metrics.h - the metric contract: every family this exporter exposes.
 *
 * The table in metrics.c is the single place that names metrics, their HELP
 * text and label schema; the README and the man page list the same families.
 */
#pragma once

#include <stdbool.h>

#include "slice.h"
#include "store.h"

typedef enum MetricId {
	M_INBOUND_CONNECTIONS,      /* {syslog_name} */
	M_INBOUND_SESSIONS,         /* {syslog_name,encryption,mail} */
	M_INBOUND_HANDSHAKES,       /* {syslog_name,trust,protocol,cipher,key_exchange} -> 5 labels, see metrics.c */
	M_INBOUND_TLS_FAILURES,     /* {syslog_name,reason} */
	M_OUTBOUND_HANDSHAKES,      /* {syslog_name,trust,protocol,cipher,key_exchange} */
	M_OUTBOUND_DELIVERIES,      /* {syslog_name,tls,status} */
	M_OUTBOUND_TLS_FAILURES,    /* {syslog_name,reason} */
	M_OUTBOUND_TLS_POLICY,      /* {syslog_name,feature,level,final,state} */
	M_INBOUND_PEER_SESSIONS,    /* {peer_domain,encryption,mail} */
	M_OUTBOUND_PEER_DELIVERIES, /* {peer_domain,tls,status} */
	M_INTERNAL_HOPS,            /* {syslog_name,direction} */
	M_BUILD_INFO,               /* {version} */
	M_LINES_READ,
	M_UNRECOGNIZED_LINES,       /* {daemon} */
	M_MALFORMED_LINES,
	M_OVERSIZED_LINES,
	M_INVALID_UTF8_LINES,
	M_FUTURE_LINES,
	M_LAST_EVENT_TS,
	M_SESSIONS_OPEN,
	M_SESSIONS_EXPIRED,
	M_TLS_WITHOUT_SUMMARY,      /* {direction} */
	M_SERIES_DROPPED,
	M_SOURCE_UP,                /* {source} */
	M_JOURNAL_ENTRIES_READ,
	M_PEERS_TRACKED,            /* {direction} */
	M_PEERS_FOLDED,             /* {direction} */
	M_PROCESS_CPU,
	M_PROCESS_RSS,
	M_PROCESS_VSIZE,
	M_PROCESS_OPEN_FDS,
	M_PROCESS_MAX_FDS,
	M_PROCESS_START_TIME,
	_M_MAX,
	/* Exposed only with --postfix.host-label (see metrics_fleet_families()). */
	M_HOSTS_LABELLED = _M_MAX,
	M_HOSTS_FOLDED,
	_M_MAX_FLEET,
} MetricId;

extern const FamilyDesc metrics_families[_M_MAX];

/* metrics_init_zero - expose the label values known at start at 0 (the
 * daemons of unrecognized_lines_total), so that a dashboard shows 0 rather
 * than "No data" and increase() sees the first increment. */
void metrics_init_zero(Store *s);
/* metrics_init_instance - the failure reasons of a Postfix instance
 * (syslog_name) at 0, when its first inbound or outbound line is seen. */
void metrics_init_instance(Store *s, Slice syslog_name, bool inbound);
/* metrics_fleet_families - the families with --postfix.host-label: every
 * Postfix family (inbound, outbound, peer) has "host" as its first label,
 * and the hosts_* families follow the others. _M_MAX_FLEET entries. */
const FamilyDesc *metrics_fleet_families(void);
/* metrics_has_host - whether family m carries the host label in the fleet table. */
static inline bool metrics_has_host(unsigned m)
{
	return m <= M_OUTBOUND_PEER_DELIVERIES;
}

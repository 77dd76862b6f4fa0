/*
 * hosts.h - the host label: which MTA of a fleet a record came from.
 *
 * DESCRIPTION
 *	With --postfix.host-label every Postfix family carries host="...",
 *	the syslog HOSTNAME of a file line or _HOSTNAME of a journal entry.
 *	The first max_labelled distinct hosts keep their name; records of
 *	later hosts are counted under host="other", and every increment so
 *	folded is counted in postfix_tls_exporter_hosts_folded_total. A line
 *	without a host is host="unknown".
 * LIMITS
 *	max_labelled names are kept (HOSTS_MAX_LABELLED_LIMIT at most), so
 *	memory stays flat however many hostnames the log invents.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slice.h"
#include "store.h"

#define HOSTS_MAX_LABELLED_DEFAULT 256
#define HOSTS_MAX_LABELLED_LIMIT 100000

typedef struct Hosts Hosts;

/* hosts_new - an empty host table; registers the hosts_* collector on store.
 * Return: 0, -EINVAL for a limit of 0 or beyond HOSTS_MAX_LABELLED_LIMIT, -ENOMEM. */
int hosts_new(Hosts **ret, Store *store, size_t max_labelled);
Hosts *hosts_free(Hosts *h);

/* hosts_label - the label value for a record of host: its own name, "unknown"
 * for an empty one, or "other" (counted as folded) once the table is full.
 * The slice stays valid until hosts_free(). */
Slice hosts_label(Hosts *h, Slice host);

size_t hosts_labelled(const Hosts *h);
uint64_t hosts_folded(const Hosts *h);

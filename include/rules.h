/*
 * rules.h - the parser's rule table: one entry per Postfix log format we
 * understand, each with the Postfix source it was written from and example
 * lines that the unit tests replay.
 */
#pragma once

#include <stdint.h>

/* Daemon classes; a rule applies to one or more. */
enum {
	DAEMON_SMTPD = 1u << 0,      /* smtpd (any syslog name) */
	DAEMON_SMTP = 1u << 1,       /* smtp and lmtp clients */
	DAEMON_TLSPROXY = 1u << 2,
	DAEMON_POSTSCREEN = 1u << 3,
};

typedef enum RuleId {
	R_TLS_SUMMARY,
	R_CONNECT,
	R_DISCONNECT,
	R_ABNORMAL_END,
	R_SSL_ACCEPT_ERROR,
	R_SSL_CONNECT_ERROR,
	R_TLS_LIBRARY_PROBLEM,
	R_CLIENT,
	R_TLS_ABORT,
	R_TLSPROXY_ENDPOINT,
	R_TLSPROXY_HANDSHAKE_FAILED,
	R_POSTSCREEN_CONNECT,
	R_POSTSCREEN_PASS,
	R_POSTSCREEN_DISCONNECT,
	R_VERIFY_FAILED,
	R_DELIVERY,
	R_NONFINAL,
	R_TLS_SETUP,
	R_LEGACY_CERT,
	R_PIPELINING,
	R_TLS_SNI,
	R_TLS_WARNING,
	R_POSTSCREEN_ALLOWLISTED,
	R_POSTSCREEN_CONNECT_REJECT,
	R_POSTSCREEN_COMMAND_LIMIT,
	R_POSTSCREEN_NON_SMTP,
	R_EHLO_DISCARD,
	R_STARTTLS_OFFERED,
	R_TLS_STATE_TRACE,
	R_TLS_CIPHER_LIST,
	R_SMTP_CHAT,
	_R_MAX,
} RuleId;

/* Named capture groups a rule may define; the engine maps names to slots. */
typedef enum GroupId {
	G_TRUST,
	G_USAGE,
	G_DIR,
	G_PEER,
	G_SNI,
	G_PROTO,
	G_CIPHER,
	G_KEX,
	G_KEXPARM,
	G_ERR,
	G_QID,
	G_REASON,
	G_WHERE,
	G_STATS,
	G_EP,
	G_WHAT,
	G_WHY,
	G_TO,
	G_RELAY,
	G_STATUS,
	G_PURPOSE,
	G_TLSFEAT,
	_G_MAX,
} GroupId;

extern const char *const rules_group_names[_G_MAX];

typedef struct Rule {
	RuleId id;
	const char *name;
	uint32_t daemons;      /* DAEMON_* mask */
	const char *prefix;    /* message must start with this, or NULL */
	const char *contains;  /* message must contain this (cheap filter), or NULL */
	unsigned within;       /* ...starting at most this many bytes in (0: 48) */
	const char *pattern;   /* PCRE2, anchored at the message start */
	const char *source;    /* the Postfix code it was written from */
	const char *const *examples; /* full log lines, NULL-terminated */
} Rule;

extern const Rule rules[_R_MAX];

/* Literals that make a line of a daemon class TLS/session relevant: a
 * relevant line that no rule matches is counted as unrecognized. */
typedef struct RelevanceRule {
	uint32_t daemons;
	const char *contains;
} RelevanceRule;

extern const RelevanceRule rules_relevance[];
extern const unsigned rules_n_relevance;

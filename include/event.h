/*
 * event.h - the vocabulary shared by the session tracker, the peer table
 * and the report: how a session ended, how a delivery was protected.
 */
#pragma once

typedef enum Encryption {
	ENC_TLS,             /* a handshake completed (STARTTLS or implicit TLS) */
	ENC_PLAINTEXT,       /* no TLS attempted */
	ENC_STARTTLS_FAILED, /* TLS attempted, no handshake completed */
	_ENC_MAX,
} Encryption;

typedef enum Trust {
	TRUST_NONE,          /* no TLS (outbound "tls" label "none") */
	TRUST_ANONYMOUS,
	TRUST_UNTRUSTED,
	TRUST_TRUSTED,
	TRUST_VERIFIED,
	_TRUST_MAX,
} Trust;

typedef enum DeliveryStatus {
	DELIVERY_SENT,
	DELIVERY_DEFERRED,
	DELIVERY_BOUNCED,
	_DELIVERY_MAX,
} DeliveryStatus;

static inline const char *encryption_name(Encryption e)
{
	static const char *const n[] = { "tls", "plaintext", "starttls_failed" };
	return (unsigned)e < _ENC_MAX ? n[e] : "unknown";
}

static inline const char *trust_name(Trust t)
{
	static const char *const n[] = { "none", "anonymous", "untrusted", "trusted", "verified" };
	return (unsigned)t < _TRUST_MAX ? n[t] : "unknown";
}

static inline const char *delivery_status_name(DeliveryStatus s)
{
	static const char *const n[] = { "sent", "deferred", "bounced" };
	return (unsigned)s < _DELIVERY_MAX ? n[s] : "unknown";
}

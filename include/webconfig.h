/*
 * webconfig.h - the Prometheus exporter-toolkit web configuration file
 * (--web.config.file): TLS server settings, basic-auth users with bcrypt
 * hashes, extra response headers.
 *
 * webconfig_load() parses and validates the whole file (libyaml) and reads
 * the certificate files into memory, so that a reload either fully succeeds
 * or leaves the running configuration untouched.
 *
 * Implemented by webconfig.c (schema, files, headers), webconfig_yaml.c
 * (YAML walker), webconfig_tls.c (TLS section, GnuTLS priorities) and
 * webconfig_auth.c (basic-auth users and cache); src/webconfig_int.h is
 * what they share.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct WebConfig WebConfig;

typedef enum WebClientAuth {
	WEB_CLIENT_AUTH_NONE,            /* NoClientCert (default) */
	WEB_CLIENT_AUTH_REQUEST,         /* RequestClientCert */
	WEB_CLIENT_AUTH_REQUIRE_ANY,     /* RequireAnyClientCert */
	WEB_CLIENT_AUTH_VERIFY_IF_GIVEN, /* VerifyClientCertIfGiven */
	WEB_CLIENT_AUTH_REQUIRE_VERIFY,  /* RequireAndVerifyClientCert */
} WebClientAuth;

/* webconfig_load - path NULL gives the empty config (plain HTTP, no auth).
 * Return: 0, or negative errno with *ret_error = malloc'd message naming the
 * file, the key and the fix. */
int webconfig_load(const char *path, WebConfig **ret, char **ret_error);
/* webconfig_parse - same, from memory (used by the fuzzer and unit tests;
 * certificate files are still read from disk). */
int webconfig_parse(const char *data, size_t len, const char *path_for_messages, WebConfig **ret, char **ret_error);
WebConfig *webconfig_free(WebConfig *c);

bool webconfig_tls_enabled(const WebConfig *c);
const char *webconfig_cert_pem(const WebConfig *c);      /* NUL-terminated PEM */
const char *webconfig_key_pem(const WebConfig *c);
const char *webconfig_client_ca_pem(const WebConfig *c); /* NULL if none */
WebClientAuth webconfig_client_auth(const WebConfig *c);
/* GnuTLS priority string built from min_version/max_version/cipher_suites */
const char *webconfig_tls_priorities(const WebConfig *c);

bool webconfig_auth_enabled(const WebConfig *c);
/* webconfig_check_basic_auth - verify user/password against the bcrypt
 * hashes (crypt_rn), in constant time for unknown users; successful
 * verifications are cached so a scrape does not cost a bcrypt. The cache
 * has no lock: call it from the event-loop thread only (libmicrohttpd runs
 * in external-epoll mode, see http.c).
 * Return: true if accepted; true for any user when no users are configured;
 * false for passwords longer than 72 bytes (bcrypt would truncate them). */
bool webconfig_check_basic_auth(WebConfig *c, const char *user, const char *password);
/* webconfig_check_basic_auth_budget - the same, but when the answer is not
 * in the cache and may_bcrypt is false, return -EAGAIN instead of running
 * bcrypt. Return: 1 accepted, 0 refused, -EAGAIN. */
int webconfig_check_basic_auth_budget(WebConfig *c, const char *user, const char *password, bool may_bcrypt);

/* Counters of the basic-auth verifier, for tests and debugging. */
typedef struct WebAuthStats {
	unsigned long long bcrypt_runs; /* crypt_rn() calls, including dummy ones for unknown users */
	unsigned long long cache_hits;  /* verifications answered from the cache */
	size_t cache_entries;
} WebAuthStats;
void webconfig_auth_stats(WebConfig *c, WebAuthStats *ret);

/* Extra response headers from http_server_config.headers. */
size_t webconfig_n_headers(const WebConfig *c);
void webconfig_header(const WebConfig *c, size_t i, const char **ret_name, const char **ret_value);

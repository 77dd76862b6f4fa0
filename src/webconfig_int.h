/*
 * webconfig_int.h - the pieces of the web configuration shared by
 * webconfig.c (schema, files, headers, load), webconfig_yaml.c (YAML walker),
 * webconfig_tls.c (TLS section, GnuTLS priorities) and webconfig_auth.c
 * (basic-auth users and their cache). Not part of the public API.
 *
 * A load goes: the YAML walker fills a Raw through the schema table (every
 * value as text with its line, nothing validated across keys), then
 * webconfig_tls_build(), the header check and webconfig_auth_build() turn
 * the Raw into a WebConfig, reporting the first problem through
 * webconfig_fail().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "webconfig.h"

#define WEBCONFIG_FILE_MAX (1024 * 1024)
#define WEBCONFIG_USERS_MAX 1000
#define WEBCONFIG_LIST_MAX 64
#define WEBCONFIG_AUTH_CACHE_MAX 64
#define WEBCONFIG_PASSWORD_MAX 72 /* bcrypt uses only the first 72 bytes */
#define BCRYPT_HASH_LEN 60
#define QUOTE_MAX 100

/* ---- the file as read ---------------------------------------------------- */

/* A scalar value as read from the file, with its line for later messages. */
typedef struct Val {
	char *s; /* NULL = absent or YAML null */
	size_t line;
} Val;

typedef struct ValList {
	Val *v;
	size_t n;
	bool present; /* the key was written, even as null or [] */
} ValList;

typedef struct Pair {
	Val key;
	Val value;
} Pair;

typedef struct PairList {
	Pair *v;
	size_t n;
} PairList;

typedef struct Flag {
	bool set;
	bool value;
} Flag;

/* Raw - the file's content before cross-key validation. */
typedef struct Raw {
	size_t tls_line; /* line of tls_server_config, for section-wide messages */
	Val cert_file, key_file, client_ca_file, cert, key, client_ca;
	Val client_auth_type, min_version, max_version;
	ValList cipher_suites, curves, allowed_sans;
	Flag prefer_server;
	size_t http_line;
	Flag http2; /* read and checked, then ignored: libmicrohttpd never offers h2 */
	PairList headers;
	PairList users;
} Raw;

/* WebLoad - one load in progress: where messages point and the first error. */
typedef struct WebLoad {
	const char *file; /* for messages */
	char *dir;        /* base of relative paths; NULL when parsing from memory without a path */
	char *error;      /* first message, malloc'd */
	Raw raw;
} WebLoad;

/* webconfig_fail - keep the first error as "FILE:LINE: KEY: message" (line 0
 * and key NULL leave those parts out). Return: -EINVAL. */
int webconfig_fail(WebLoad *l, size_t line, const char *key, const char *fmt, ...) _printf_(4, 5);
/* webconfig_quote - 'value' with control and non-ASCII bytes escaped,
 * truncated to fit out; for messages. Returns out. */
const char *webconfig_quote(char out[static QUOTE_MAX], const char *s, size_t n);
/* webconfig_load_pem - the PEM text of an inline value or of a file
 * relative to the config's directory; file_key names the *_file key. */
int webconfig_load_pem(WebLoad *l, const Val *file, const Val *inline_text, const char *file_key,
		       const char *inline_key, char **ret);

/* ---- the YAML walker (webconfig_yaml.c) ------------------------------------ */

typedef enum WebFieldType {
	WEB_FIELD_STRING,  /* Val; "" counts as unset, as for Go's string fields */
	WEB_FIELD_BOOL,    /* Flag; YAML 1.1 booleans as yaml.v2 reads them */
	WEB_FIELD_LIST,    /* ValList of non-empty strings, at most WEBCONFIG_LIST_MAX */
	WEB_FIELD_MAP,     /* PairList with unique names, at most max entries */
	WEB_FIELD_SECTION, /* size_t: the key's line; the value is a mapping of fields */
	WEB_FIELD_REFUSED, /* a known key we do not support; refusal says what to do */
} WebFieldType;

/* WebField - one key of a mapping: what it holds and where in Raw it goes. */
typedef struct WebField {
	const char *key;
	WebFieldType type;
	size_t offset; /* into Raw */
	size_t max;    /* WEB_FIELD_MAP */
	const struct WebField *fields; /* WEB_FIELD_SECTION */
	size_t n_fields;
	const char *refusal; /* WEB_FIELD_REFUSED */
} WebField;

/* webconfig_yaml_read - walk the document into l->raw along the top-level
 * fields: unknown and duplicate keys are errors (exporter-toolkit uses
 * yaml.UnmarshalStrict), as are aliases. Return: 0 or negative errno. */
int webconfig_yaml_read(WebLoad *l, const char *data, size_t len, const WebField *top, size_t n_top);
/* webconfig_yaml_free - free (and wipe) every value the walker stored. */
void webconfig_yaml_free(Raw *raw, const WebField *fields, size_t n_fields);

/* ---- TLS (webconfig_tls.c) --------------------------------------------------- */

typedef struct WebTls {
	bool enabled;
	char *cert_pem;
	char *key_pem;
	char *client_ca_pem;
	WebClientAuth client_auth;
	char *priorities;
} WebTls;

/* webconfig_tls_build - validate tls_server_config, build the GnuTLS
 * priority string and load and check the certificates. */
int webconfig_tls_build(WebLoad *l, WebTls *t);
void webconfig_tls_clear(WebTls *t);

/* ---- basic auth (webconfig_auth.c) -------------------------------------------- */

typedef struct WebUser {
	char *name;
	char *hash; /* validated bcrypt hash, BCRYPT_HASH_LEN chars */
} WebUser;

typedef struct AuthCacheEntry {
	size_t user; /* index into users[] */
	uint8_t digest[32];
} AuthCacheEntry;

typedef struct WebAuth {
	WebUser *users;
	size_t n_users;
	char dummy_hash[BCRYPT_HASH_LEN + 1];

	/* The cache is the one mutable part of a loaded WebConfig. */
	uint8_t cache_salt[32];
	AuthCacheEntry cache[WEBCONFIG_AUTH_CACHE_MAX];
	size_t n_cache;
	size_t cache_next; /* round-robin victim once full */
	unsigned long long bcrypt_runs;
	unsigned long long cache_hits;
} WebAuth;

/* webconfig_auth_init - a fresh cache salt; -EIO if GnuTLS has no randomness. */
int webconfig_auth_init(WebAuth *a);
/* webconfig_auth_build - validate basic_auth_users into a. */
int webconfig_auth_build(WebLoad *l, WebAuth *a);
void webconfig_auth_clear(WebAuth *a);

/* ---- the loaded configuration ----------------------------------------------- */

typedef struct WebHeader {
	char *name;
	char *value;
} WebHeader;

struct WebConfig {
	WebTls tls;
	WebAuth auth;
	WebHeader *headers;
	size_t n_headers;
};

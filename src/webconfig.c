/*
 * webconfig.c - the Prometheus exporter-toolkit web configuration file
 *
 * DESCRIPTION
 *      Reads the YAML file named by --web.config.file, in the format of
 *      prometheus/exporter-toolkit (docs/web-configuration.md), so that one
 *      file secures this exporter the same way as every Go exporter:
 *
 *          tls_server_config:  cert_file/cert, key_file/key, client_auth_type,
 *                              client_ca_file/client_ca, min_version,
 *                              max_version, cipher_suites, curve_preferences,
 *                              prefer_server_cipher_suites
 *          http_server_config: http2, headers
 *          basic_auth_users:   user: bcrypt hash
 *
 *      The file is parsed with libyaml's event API against a fixed schema:
 *      every key is known, every value is checked, and the first problem is
 *      reported as "FILE:LINE: KEY: problem; fix". Certificate, key and CA
 *      files are read into memory and checked with GnuTLS here, so a config
 *      that loads is one libmicrohttpd can start with, and a failed SIGHUP
 *      reload leaves the running config untouched. Relative paths are
 *      relative to the directory of the config file, as in exporter-toolkit.
 *
 *      A WebConfig is immutable after loading except for the basic-auth
 *      cache, which has its own mutex, so the HTTP layer may share one
 *      config between threads and swap it on reload.
 *
 * GNUTLS MAPPING
 *      min_version/max_version become "-VERS-ALL:+VERS-TLS1.x" tokens on top
 *      of NORMAL. Go's cipher_suites name individual TLS <= 1.2 suites, but a
 *      GnuTLS priority string can only list key exchanges, ciphers and MACs,
 *      and enables every suite in their cross product. We therefore compute
 *      that product from GnuTLS's own suite table and reject a list whose
 *      product contains suites the operator did not name (the message lists
 *      them), rather than silently enabling more than asked. GnuTLS also
 *      shares the cipher list with TLS 1.3, so a list that leaves TLS 1.3
 *      without a cipher while max_version allows it is rejected as well.
 *
 * LIMITS
 *      config file and each PEM file 1 MiB; 1000 users; 64 list entries;
 *      64 cached successful verifications; passwords of at most 72 bytes
 *      (bcrypt ignores the rest, as Go's bcrypt refuses them too).
 *
 * DIAGNOSTICS
 *      Never logs. Functions return 0 or a negative errno; parse errors come
 *      with a malloc'd message for the caller to log.
 *
 * SECURITY
 *      The file is trusted configuration but still parsed defensively: YAML
 *      aliases are refused (no billion-laughs expansion), certificate paths
 *      must be regular files (a FIFO cannot hang a reload), header values
 *      may not contain control characters (no response splitting), and user
 *      strings in messages are quoted and escaped. Unknown users cost one
 *      bcrypt against a fixed hash of the users' usual cost, so response
 *      time does not reveal which users exist. The cache stores a salted
 *      SHA-256 of the password, never the password.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "macro.h"
#include "webconfig.h"

#define WEBCONFIG_FILE_MAX (1024 * 1024)
#define WEBCONFIG_USERS_MAX 1000
#define WEBCONFIG_LIST_MAX 64
#define WEBCONFIG_AUTH_CACHE_MAX 64
#define WEBCONFIG_PASSWORD_MAX 72 /* bcrypt uses only the first 72 bytes */
#define BCRYPT_HASH_LEN 60
#define QUOTE_MAX 100

/* Go's tls.VersionTLS1x order; index into version_names[]. */
enum { TLS10, TLS11, TLS12, TLS13, _TLS_MAX };

static const char *const version_names[_TLS_MAX] = { "TLS10", "TLS11", "TLS12", "TLS13" };
static const char *const version_tokens[_TLS_MAX] = { "VERS-TLS1.0", "VERS-TLS1.1", "VERS-TLS1.2", "VERS-TLS1.3" };
static const gnutls_protocol_t version_gnutls[_TLS_MAX] = { GNUTLS_TLS1_0, GNUTLS_TLS1_1, GNUTLS_TLS1_2, GNUTLS_TLS1_3 };

/*
 * The names exporter-toolkit accepts: Go's tls.CipherSuites(), i.e. the
 * suites Go implements minus those it lists as insecure (RC4, 3DES,
 * CBC-SHA256). The IANA ids let us find each suite in GnuTLS's table.
 */
static const struct {
	const char *name;
	uint16_t id;
} go_cipher_suites[] = {
	{ "TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f },
	{ "TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035 },
	{ "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c },
	{ "TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d },
	{ "TLS_AES_128_GCM_SHA256", 0x1301 },
	{ "TLS_AES_256_GCM_SHA384", 0x1302 },
	{ "TLS_CHACHA20_POLY1305_SHA256", 0x1303 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a },
	{ "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013 },
	{ "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014 },
	{ "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b },
	{ "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c },
	{ "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f },
	{ "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030 },
	{ "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8 },
	{ "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9 },
};

static const struct {
	const char *name;
	const char *token;
} go_curves[] = {
	{ "CurveP256", "GROUP-SECP256R1" },
	{ "CurveP384", "GROUP-SECP384R1" },
	{ "CurveP521", "GROUP-SECP521R1" },
	{ "X25519", "GROUP-X25519" },
};

static const struct {
	const char *name;
	WebClientAuth value;
} client_auth_names[] = {
	{ "NoClientCert", WEB_CLIENT_AUTH_NONE },
	{ "RequestClientCert", WEB_CLIENT_AUTH_REQUEST },
	{ "RequireAnyClientCert", WEB_CLIENT_AUTH_REQUIRE_ANY },
	{ "RequireClientCert", WEB_CLIENT_AUTH_REQUIRE_ANY }, /* exporter-toolkit's old spelling */
	{ "VerifyClientCertIfGiven", WEB_CLIENT_AUTH_VERIFY_IF_GIVEN },
	{ "RequireAndVerifyClientCert", WEB_CLIENT_AUTH_REQUIRE_VERIFY },
};

/*
 * exporter-toolkit allows exactly these headers, some with fixed values, so
 * that all Prometheus components behave alike.
 */
static const struct {
	const char *name;
	const char *values[3]; /* allowed values, NULL-terminated; none = any */
} allowed_headers[] = {
	{ "Strict-Transport-Security", { NULL } },
	{ "X-Content-Type-Options", { "nosniff", NULL } },
	{ "X-Frame-Options", { "deny", "sameorigin", NULL } },
	{ "X-XSS-Protection", { NULL } },
	{ "Content-Security-Policy", { NULL } },
};

/*
 * Hash of "fakepassword" with exporter-toolkit's fixed salt; the cost is
 * replaced at load time by the cost most users have, so an unknown user
 * costs as much as a known one.
 */
#define DUMMY_HASH_TAIL "QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

typedef struct WebUser {
	char *name;
	char *hash; /* validated bcrypt hash, BCRYPT_HASH_LEN chars */
} WebUser;

typedef struct WebHeader {
	char *name;
	char *value;
} WebHeader;

typedef struct AuthCacheEntry {
	size_t user; /* index into users[] */
	uint8_t digest[32];
} AuthCacheEntry;

struct WebConfig {
	bool tls;
	char *cert_pem;
	char *key_pem;
	char *client_ca_pem;
	WebClientAuth client_auth;
	char *priorities;

	WebUser *users;
	size_t n_users;
	char dummy_hash[BCRYPT_HASH_LEN + 1];

	WebHeader *headers;
	size_t n_headers;

	/* Everything below is mutable and guarded by lock. */
	pthread_mutex_t lock;
	uint8_t cache_salt[32];
	AuthCacheEntry cache[WEBCONFIG_AUTH_CACHE_MAX];
	size_t n_cache;
	size_t cache_next; /* round-robin victim once full */
	unsigned long long bcrypt_runs;
	unsigned long long cache_hits;
};

/* A scalar value as read from the file, with its line for later messages. */
typedef struct Val {
	char *s; /* NULL = absent or YAML null */
	size_t line;
} Val;

typedef struct Pair {
	Val key;
	Val value;
} Pair;

/* Raw - the file's content before cross-key validation. */
typedef struct Raw {
	Val cert_file, key_file, client_ca_file, cert, key, client_ca;
	Val client_auth_type, min_version, max_version;
	Val *cipher_suites;
	size_t n_cipher_suites;
	Val *curves;
	size_t n_curves;
	Val *allowed_sans;
	size_t n_allowed_sans;
	bool have_allowed_sans;
	int prefer_server; /* -1 unset */
	size_t prefer_server_line;
	size_t tls_line; /* line of tls_server_config, for section-wide messages */
	bool http2;
	Pair *headers;
	size_t n_headers;
	Pair *users;
	size_t n_users;
} Raw;

typedef struct Parser {
	yaml_parser_t yaml;
	yaml_event_t ev;
	bool have_ev;
	const char *file; /* for messages */
	char *dir;        /* base of relative paths */
	char *error;
	size_t key_line; /* line of the key whose value is being read */
	Raw raw;
} Parser;

/* quote - 'value' with control and non-ASCII bytes escaped, truncated; for messages. */
static const char *quote(char out[static QUOTE_MAX], const char *s, size_t n)
{
	size_t o = 0;
	out[o++] = '\'';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 8 >= QUOTE_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(out + o, QUOTE_MAX - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

/* fail - record the first error as "FILE:LINE: KEY: message" and return -EINVAL. */
_printf_(4, 5) static int fail(Parser *p, size_t line, const char *key, const char *fmt, ...)
{
	if (p->error)
		return -EINVAL;
	Buf b = BUF_NULL;
	va_list ap;
	if (line)
		buf_printf(&b, "%s:%zu: ", p->file, line);
	else
		buf_printf(&b, "%s: ", p->file);
	if (key)
		buf_printf(&b, "%s: ", key);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* On OOM the caller still gets -EINVAL; webconfig_parse() reports it. */
	p->error = b.data ? buf_steal(&b, NULL) : NULL;
	return -EINVAL;
}

static int next(Parser *p)
{
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	p->have_ev = false;
	if (!yaml_parser_parse(&p->yaml, &p->ev)) {
		if (p->yaml.error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		/* libyaml's problem and context texts are its own constant strings. */
		return fail(p, p->yaml.problem_mark.line + 1, NULL, "YAML syntax error at column %zu: %s%s%s%s; fix the YAML syntax",
			    p->yaml.problem_mark.column + 1, p->yaml.problem ? p->yaml.problem : "unknown error",
			    p->yaml.context ? " (" : "", p->yaml.context ? p->yaml.context : "", p->yaml.context ? ")" : "");
	}
	p->have_ev = true;
	return 0;
}

static size_t ev_line(const Parser *p)
{
	return p->ev.start_mark.line + 1;
}

static const char *ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "something else";
	}
}

/* An alias could expand exponentially (billion laughs) and the schema never needs one. */
static int refuse_alias(Parser *p, const char *key)
{
	return fail(p, ev_line(p), key, "YAML aliases (*name) are not supported; write the value out");
}

static bool is_null(const yaml_event_t *ev)
{
	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* read_str - the current event is a value that must be a string (or null). */
static int read_str(Parser *p, const char *key, Val *ret)
{
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (p->ev.type != YAML_SCALAR_EVENT)
		return fail(p, ev_line(p), key, "expected a string, found %s; write a single value", ev_kind(&p->ev));
	ret->line = ev_line(p);
	if (is_null(&p->ev)) {
		ret->s = NULL;
		return 0;
	}
	const char *v = (const char *)p->ev.data.scalar.value;
	size_t n = p->ev.data.scalar.length;
	if (memchr(v, '\0', n))
		return fail(p, ret->line, key, "the value contains a NUL byte; remove it");
	ret->s = strndup(v, n);
	return ret->s ? 0 : -ENOMEM;
}

/* read_opt_str - like read_str, but "" means unset, as for Go's string fields. */
static int read_opt_str(Parser *p, const char *key, Val *ret)
{
	int r = read_str(p, key, ret);
	if (r >= 0 && ret->s && !ret->s[0]) {
		free(ret->s);
		ret->s = NULL;
	}
	return r;
}

/* read_bool - YAML 1.1 booleans as Go's yaml.v2 reads them; quoted strings are not booleans. */
static int read_bool(Parser *p, const char *key, bool *ret)
{
	static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
	static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (p->ev.type == YAML_SCALAR_EVENT && p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		const char *v = (const char *)p->ev.data.scalar.value;
		for (size_t i = 0; i < ELEMENTSOF(yes); i++)
			if (!strcmp(v, yes[i])) {
				*ret = true;
				return 0;
			}
		for (size_t i = 0; i < ELEMENTSOF(no); i++)
			if (!strcmp(v, no[i])) {
				*ret = false;
				return 0;
			}
	}
	if (p->ev.type == YAML_SCALAR_EVENT) {
		char q[QUOTE_MAX];
		return fail(p, ev_line(p), key, "invalid value %s; expected true or false (unquoted)",
			    quote(q, (const char *)p->ev.data.scalar.value, p->ev.data.scalar.length));
	}
	return fail(p, ev_line(p), key, "expected true or false, found %s", ev_kind(&p->ev));
}

/* read_list - a list of strings; null or [] give an empty list. */
static int read_list(Parser *p, const char *key, Val **ret, size_t *ret_n)
{
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return fail(p, ev_line(p), key, "expected a list, found %s; write one item per line as '- NAME'",
			    ev_kind(&p->ev));
	for (;;) {
		int r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_SEQUENCE_END_EVENT)
			return 0;
		char path[128];
		snprintf(path, sizeof(path), "%s[%zu]", key, *ret_n);
		if (*ret_n >= WEBCONFIG_LIST_MAX)
			return fail(p, ev_line(p), key, "more than %d items; shorten the list", WEBCONFIG_LIST_MAX);
		Val v = { 0 };
		r = read_str(p, path, &v);
		if (r < 0)
			return r;
		if (!v.s || !v.s[0]) {
			free(v.s);
			return fail(p, v.line, path, "empty list item; remove it");
		}
		Val *n = realloc(*ret, (*ret_n + 1) * sizeof(Val));
		if (!n) {
			free(v.s);
			return -ENOMEM;
		}
		*ret = n;
		n[(*ret_n)++] = v;
	}
}

/* read_map - string-to-string mapping with unique keys; null or {} give an empty map. */
static int read_map(Parser *p, const char *key, size_t max, Pair **ret, size_t *ret_n)
{
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return fail(p, ev_line(p), key, "expected a mapping of 'name: value' lines, found %s", ev_kind(&p->ev));
	for (;;) {
		int r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (*ret_n >= max)
			return fail(p, ev_line(p), key, "more than %zu entries; remove some", max);
		Pair e = { { 0 }, { 0 } };
		r = read_str(p, key, &e.key);
		if (r < 0)
			return r;
		if (!e.key.s)
			return fail(p, e.key.line, key, "empty name; give every entry a name");
		for (size_t i = 0; i < *ret_n; i++)
			if (!strcmp((*ret)[i].key.s, e.key.s)) {
				char q[QUOTE_MAX];
				int f = fail(p, e.key.line, key, "duplicate entry %s (first on line %zu); keep only one",
					     quote(q, e.key.s, strlen(e.key.s)), (*ret)[i].key.line);
				free(e.key.s);
				return f;
			}
		r = next(p);
		if (r < 0) {
			free(e.key.s);
			return r;
		}
		char path[QUOTE_MAX + 64];
		char q[QUOTE_MAX];
		snprintf(path, sizeof(path), "%s.%s", key, quote(q, e.key.s, strlen(e.key.s)));
		r = read_str(p, path, &e.value);
		if (r < 0) {
			free(e.key.s);
			return r;
		}
		Pair *n = realloc(*ret, (*ret_n + 1) * sizeof(Pair));
		if (!n) {
			free(e.key.s);
			free(e.value.s);
			return -ENOMEM;
		}
		*ret = n;
		n[(*ret_n)++] = e;
	}
}

typedef int (*KeyHandler)(Parser *p, size_t idx, const char *path);

/*
 * parse_mapping - walk a mapping whose keys come from a fixed list: unknown
 * and duplicate keys are errors (exporter-toolkit uses yaml.UnmarshalStrict,
 * which refuses both). handle() consumes each value.
 */
static int parse_mapping(Parser *p, const char *section, const char *const *keys, size_t n_keys, KeyHandler handle)
{
	uint64_t seen = 0;
	size_t seen_line[64] = { 0 };

	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, section);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_MAPPING_START_EVENT) {
		Buf b = BUF_NULL;
		for (size_t i = 0; i < n_keys; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
		int r = fail(p, ev_line(p), section[0] ? section : NULL, "expected a mapping with the keys %s, found %s",
			     b.data ? buf_cstr(&b) : "?", ev_kind(&p->ev));
		buf_deinit(&b);
		return r;
	}
	for (;;) {
		int r = next(p);
		if (r < 0)
			return r;
		if (p->ev.type == YAML_MAPPING_END_EVENT)
			return 0;
		if (p->ev.type != YAML_SCALAR_EVENT || is_null(&p->ev))
			return fail(p, ev_line(p), section[0] ? section : NULL, "expected a key name, found %s",
				    is_null(&p->ev) ? "an empty key" : ev_kind(&p->ev));
		const char *k = (const char *)p->ev.data.scalar.value;
		size_t klen = p->ev.data.scalar.length;
		size_t line = ev_line(p);
		size_t idx = n_keys;
		for (size_t i = 0; i < n_keys; i++)
			if (strlen(keys[i]) == klen && !memcmp(keys[i], k, klen)) {
				idx = i;
				break;
			}
		if (idx == n_keys) {
			char q[QUOTE_MAX];
			Buf b = BUF_NULL;
			for (size_t i = 0; i < n_keys; i++)
				buf_printf(&b, "%s%s", i ? ", " : "", keys[i]);
			r = fail(p, line, section[0] ? section : NULL, "unknown key %s; valid keys here are %s",
				 quote(q, k, klen), b.data ? buf_cstr(&b) : "?");
			buf_deinit(&b);
			return r;
		}
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", section, section[0] ? "." : "", keys[idx]);
		if (seen & (UINT64_C(1) << idx))
			return fail(p, line, path, "duplicate key (first on line %zu); keep only one", seen_line[idx]);
		seen |= UINT64_C(1) << idx;
		seen_line[idx] = line;
		p->key_line = line;
		r = next(p);
		if (r < 0)
			return r;
		r = handle(p, idx, path);
		if (r < 0)
			return r;
	}
}

enum {
	TLS_CERT_FILE,
	TLS_KEY_FILE,
	TLS_CERT,
	TLS_KEY,
	TLS_CLIENT_AUTH_TYPE,
	TLS_CLIENT_CA_FILE,
	TLS_CLIENT_CA,
	TLS_MIN_VERSION,
	TLS_MAX_VERSION,
	TLS_CIPHER_SUITES,
	TLS_CURVE_PREFERENCES,
	TLS_PREFER_SERVER,
	TLS_CLIENT_ALLOWED_SANS,
	_TLS_KEY_MAX,
};

static const char *const tls_keys[_TLS_KEY_MAX] = {
	[TLS_CERT_FILE] = "cert_file",
	[TLS_KEY_FILE] = "key_file",
	[TLS_CERT] = "cert",
	[TLS_KEY] = "key",
	[TLS_CLIENT_AUTH_TYPE] = "client_auth_type",
	[TLS_CLIENT_CA_FILE] = "client_ca_file",
	[TLS_CLIENT_CA] = "client_ca",
	[TLS_MIN_VERSION] = "min_version",
	[TLS_MAX_VERSION] = "max_version",
	[TLS_CIPHER_SUITES] = "cipher_suites",
	[TLS_CURVE_PREFERENCES] = "curve_preferences",
	[TLS_PREFER_SERVER] = "prefer_server_cipher_suites",
	[TLS_CLIENT_ALLOWED_SANS] = "client_allowed_sans",
};

static int handle_tls(Parser *p, size_t idx, const char *path)
{
	Raw *raw = &p->raw;
	bool b;
	int r;

	switch (idx) {
	case TLS_CERT_FILE:
		return read_opt_str(p, path, &raw->cert_file);
	case TLS_KEY_FILE:
		return read_opt_str(p, path, &raw->key_file);
	case TLS_CERT:
		return read_opt_str(p, path, &raw->cert);
	case TLS_KEY:
		return read_opt_str(p, path, &raw->key);
	case TLS_CLIENT_AUTH_TYPE:
		return read_opt_str(p, path, &raw->client_auth_type);
	case TLS_CLIENT_CA_FILE:
		return read_opt_str(p, path, &raw->client_ca_file);
	case TLS_CLIENT_CA:
		return read_opt_str(p, path, &raw->client_ca);
	case TLS_MIN_VERSION:
		return read_opt_str(p, path, &raw->min_version);
	case TLS_MAX_VERSION:
		return read_opt_str(p, path, &raw->max_version);
	case TLS_CIPHER_SUITES:
		return read_list(p, path, &raw->cipher_suites, &raw->n_cipher_suites);
	case TLS_CURVE_PREFERENCES:
		return read_list(p, path, &raw->curves, &raw->n_curves);
	case TLS_PREFER_SERVER:
		raw->prefer_server_line = ev_line(p);
		r = read_bool(p, path, &b);
		if (r >= 0)
			raw->prefer_server = b;
		return r;
	case TLS_CLIENT_ALLOWED_SANS:
		raw->have_allowed_sans = true;
		return read_list(p, path, &raw->allowed_sans, &raw->n_allowed_sans);
	}
	return -EINVAL;
}

enum { HTTP_HTTP2, HTTP_HEADERS, _HTTP_KEY_MAX };
static const char *const http_keys[_HTTP_KEY_MAX] = { [HTTP_HTTP2] = "http2", [HTTP_HEADERS] = "headers" };

static int handle_http(Parser *p, size_t idx, const char *path)
{
	switch (idx) {
	case HTTP_HTTP2:
		/* libmicrohttpd speaks HTTP/1.1 only; both values are honoured by not offering h2. */
		return read_bool(p, path, &p->raw.http2);
	case HTTP_HEADERS:
		return read_map(p, path, ELEMENTSOF(allowed_headers), &p->raw.headers, &p->raw.n_headers);
	}
	return -EINVAL;
}

enum { TOP_TLS, TOP_HTTP, TOP_USERS, TOP_RATE_LIMIT, _TOP_KEY_MAX };
static const char *const top_keys[_TOP_KEY_MAX] = {
	[TOP_TLS] = "tls_server_config",
	[TOP_HTTP] = "http_server_config",
	[TOP_USERS] = "basic_auth_users",
	[TOP_RATE_LIMIT] = "rate_limit",
};

static int handle_top(Parser *p, size_t idx, const char *path)
{
	switch (idx) {
	case TOP_TLS:
		p->raw.tls_line = p->key_line;
		return parse_mapping(p, path, tls_keys, _TLS_KEY_MAX, handle_tls);
	case TOP_HTTP:
		return parse_mapping(p, path, http_keys, _HTTP_KEY_MAX, handle_http);
	case TOP_USERS:
		return read_map(p, path, WEBCONFIG_USERS_MAX, &p->raw.users, &p->raw.n_users);
	case TOP_RATE_LIMIT:
		/* Recognised so the message can point at the right replacement. */
		return fail(p, ev_line(p), path,
			    "not supported by this exporter; remove it and limit clients with --web.max-connections-per-ip");
	}
	return -EINVAL;
}

static int parse_document(Parser *p)
{
	int r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_STREAM_START_EVENT)
		return fail(p, 0, NULL, "not a YAML stream");
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty file: plain HTTP, no auth, as exporter-toolkit */
	if (p->ev.type != YAML_DOCUMENT_START_EVENT)
		return fail(p, ev_line(p), NULL, "expected a YAML document");
	r = next(p);
	if (r < 0)
		return r;
	r = parse_mapping(p, "", top_keys, _TOP_KEY_MAX, handle_top);
	if (r < 0)
		return r;
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_DOCUMENT_END_EVENT)
		return fail(p, ev_line(p), NULL, "unexpected content after the configuration");
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return fail(p, ev_line(p), NULL, "more than one YAML document ('---'); keep a single document");
	return 0;
}

/* ---- files ---------------------------------------------------------- */

/* read_file - whole regular file, NUL-terminated, at most WEBCONFIG_FILE_MAX bytes. */
static int read_file(const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* A FIFO or device could block or never end; certificates are plain files. */
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	if (st.st_size > WEBCONFIG_FILE_MAX)
		return -EFBIG;
	_cleanup_free_ char *data = malloc(WEBCONFIG_FILE_MAX + 1);
	if (!data)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, data + len, WEBCONFIG_FILE_MAX + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > WEBCONFIG_FILE_MAX)
			return -EFBIG; /* grew while we read it */
	}
	data[len] = '\0';
	char *shrunk = realloc(data, len + 1);
	if (shrunk)
		data = shrunk;
	*ret = TAKE_PTR(data);
	if (ret_len)
		*ret_len = len;
	return 0;
}

static const char *file_strerror(int r)
{
	switch (r) {
	case -EBADFD:
		return "not a regular file";
	case -EFBIG:
		return "larger than 1 MiB";
	default:
		return strerror(-r);
	}
}

/* load_pem - from inline text or from a file relative to the config's directory. */
static int load_pem(Parser *p, const Val *file, const Val *inline_text, const char *file_key, const char *inline_key,
		    char **ret)
{
	if (file->s && inline_text->s)
		return fail(p, inline_text->line, inline_key, "%s and %s are mutually exclusive; keep one", file_key,
			    inline_key);
	if (inline_text->s) {
		*ret = strdup(inline_text->s);
		return *ret ? 0 : -ENOMEM;
	}
	_cleanup_free_ char *full = NULL;
	if (file->s[0] == '/' || !p->dir)
		full = strdup(file->s);
	else if (asprintf(&full, "%s/%s", p->dir, file->s) < 0)
		full = NULL;
	if (!full)
		return -ENOMEM;
	int r = read_file(full, ret, NULL);
	if (r < 0) {
		char q[QUOTE_MAX];
		int f = fail(p, file->line, file_key, "cannot read %s: %s; check the path (relative paths are relative to %s)",
			     quote(q, full, strlen(full)), file_strerror(r), p->dir ? p->dir : "the working directory");
		return r == -ENOMEM ? r : f;
	}
	return 0;
}

/* ---- TLS ------------------------------------------------------------ */

static int parse_version(Parser *p, const Val *v, const char *key, int def)
{
	if (!v->s)
		return def;
	for (int i = 0; i < _TLS_MAX; i++)
		if (!strcmp(v->s, version_names[i]))
			return i;
	char q[QUOTE_MAX];
	return fail(p, v->line, key, "unknown TLS version %s; use one of TLS10, TLS11, TLS12, TLS13",
		    quote(q, v->s, strlen(v->s)));
}

typedef struct Suite {
	uint16_t id;
	gnutls_kx_algorithm_t kx;
	gnutls_cipher_algorithm_t cipher;
	gnutls_mac_algorithm_t mac;
	gnutls_protocol_t min_version;
	const char *gnutls_name;
} Suite;

static bool gnutls_suite_by_index(size_t i, Suite *ret)
{
	unsigned char id[2];
	const char *name = gnutls_cipher_suite_info(i, id, &ret->kx, &ret->cipher, &ret->mac, &ret->min_version);
	if (!name)
		return false;
	ret->id = (uint16_t)(id[0] << 8 | id[1]);
	ret->gnutls_name = name;
	return true;
}

static bool gnutls_suite_by_id(uint16_t id, Suite *ret)
{
	Suite s;
	for (size_t i = 0; gnutls_suite_by_index(i, &s); i++)
		if (s.id == id) {
			*ret = s;
			return true;
		}
	return false;
}

static bool is_tls13(const Suite *s)
{
	return s->min_version == GNUTLS_TLS1_3;
}

/* version_index - our TLS1x index of a GnuTLS protocol; SSL3 counts as below TLS10. */
static int version_index(gnutls_protocol_t v)
{
	for (int i = 0; i < _TLS_MAX; i++)
		if (version_gnutls[i] == v)
			return i;
	return v == GNUTLS_SSL3 ? -1 : _TLS_MAX; /* DTLS and unknown: never usable here */
}

static const char *go_suite_name(uint16_t id)
{
	for (size_t i = 0; i < ELEMENTSOF(go_cipher_suites); i++)
		if (go_cipher_suites[i].id == id)
			return go_cipher_suites[i].name;
	return NULL;
}

typedef struct AlgoSet {
	int v[32];
	size_t n;
} AlgoSet;

static bool set_has(const AlgoSet *s, int v)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == v)
			return true;
	return false;
}

static void set_add(AlgoSet *s, int v)
{
	if (!set_has(s, v) && s->n < ELEMENTSOF(s->v))
		s->v[s->n++] = v;
}

/* Whether the certificate's key can serve one of the TLS <= 1.2 key exchanges. */
static bool kx_fits_key(const AlgoSet *kx, gnutls_pk_algorithm_t pk)
{
	switch (pk) {
	case GNUTLS_PK_RSA:
		return set_has(kx, GNUTLS_KX_RSA) || set_has(kx, GNUTLS_KX_ECDHE_RSA) || set_has(kx, GNUTLS_KX_DHE_RSA);
	case GNUTLS_PK_RSA_PSS:
		return set_has(kx, GNUTLS_KX_ECDHE_RSA) || set_has(kx, GNUTLS_KX_DHE_RSA);
	case GNUTLS_PK_ECDSA:
	case GNUTLS_PK_EDDSA_ED25519:
	case GNUTLS_PK_EDDSA_ED448:
		return set_has(kx, GNUTLS_KX_ECDHE_ECDSA);
	default:
		return true; /* let GnuTLS decide for key types we do not know */
	}
}

/*
 * build_priorities - GnuTLS priority string for the TLS section. Sets
 * *ret_kx to the key exchanges named by cipher_suites (empty if unset).
 */
static int build_priorities(Parser *p, int min, int max, char **ret, AlgoSet *ret_kx)
{
	const Raw *raw = &p->raw;
	Buf b = BUF_NULL;
	AlgoSet kx = { .n = 0 }, ciphers = { .n = 0 }, macs = { .n = 0 };
	uint16_t wanted[WEBCONFIG_LIST_MAX];
	size_t n_wanted = 0;
	int r = 0;

	/* NORMAL is GnuTLS's vetted default; we only narrow it. */
	buf_puts(&b, "NORMAL");
	if (raw->prefer_server != 0)
		buf_puts(&b, ":%SERVER_PRECEDENCE");
	buf_puts(&b, ":-VERS-ALL");
	for (int v = max; v >= min; v--)
		buf_printf(&b, ":+%s", version_tokens[v]);

	for (size_t i = 0; i < raw->n_cipher_suites; i++) {
		const Val *v = &raw->cipher_suites[i];
		char key[64], q[QUOTE_MAX];
		snprintf(key, sizeof(key), "tls_server_config.cipher_suites[%zu]", i);
		size_t g;
		for (g = 0; g < ELEMENTSOF(go_cipher_suites); g++)
			if (!strcmp(v->s, go_cipher_suites[g].name))
				break;
		if (g == ELEMENTSOF(go_cipher_suites)) {
			Buf names = BUF_NULL;
			for (size_t j = 0; j < ELEMENTSOF(go_cipher_suites); j++)
				buf_printf(&names, "%s%s", j ? ", " : "", go_cipher_suites[j].name);
			r = fail(p, v->line, key, "unknown cipher suite %s; use Go's names: %s", quote(q, v->s, strlen(v->s)),
				 names.data ? buf_cstr(&names) : "?");
			buf_deinit(&names);
			goto out;
		}
		Suite s;
		if (!gnutls_suite_by_id(go_cipher_suites[g].id, &s)) {
			r = fail(p, v->line, key, "%s is not available in this GnuTLS build; remove it", v->s);
			goto out;
		}
		if (is_tls13(&s) ? max < TLS13 : version_index(s.min_version) > max) {
			r = fail(p, v->line, key, "%s needs %s but max_version is %s; remove it or raise max_version", v->s,
				 gnutls_protocol_get_name(s.min_version), version_names[max]);
			goto out;
		}
		for (size_t j = 0; j < n_wanted; j++)
			if (wanted[j] == s.id) {
				r = fail(p, v->line, key, "%s is listed twice; keep one", v->s);
				goto out;
			}
		wanted[n_wanted++] = s.id;
		set_add(&ciphers, s.cipher);
		set_add(&macs, s.mac);
		if (!is_tls13(&s))
			set_add(&kx, s.kx);
	}

	if (n_wanted > 0) {
		size_t line = raw->cipher_suites[0].line;
		const char *key = "tls_server_config.cipher_suites";

		if (min <= TLS12 && kx.n == 0) {
			r = fail(p, line, key,
				 "lists only TLS 1.3 suites but min_version is %s; add TLS 1.2 suites or set min_version: TLS13",
				 version_names[min]);
			goto out;
		}
		/* Enumerate what GnuTLS will actually enable: kx x cipher x mac. */
		Suite s;
		bool tls13_ok = false;
		Buf extra = BUF_NULL;
		for (size_t i = 0; gnutls_suite_by_index(i, &s); i++) {
			if (!set_has(&ciphers, s.cipher) || !set_has(&macs, s.mac))
				continue;
			if (is_tls13(&s)) {
				tls13_ok = true;
				continue;
			}
			if (min > TLS12 || version_index(s.min_version) > max || !set_has(&kx, s.kx))
				continue;
			bool listed = false;
			for (size_t j = 0; j < n_wanted; j++)
				listed |= wanted[j] == s.id;
			if (!listed) {
				const char *go = go_suite_name(s.id);
				buf_printf(&extra, "%s%s%s", extra.len ? ", " : "", go ? "" : "GnuTLS ",
						 go ? go : s.gnutls_name);
			}
		}
		if (extra.len) {
			r = fail(p, line, key,
				 "GnuTLS selects suites by key exchange, cipher and MAC, so this list would also enable %s; "
				 "add these to the list, or remove the entries that bring in their cipher or MAC",
				 buf_cstr(&extra));
			buf_deinit(&extra);
			goto out;
		}
		if (max >= TLS13 && !tls13_ok) {
			r = fail(p, line, key,
				 "leaves TLS 1.3 without a cipher (GnuTLS shares the cipher list between TLS 1.2 and 1.3); "
				 "add an AES-GCM or CHACHA20 suite, or set max_version: TLS12");
			goto out;
		}
		buf_puts(&b, ":-CIPHER-ALL");
		for (size_t i = 0; i < ciphers.n; i++)
			buf_printf(&b, ":+%s", gnutls_cipher_get_name(ciphers.v[i]));
		buf_puts(&b, ":-MAC-ALL");
		for (size_t i = 0; i < macs.n; i++)
			buf_printf(&b, ":+%s", gnutls_mac_get_name(macs.v[i]));
		if (kx.n > 0) {
			buf_puts(&b, ":-KX-ALL");
			for (size_t i = 0; i < kx.n; i++)
				buf_printf(&b, ":+%s", gnutls_kx_get_name(kx.v[i]));
		}
	}

	if (raw->n_curves > 0) {
		buf_puts(&b, ":-GROUP-ALL");
		for (size_t i = 0; i < raw->n_curves; i++) {
			const Val *v = &raw->curves[i];
			size_t c;
			for (c = 0; c < ELEMENTSOF(go_curves); c++)
				if (!strcmp(v->s, go_curves[c].name))
					break;
			if (c == ELEMENTSOF(go_curves)) {
				char key[64], q[QUOTE_MAX];
				snprintf(key, sizeof(key), "tls_server_config.curve_preferences[%zu]", i);
				r = fail(p, v->line, key, "unknown curve %s; use CurveP256, CurveP384, CurveP521 or X25519",
					 quote(q, v->s, strlen(v->s)));
				goto out;
			}
			for (size_t j = 0; j < i; j++)
				if (!strcmp(raw->curves[j].s, v->s)) {
					char key[64];
					snprintf(key, sizeof(key), "tls_server_config.curve_preferences[%zu]", i);
					r = fail(p, v->line, key, "%s is listed twice; keep one", v->s);
					goto out;
				}
			buf_printf(&b, ":+%s", go_curves[c].token);
		}
	}

	if (!b.data) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = buf_error(&b)) < 0)
		goto out;
	/* GnuTLS is the judge: a token this build lacks fails here, not at the first handshake. */
	gnutls_priority_t prio;
	const char *err_pos = NULL;
	int g = gnutls_priority_init(&prio, buf_cstr(&b), &err_pos);
	if (g < 0) {
		char q[QUOTE_MAX];
		r = fail(p, p->raw.tls_line, "tls_server_config", "GnuTLS rejects the resulting priority string at %s: %s; "
			 "remove the setting that asks for it", err_pos ? quote(q, err_pos, strlen(err_pos)) : "?",
			 gnutls_strerror(g));
		goto out;
	}
	gnutls_priority_deinit(prio);
	*ret = buf_steal(&b, NULL);
	*ret_kx = kx;
	return 0;
out:
	buf_deinit(&b);
	return r < 0 ? r : -EINVAL;
}

/* check_certs - GnuTLS must accept the chain and key, and they must match. */
static int check_certs(Parser *p, WebConfig *c, const AlgoSet *kx, int min)
{
	const Raw *raw = &p->raw;
	const char *ck = raw->cert.s ? "tls_server_config.cert" : "tls_server_config.cert_file";
	size_t cl = raw->cert.s ? raw->cert.line : raw->cert_file.line;
	const char *kk = raw->key.s ? "tls_server_config.key" : "tls_server_config.key_file";
	size_t kl = raw->key.s ? raw->key.line : raw->key_file.line;
	gnutls_datum_t cd = { (unsigned char *)c->cert_pem, (unsigned)strlen(c->cert_pem) };
	gnutls_datum_t kd = { (unsigned char *)c->key_pem, (unsigned)strlen(c->key_pem) };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n_crts = 0;
	gnutls_x509_privkey_t key = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	int r = 0, g;

	g = gnutls_x509_crt_list_import2(&crts, &n_crts, &cd, GNUTLS_X509_FMT_PEM, 0);
	if (g < 0 || n_crts == 0) {
		r = fail(p, cl, ck, "no usable PEM certificate (%s); give the PEM certificate chain, leaf first",
			 g < 0 ? gnutls_strerror(g) : "none found");
		goto out;
	}
	gnutls_pk_algorithm_t pk = (gnutls_pk_algorithm_t)gnutls_x509_crt_get_pk_algorithm(crts[0], NULL);

	g = gnutls_x509_privkey_init(&key);
	if (g < 0) {
		r = -ENOMEM;
		goto out;
	}
	g = gnutls_x509_privkey_import2(key, &kd, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
	if (g < 0) {
		r = fail(p, kl, kk, "no usable PEM private key (%s); give an unencrypted PEM key", gnutls_strerror(g));
		goto out;
	}
	g = gnutls_certificate_allocate_credentials(&cred);
	if (g < 0) {
		r = -ENOMEM;
		goto out;
	}
	g = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		r = fail(p, kl, kk, "%s; the key must belong to the first certificate of %s",
			 g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "the key does not match the certificate" : gnutls_strerror(g),
			 ck + strlen("tls_server_config."));
		goto out;
	}
	if (min <= TLS12 && kx->n > 0 && !kx_fits_key(kx, pk)) {
		r = fail(p, raw->cipher_suites[0].line, "tls_server_config.cipher_suites",
			 "no listed TLS 1.2 suite can use the %s key of the certificate; add suites with a matching key "
			 "exchange (ECDHE_RSA for RSA keys, ECDHE_ECDSA for EC keys) or set min_version: TLS13",
			 gnutls_pk_get_name(pk));
		goto out;
	}

	if (c->client_ca_pem) {
		const char *ak = raw->client_ca.s ? "tls_server_config.client_ca" : "tls_server_config.client_ca_file";
		size_t al = raw->client_ca.s ? raw->client_ca.line : raw->client_ca_file.line;
		gnutls_datum_t ad = { (unsigned char *)c->client_ca_pem, (unsigned)strlen(c->client_ca_pem) };
		gnutls_x509_crt_t *cas = NULL;
		unsigned n_cas = 0;
		g = gnutls_x509_crt_list_import2(&cas, &n_cas, &ad, GNUTLS_X509_FMT_PEM, 0);
		for (unsigned i = 0; g >= 0 && i < n_cas; i++)
			gnutls_x509_crt_deinit(cas[i]);
		gnutls_free(cas);
		if (g < 0 || n_cas == 0) {
			r = fail(p, al, ak, "no usable PEM CA certificate (%s); give the PEM certificates of the client CAs",
				 g < 0 ? gnutls_strerror(g) : "none found");
			goto out;
		}
	}
out:
	for (unsigned i = 0; i < n_crts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (key)
		gnutls_x509_privkey_deinit(key);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	return r;
}

static int finish_tls(Parser *p, WebConfig *c)
{
	const Raw *raw = &p->raw;
	const char *section = "tls_server_config";
	int r;

	/* exporter-toolkit's TLSConfig.IsEnabled(). */
	c->tls = raw->cert_file.s || raw->cert.s || raw->key_file.s || raw->key.s || raw->client_ca_file.s ||
		 raw->client_ca.s || raw->client_auth_type.s;
	if (!c->tls) {
		/* exporter-toolkit would quietly serve plain HTTP here; an operator who set TLS knobs wants TLS. */
		const char *set = raw->min_version.s ? "min_version" : raw->max_version.s ? "max_version"
				: raw->n_cipher_suites ? "cipher_suites" : raw->n_curves ? "curve_preferences"
				: raw->prefer_server >= 0 ? "prefer_server_cipher_suites"
				: raw->have_allowed_sans ? "client_allowed_sans" : NULL;
		if (set)
			return fail(p, raw->tls_line, section,
				    "%s is set but there is no certificate, so the exporter would serve plain HTTP; "
				    "add cert_file and key_file, or remove tls_server_config", set);
		return 0;
	}
	if (!raw->cert_file.s && !raw->cert.s)
		return fail(p, raw->tls_line, section, "missing cert_file (or cert); add the server certificate");
	if (!raw->key_file.s && !raw->key.s)
		return fail(p, raw->tls_line, section, "missing key_file (or key); add the server private key");

	c->client_auth = WEB_CLIENT_AUTH_NONE;
	if (raw->client_auth_type.s) {
		size_t i;
		for (i = 0; i < ELEMENTSOF(client_auth_names); i++)
			if (!strcmp(raw->client_auth_type.s, client_auth_names[i].name))
				break;
		if (i == ELEMENTSOF(client_auth_names)) {
			char q[QUOTE_MAX];
			return fail(p, raw->client_auth_type.line, "tls_server_config.client_auth_type",
				    "unknown value %s; use NoClientCert, RequestClientCert, RequireAnyClientCert, "
				    "VerifyClientCertIfGiven or RequireAndVerifyClientCert",
				    quote(q, raw->client_auth_type.s, strlen(raw->client_auth_type.s)));
		}
		c->client_auth = client_auth_names[i].value;
	}
	bool have_ca = raw->client_ca_file.s || raw->client_ca.s;
	if (have_ca && c->client_auth == WEB_CLIENT_AUTH_NONE)
		return fail(p, raw->client_ca_file.s ? raw->client_ca_file.line : raw->client_ca.line,
			    "tls_server_config.client_auth_type",
			    "client CAs are configured without a client auth policy; set client_auth_type: "
			    "RequireAndVerifyClientCert or remove the client CA");
	if (!have_ca &&
	    (c->client_auth == WEB_CLIENT_AUTH_VERIFY_IF_GIVEN || c->client_auth == WEB_CLIENT_AUTH_REQUIRE_VERIFY))
		return fail(p, raw->client_auth_type.line, "tls_server_config.client_ca_file",
			    "%s needs the CA to verify client certificates against; add client_ca_file",
			    raw->client_auth_type.s);
	if (raw->have_allowed_sans)
		/* Matching SANs needs a hook in the handshake that the HTTP layer does not have. */
		return fail(p, raw->allowed_sans ? raw->allowed_sans[0].line : raw->tls_line,
			    "tls_server_config.client_allowed_sans",
			    "not supported by this exporter; remove it and issue client certificates from a dedicated "
			    "client_ca_file instead");

	int min = parse_version(p, &raw->min_version, "tls_server_config.min_version", TLS12);
	if (min < 0)
		return min;
	int max = parse_version(p, &raw->max_version, "tls_server_config.max_version", TLS13);
	if (max < 0)
		return max;
	if (min > max)
		return fail(p, raw->min_version.s ? raw->min_version.line : raw->max_version.line,
			    "tls_server_config.min_version", "%s is above max_version %s; lower min_version or raise max_version",
			    version_names[min], version_names[max]);

	AlgoSet kx = { .n = 0 };
	r = build_priorities(p, min, max, &c->priorities, &kx);
	if (r < 0)
		return r;

	r = load_pem(p, &raw->cert_file, &raw->cert, "tls_server_config.cert_file", "tls_server_config.cert",
		     &c->cert_pem);
	if (r < 0)
		return r;
	r = load_pem(p, &raw->key_file, &raw->key, "tls_server_config.key_file", "tls_server_config.key", &c->key_pem);
	if (r < 0)
		return r;
	if (have_ca) {
		r = load_pem(p, &raw->client_ca_file, &raw->client_ca, "tls_server_config.client_ca_file",
			     "tls_server_config.client_ca", &c->client_ca_pem);
		if (r < 0)
			return r;
	}
	return check_certs(p, c, &kx, min);
}

static int finish_headers(Parser *p, WebConfig *c)
{
	const Raw *raw = &p->raw;
	char q[QUOTE_MAX], q2[QUOTE_MAX];

	if (raw->n_headers == 0)
		return 0;
	c->headers = calloc(raw->n_headers, sizeof(WebHeader));
	if (!c->headers)
		return -ENOMEM;
	for (size_t i = 0; i < raw->n_headers; i++) {
		const Pair *h = &raw->headers[i];
		size_t a;
		for (a = 0; a < ELEMENTSOF(allowed_headers); a++)
			if (!strcmp(h->key.s, allowed_headers[a].name))
				break;
		if (a == ELEMENTSOF(allowed_headers))
			return fail(p, h->key.line, "http_server_config.headers",
				    "header %s can not be configured; allowed are Strict-Transport-Security, "
				    "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy",
				    quote(q, h->key.s, strlen(h->key.s)));
		const char *v = h->value.s ? h->value.s : "";
		for (const char *s = v; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return fail(p, h->value.line, "http_server_config.headers",
					    "the value of %s contains a control character; write it on one line",
					    h->key.s);
		if (allowed_headers[a].values[0]) {
			bool ok = false;
			for (size_t j = 0; allowed_headers[a].values[j]; j++)
				ok |= !strcmp(v, allowed_headers[a].values[j]);
			if (!ok)
				return fail(p, h->value.line, "http_server_config.headers",
					    "invalid value %s for %s; expected %s%s%s", quote(q2, v, strlen(v)), h->key.s,
					    allowed_headers[a].values[0], allowed_headers[a].values[1] ? " or " : "",
					    allowed_headers[a].values[1] ? allowed_headers[a].values[1] : "");
		}
		c->headers[i].name = strdup(allowed_headers[a].name);
		c->headers[i].value = strdup(v);
		c->n_headers = i + 1;
		if (!c->headers[i].name || !c->headers[i].value)
			return -ENOMEM;
	}
	return 0;
}

/* bcrypt_cost - cost of a well-formed $2a$/$2b$/$2y$ hash, or -EINVAL. */
static int bcrypt_cost(const char *h)
{
	static const char alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	if (strlen(h) != BCRYPT_HASH_LEN || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[2] == '\0' ||
	    h[3] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return -EINVAL;
	int cost = (h[4] - '0') * 10 + (h[5] - '0');
	if (cost < 4 || cost > 31)
		return -EINVAL;
	for (size_t i = 7; i < BCRYPT_HASH_LEN; i++)
		if (!strchr(alphabet, h[i]) || h[i] == '\0')
			return -EINVAL;
	return cost;
}

static int finish_users(Parser *p, WebConfig *c)
{
	const Raw *raw = &p->raw;
	unsigned cost_count[32] = { 0 };
	char q[QUOTE_MAX];

	if (raw->n_users == 0)
		return 0;
	c->users = calloc(raw->n_users, sizeof(WebUser));
	if (!c->users)
		return -ENOMEM;
	for (size_t i = 0; i < raw->n_users; i++) {
		const Pair *u = &raw->users[i];
		if (strchr(u->key.s, ':'))
			return fail(p, u->key.line, "basic_auth_users",
				    "user name %s contains ':', which HTTP basic auth cannot transmit; rename the user",
				    quote(q, u->key.s, strlen(u->key.s)));
		int cost = u->value.s ? bcrypt_cost(u->value.s) : -EINVAL;
		if (cost < 0)
			return fail(p, u->value.line ? u->value.line : u->key.line, "basic_auth_users",
				    "the password of user %s is not a bcrypt hash ($2y$, $2b$ or $2a$, cost 04-31, 60 "
				    "characters); create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'",
				    quote(q, u->key.s, strlen(u->key.s)));
		cost_count[cost]++;
		c->users[i].name = strdup(u->key.s);
		c->users[i].hash = strdup(u->value.s);
		c->n_users = i + 1;
		if (!c->users[i].name || !c->users[i].hash)
			return -ENOMEM;
	}
	/* The dummy hash uses the most common cost (ties: the higher one). */
	int best = 10;
	for (int i = 4; i < 32; i++)
		if (cost_count[i] && cost_count[i] >= cost_count[best])
			best = i;
	snprintf(c->dummy_hash, sizeof(c->dummy_hash), "$2y$%02u$%s", (unsigned)best % 32u, DUMMY_HASH_TAIL);
	return 0;
}

static void raw_free(Raw *raw)
{
	Val *vals[] = { &raw->cert_file, &raw->key_file, &raw->client_ca_file, &raw->cert, &raw->key,
			&raw->client_ca, &raw->client_auth_type, &raw->min_version, &raw->max_version };
	/* An inline private key is a secret: wipe it before it goes back to malloc. */
	if (raw->key.s)
		explicit_bzero(raw->key.s, strlen(raw->key.s));
	for (size_t i = 0; i < ELEMENTSOF(vals); i++)
		free(vals[i]->s);
	for (size_t i = 0; i < raw->n_cipher_suites; i++)
		free(raw->cipher_suites[i].s);
	free(raw->cipher_suites);
	for (size_t i = 0; i < raw->n_curves; i++)
		free(raw->curves[i].s);
	free(raw->curves);
	for (size_t i = 0; i < raw->n_allowed_sans; i++)
		free(raw->allowed_sans[i].s);
	free(raw->allowed_sans);
	for (size_t i = 0; i < raw->n_headers; i++) {
		free(raw->headers[i].key.s);
		free(raw->headers[i].value.s);
	}
	free(raw->headers);
	for (size_t i = 0; i < raw->n_users; i++) {
		free(raw->users[i].key.s);
		/* bcrypt hashes are not secret enough to leave lying around either */
		if (raw->users[i].value.s)
			explicit_bzero(raw->users[i].value.s, strlen(raw->users[i].value.s));
		free(raw->users[i].value.s);
	}
	free(raw->users);
}

static WebConfig *config_new(void)
{
	WebConfig *c = calloc(1, sizeof(WebConfig));
	if (!c)
		return NULL;
	if (pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	/* Per-config salt: a memory dump of the cache is no rainbow-table lookup. */
	if (gnutls_rnd(GNUTLS_RND_NONCE, c->cache_salt, sizeof(c->cache_salt)) < 0) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return NULL;
	}
	return c;
}

int webconfig_parse(const char *data, size_t len, const char *path, WebConfig **ret, char **ret_error)
{
	Parser p = { .file = path ? path : "web config", .raw = { .prefer_server = -1, .http2 = true } };
	WebConfig *c = NULL;
	int r;

	*ret_error = NULL;
	if (len > WEBCONFIG_FILE_MAX) {
		r = fail(&p, 0, NULL, "larger than 1 MiB; this is not a web configuration file");
		goto out;
	}
	if (path) {
		const char *slash = strrchr(path, '/');
		p.dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
		if (!p.dir) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!yaml_parser_initialize(&p.yaml)) {
		r = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&p.yaml, (const unsigned char *)(data ? data : ""), data ? len : 0);
	r = parse_document(&p);
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yaml);
	if (r < 0)
		goto out;

	c = config_new();
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	r = finish_tls(&p, c);
	if (r >= 0)
		r = finish_headers(&p, c);
	if (r >= 0)
		r = finish_users(&p, c);
	if (r < 0)
		goto out;
	*ret = TAKE_PTR(c);
	r = 0;
out:
	raw_free(&p.raw);
	free(p.dir);
	webconfig_free(c);
	if (r < 0) {
		if (!p.error)
			(void)asprintf(&p.error, "%s: %s", p.file, strerror(-r));
		*ret_error = p.error;
	}
	return r;
}

int webconfig_load(const char *path, WebConfig **ret, char **ret_error)
{
	*ret_error = NULL;
	if (!path) {
		*ret = config_new();
		return *ret ? 0 : -ENOMEM;
	}
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = read_file(path, &data, &len);
	if (r < 0) {
		if (asprintf(ret_error, "%s: cannot read the web configuration file: %s; check --web.config.file", path,
			     file_strerror(r)) < 0)
			*ret_error = NULL;
		return r;
	}
	return webconfig_parse(data, len, path, ret, ret_error);
}

WebConfig *webconfig_free(WebConfig *c)
{
	if (!c)
		return NULL;
	free(c->cert_pem);
	if (c->key_pem) {
		explicit_bzero(c->key_pem, strlen(c->key_pem));
		free(c->key_pem);
	}
	free(c->client_ca_pem);
	free(c->priorities);
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	for (size_t i = 0; i < c->n_headers; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->headers);
	explicit_bzero(c->cache, sizeof(c->cache));
	pthread_mutex_destroy(&c->lock);
	free(c);
	return NULL;
}

bool webconfig_tls_enabled(const WebConfig *c)
{
	return c && c->tls;
}

const char *webconfig_cert_pem(const WebConfig *c)
{
	return c ? c->cert_pem : NULL;
}

const char *webconfig_key_pem(const WebConfig *c)
{
	return c ? c->key_pem : NULL;
}

const char *webconfig_client_ca_pem(const WebConfig *c)
{
	return c ? c->client_ca_pem : NULL;
}

WebClientAuth webconfig_client_auth(const WebConfig *c)
{
	return c ? c->client_auth : WEB_CLIENT_AUTH_NONE;
}

const char *webconfig_tls_priorities(const WebConfig *c)
{
	return c ? c->priorities : NULL;
}

bool webconfig_auth_enabled(const WebConfig *c)
{
	return c && c->n_users > 0;
}

/* bcrypt_matches - run bcrypt once and compare the result in constant time. */
static bool bcrypt_matches(const char *hash, const char *password)
{
	/* struct crypt_data is ~32 KiB: too big for the stack of an HTTP worker thread. */
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	const char *out = crypt_rn(password, hash, cd, (int)sizeof(*cd));
	bool ok = out && strlen(out) == BCRYPT_HASH_LEN && strlen(hash) == BCRYPT_HASH_LEN &&
		  gnutls_memcmp(out, hash, BCRYPT_HASH_LEN) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static bool ct_streq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Length may leak; the content may not. */
	return la == lb && gnutls_memcmp(a, b, la) == 0;
}

bool webconfig_check_basic_auth(WebConfig *c, const char *user, const char *password)
{
	return webconfig_check_basic_auth_budget(c, user, password, true) == 1;
}

int webconfig_check_basic_auth_budget(WebConfig *c, const char *user, const char *password, bool may_bcrypt)
{
	if (!webconfig_auth_enabled(c))
		return 1;
	if (!user || !password)
		return 0;
	if (strlen(password) > WEBCONFIG_PASSWORD_MAX)
		return 0; /* bcrypt would silently compare only a prefix */

	/* Visit every user so the scan time does not depend on which one matched. */
	size_t found = c->n_users;
	for (size_t i = 0; i < c->n_users; i++)
		if (ct_streq(c->users[i].name, user))
			found = i;

	uint8_t digest[32];
	{
		size_t plen = strlen(password);
		uint8_t buf[sizeof(c->cache_salt) + WEBCONFIG_PASSWORD_MAX];
		memcpy(buf, c->cache_salt, sizeof(c->cache_salt));
		memcpy(buf + sizeof(c->cache_salt), password, plen);
		int g = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, sizeof(c->cache_salt) + plen, digest);
		explicit_bzero(buf, sizeof(buf));
		if (g < 0)
			return false;
	}

	if (found < c->n_users) {
		bool hit = false;
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < c->n_cache; i++)
			hit |= c->cache[i].user == found && gnutls_memcmp(c->cache[i].digest, digest, sizeof(digest)) == 0;
		if (hit)
			c->cache_hits++;
		pthread_mutex_unlock(&c->lock);
		if (hit) {
			explicit_bzero(digest, sizeof(digest));
			return 1;
		}
	}
	if (!may_bcrypt) {
		explicit_bzero(digest, sizeof(digest));
		return -EAGAIN;
	}

	/* Unknown users pay for one bcrypt too, so timing does not reveal who exists. */
	bool ok = bcrypt_matches(found < c->n_users ? c->users[found].hash : c->dummy_hash, password);
	ok = ok && found < c->n_users;

	pthread_mutex_lock(&c->lock);
	c->bcrypt_runs++;
	if (ok) {
		/* One slot per user: a new password for the same user replaces the old entry. */
		size_t slot = c->n_cache;
		for (size_t i = 0; i < c->n_cache; i++)
			if (c->cache[i].user == found)
				slot = i;
		if (slot == c->n_cache) {
			if (c->n_cache < WEBCONFIG_AUTH_CACHE_MAX)
				c->n_cache++;
			else {
				slot = c->cache_next;
				c->cache_next = (c->cache_next + 1) % WEBCONFIG_AUTH_CACHE_MAX;
			}
		}
		c->cache[slot].user = found;
		memcpy(c->cache[slot].digest, digest, sizeof(digest));
	}
	pthread_mutex_unlock(&c->lock);
	explicit_bzero(digest, sizeof(digest));
	return ok;
}

void webconfig_auth_stats(WebConfig *c, WebAuthStats *ret)
{
	*ret = (WebAuthStats){ 0 };
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	ret->bcrypt_runs = c->bcrypt_runs;
	ret->cache_hits = c->cache_hits;
	ret->cache_entries = c->n_cache;
	pthread_mutex_unlock(&c->lock);
}

size_t webconfig_n_headers(const WebConfig *c)
{
	return c ? c->n_headers : 0;
}

void webconfig_header(const WebConfig *c, size_t i, const char **ret_name, const char **ret_value)
{
	if (!c || i >= c->n_headers) {
		*ret_name = *ret_value = NULL;
		return;
	}
	*ret_name = c->headers[i].name;
	*ret_value = c->headers[i].value;
}

/*
 * test-webconfig.c - unit tests of webconfig.c: every accepted and rejected
 * key of the exporter-toolkit web configuration, the GnuTLS priority strings
 * we derive, and the basic-auth verifier (accept, refuse, unknown user,
 * cache and its bound).
 *
 * Certificates come from tests/web/data (a throw-away test CA; the keys
 * protect nothing). Config texts are parsed as if they lived in that
 * directory, so relative cert paths resolve there, as in exporter-toolkit.
 */
#include "../harness.h"

#include <crypt.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "webconfig.h"

#ifndef WEB_TEST_DATA
#error "WEB_TEST_DATA must name tests/web/data"
#endif

#define CFG WEB_TEST_DATA "/web.yml"
#define TLS_RSA "tls_server_config:\n  cert_file: rsa.pem\n  key_file: rsa.key\n"
#define TLS_EC "tls_server_config:\n  cert_file: ec.pem\n  key_file: ec.key\n"
#define PRIO_DEFAULT "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

/* htpasswd -nbBC 4 alice wonderland */
#define ALICE_HASH "$2y$04$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO"

static WebConfig *parse_ok(const char *yaml)
{
	WebConfig *c = NULL;
	char *err = NULL;
	int r = webconfig_parse(yaml, strlen(yaml), CFG, &c, &err);
	if (r < 0)
		fprintf(stderr, "%s: unexpected error %d: %s\n--- config:\n%s---\n", test_current, r, err ? err : "(none)",
			yaml);
	check(r == 0);
	check(err == NULL);
	require(c != NULL);
	return c;
}

/*
 * rejects - the config must fail with -EINVAL and a message that starts with
 * "FILE:LINE: KEY: " and contains the given hint of the fix.
 */
static void rejects_r(const char *yaml, int want_r, int line, const char *key, const char *hint)
{
	WebConfig *c = (WebConfig *)(uintptr_t)1; /* must stay untouched */
	char *err = NULL;
	int r = webconfig_parse(yaml, strlen(yaml), CFG, &c, &err);
	if (r != want_r)
		fprintf(stderr, "%s: got %d, want %d; message: %s\n--- config:\n%s---\n", test_current, r, want_r,
			err ? err : "(none)", yaml);
	check(r == want_r);
	check(c == (WebConfig *)(uintptr_t)1);
	require(err != NULL);
	char prefix[512];
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: %s%s", CFG, line, key ? key : "", key ? ": " : "");
	else
		snprintf(prefix, sizeof(prefix), "%s: %s%s", CFG, key ? key : "", key ? ": " : "");
	checkf(strncmp(err, prefix, strlen(prefix)) == 0, "message does not start with '%s'\n  got: %s", prefix, err);
	check_contains(err, hint);
	free(err);
}

static void rejects(const char *yaml, int line, const char *key, const char *hint)
{
	rejects_r(yaml, -EINVAL, line, key, hint);
}

static void test_empty_configs(void)
{
	static const char *const empties[] = { "", "---\n", "# only a comment\n", "~\n", "{}\n",
					       "tls_server_config:\nhttp_server_config:\nbasic_auth_users:\n" };
	for (size_t i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		WebConfig *c = parse_ok(empties[i]);
		check(!webconfig_tls_enabled(c));
		check(!webconfig_auth_enabled(c));
		check(webconfig_tls_priorities(c) == NULL);
		check(webconfig_cert_pem(c) == NULL);
		check(webconfig_n_headers(c) == 0);
		/* No users: everyone is let in. */
		check(webconfig_check_basic_auth(c, "x", "y"));
		webconfig_free(c);
	}

	WebConfig *c = NULL;
	char *err = NULL;
	require(webconfig_load(NULL, &c, &err) == 0 && c && !err);
	check(!webconfig_tls_enabled(c) && !webconfig_auth_enabled(c));
	webconfig_free(c);
	check(webconfig_parse(NULL, 0, NULL, &c, &err) == 0);
	webconfig_free(c);
	check(webconfig_free(NULL) == NULL);
}

static void test_tls_minimal(void)
{
	WebConfig *c = parse_ok(TLS_RSA);
	check(webconfig_tls_enabled(c));
	check_contains(webconfig_cert_pem(c), "-----BEGIN CERTIFICATE-----");
	check_contains(webconfig_key_pem(c), "PRIVATE KEY-----");
	check(webconfig_client_ca_pem(c) == NULL);
	check(webconfig_client_auth(c) == WEB_CLIENT_AUTH_NONE);
	check_str(webconfig_tls_priorities(c), PRIO_DEFAULT);
	webconfig_free(c);

	/* Absolute paths are used as they are. */
	c = parse_ok("tls_server_config:\n  cert_file: " WEB_TEST_DATA "/ec.pem\n  key_file: " WEB_TEST_DATA "/ec.key\n");
	check(webconfig_tls_enabled(c));
	webconfig_free(c);

	/* webconfig_load resolves relative paths against the file's own directory. */
	char *err = NULL;
	require(webconfig_load(WEB_TEST_DATA "/good.yml", &c, &err) == 0);
	check(webconfig_tls_enabled(c) && webconfig_auth_enabled(c));
	webconfig_free(c);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	require(f);
	static char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strdup(buf);
}

static void test_tls_inline(void)
{
	char *cert = slurp(WEB_TEST_DATA "/rsa.pem"), *key = slurp(WEB_TEST_DATA "/rsa.key");
	char *ca = slurp(WEB_TEST_DATA "/ca.pem");
	char yaml[16384];
	/* Literal block scalars, as exporter-toolkit's docs show for inline PEM. */
	size_t o = (size_t)snprintf(yaml, sizeof(yaml), "tls_server_config:\n  client_auth_type: RequireAndVerifyClientCert\n  cert: |\n");
	for (char *l = strtok(cert, "\n"); l; l = strtok(NULL, "\n"))
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "    %s\n", l);
	o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "  key: |\n");
	for (char *l = strtok(key, "\n"); l; l = strtok(NULL, "\n"))
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "    %s\n", l);
	o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "  client_ca: |\n");
	for (char *l = strtok(ca, "\n"); l; l = strtok(NULL, "\n"))
		o += (size_t)snprintf(yaml + o, sizeof(yaml) - o, "    %s\n", l);
	WebConfig *c = parse_ok(yaml);
	check(webconfig_tls_enabled(c));
	check_contains(webconfig_cert_pem(c), "-----END CERTIFICATE-----\n");
	check_contains(webconfig_client_ca_pem(c), "-----BEGIN CERTIFICATE-----");
	check(webconfig_client_auth(c) == WEB_CLIENT_AUTH_REQUIRE_VERIFY);
	webconfig_free(c);

	rejects(TLS_RSA "  cert: |\n    junk\n", 4, "tls_server_config.cert", "mutually exclusive");
	rejects(TLS_RSA "  key: |\n    junk\n", 4, "tls_server_config.key", "key_file and tls_server_config.key are mutually exclusive");
	rejects(TLS_RSA "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  client_ca: |\n    junk\n", 6,
		"tls_server_config.client_ca", "mutually exclusive");
	rejects(TLS_RSA "  client_auth_type: RequireAndVerifyClientCert\n  client_ca: |\n    not a certificate\n", 5,
		"tls_server_config.client_ca", "no usable PEM CA certificate");
	rejects("tls_server_config:\n  cert: |\n    not a certificate\n  key_file: rsa.key\n", 2, "tls_server_config.cert",
		"no usable PEM certificate");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  key: |\n    not a key\n", 3, "tls_server_config.key",
		"unencrypted PEM key");
	free(cert);
	free(key);
	free(ca);
}

static void test_client_auth(void)
{
	static const struct {
		const char *name;
		WebClientAuth want;
		bool ca;
	} cases[] = {
		{ "NoClientCert", WEB_CLIENT_AUTH_NONE, false },
		{ "RequestClientCert", WEB_CLIENT_AUTH_REQUEST, false },
		{ "RequestClientCert", WEB_CLIENT_AUTH_REQUEST, true },
		{ "RequireAnyClientCert", WEB_CLIENT_AUTH_REQUIRE_ANY, false },
		{ "RequireClientCert", WEB_CLIENT_AUTH_REQUIRE_ANY, false },
		{ "VerifyClientCertIfGiven", WEB_CLIENT_AUTH_VERIFY_IF_GIVEN, true },
		{ "RequireAndVerifyClientCert", WEB_CLIENT_AUTH_REQUIRE_VERIFY, true },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), TLS_RSA "  client_auth_type: %s\n%s", cases[i].name,
			 cases[i].ca ? "  client_ca_file: ca.pem\n" : "");
		WebConfig *c = parse_ok(yaml);
		check(webconfig_client_auth(c) == cases[i].want);
		check((webconfig_client_ca_pem(c) != NULL) == cases[i].ca);
		webconfig_free(c);
	}
	rejects(TLS_RSA "  client_auth_type: RequireAndVerify\n", 4, "tls_server_config.client_auth_type",
		"use NoClientCert, RequestClientCert");
	rejects(TLS_RSA "  client_ca_file: ca.pem\n", 4, "tls_server_config.client_auth_type",
		"without a client auth policy");
	rejects(TLS_RSA "  client_auth_type: NoClientCert\n  client_ca_file: ca.pem\n", 5,
		"tls_server_config.client_auth_type", "without a client auth policy");
	rejects(TLS_RSA "  client_auth_type: RequireAndVerifyClientCert\n", 4, "tls_server_config.client_ca_file",
		"add client_ca_file");
	rejects(TLS_RSA "  client_auth_type: VerifyClientCertIfGiven\n", 4, "tls_server_config.client_ca_file",
		"add client_ca_file");
	rejects(TLS_RSA "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: rsa.key\n", 5,
		"tls_server_config.client_ca_file", "no usable PEM CA certificate");
	rejects(TLS_RSA "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: missing-ca.pem\n", 5,
		"tls_server_config.client_ca_file", "missing-ca.pem");
	/* A client-auth setting alone turns TLS on, so the certificate is required. */
	rejects("tls_server_config:\n  client_auth_type: RequestClientCert\n", 1, "tls_server_config",
		"missing cert_file");
	rejects(TLS_RSA "  client_auth_type: RequireAnyClientCert\n  client_allowed_sans: [a.example]\n", 5,
		"tls_server_config.client_allowed_sans", "not supported");
}

static void test_cert_files(void)
{
	rejects("tls_server_config:\n  key_file: rsa.key\n", 1, "tls_server_config", "missing cert_file");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n", 1, "tls_server_config", "missing key_file");
	rejects("tls_server_config:\n  cert_file: nope.pem\n  key_file: rsa.key\n", 2, "tls_server_config.cert_file",
		"cannot read '" WEB_TEST_DATA "/nope.pem': No such file or directory; check the path (relative paths are "
		"relative to " WEB_TEST_DATA ")");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  key_file: nope.key\n", 3, "tls_server_config.key_file",
		"No such file");
	rejects("tls_server_config:\n  cert_file: .\n  key_file: rsa.key\n", 2, "tls_server_config.cert_file",
		"Is a directory");
	rejects("tls_server_config:\n  cert_file: /dev/null\n  key_file: rsa.key\n", 2, "tls_server_config.cert_file",
		"not a regular file");
	rejects("tls_server_config:\n  cert_file: rsa.key\n  key_file: rsa.key\n", 2, "tls_server_config.cert_file",
		"no usable PEM certificate");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  key_file: ec.key\n", 3, "tls_server_config.key_file",
		"the key does not match the certificate");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  key_file: rsa-encrypted.key\n", 3,
		"tls_server_config.key_file", "unencrypted PEM key");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  cert_file: rsa.pem\n  key_file: rsa.key\n", 3,
		"tls_server_config.cert_file", "duplicate key (first on line 2)");
	rejects("tls_server_config:\n  cert_file: [rsa.pem]\n  key_file: rsa.key\n", 2, "tls_server_config.cert_file",
		"expected a string, found a list");
	rejects("tls_server_config:\n  cert_file: \"rsa\\0.pem\"\n  key_file: rsa.key\n", 2,
		"tls_server_config.cert_file", "NUL byte");
}

static void test_versions(void)
{
	static const struct {
		const char *yaml;
		const char *prio;
	} cases[] = {
		{ "", PRIO_DEFAULT },
		{ "  min_version: TLS10\n", "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0" },
		{ "  min_version: TLS11\n", "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:+VERS-TLS1.1" },
		{ "  min_version: TLS12\n", PRIO_DEFAULT },
		{ "  min_version: TLS13\n", "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3" },
		{ "  max_version: TLS12\n", "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.2" },
		{ "  min_version: TLS10\n  max_version: TLS11\n", "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0" },
		{ "  max_version: TLS13\n", PRIO_DEFAULT },
		{ "  min_version: ~\n", PRIO_DEFAULT },
		{ "  prefer_server_cipher_suites: false\n", "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
		{ "  prefer_server_cipher_suites: true\n", PRIO_DEFAULT },
		{ "  prefer_server_cipher_suites: off\n  min_version: TLS13\n", "NORMAL:-VERS-ALL:+VERS-TLS1.3" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[512];
		snprintf(yaml, sizeof(yaml), TLS_RSA "%s", cases[i].yaml);
		WebConfig *c = parse_ok(yaml);
		check_str(webconfig_tls_priorities(c), cases[i].prio);
		webconfig_free(c);
	}
	rejects(TLS_RSA "  min_version: TLS14\n", 4, "tls_server_config.min_version",
		"unknown TLS version 'TLS14'; use one of TLS10, TLS11, TLS12, TLS13");
	rejects(TLS_RSA "  max_version: tls13\n", 4, "tls_server_config.max_version", "unknown TLS version");
	rejects(TLS_RSA "  max_version: 1.3\n", 4, "tls_server_config.max_version", "unknown TLS version");
	rejects(TLS_RSA "  min_version: TLS13\n  max_version: TLS12\n", 4, "tls_server_config.min_version",
		"TLS13 is above max_version TLS12");
	rejects(TLS_RSA "  max_version: TLS11\n", 4, "tls_server_config.min_version",
		"TLS12 is above max_version TLS11");
	rejects(TLS_RSA "  prefer_server_cipher_suites: \"true\"\n", 4, "tls_server_config.prefer_server_cipher_suites",
		"expected true or false");
	rejects(TLS_RSA "  prefer_server_cipher_suites: maybe\n", 4, "tls_server_config.prefer_server_cipher_suites",
		"invalid value 'maybe'");
	/* TLS settings without a certificate would silently mean plain HTTP. */
	rejects("tls_server_config:\n  min_version: TLS13\n", 1, "tls_server_config", "min_version is set but there is no certificate");
	rejects("tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", 1, "tls_server_config",
		"cipher_suites is set but there is no certificate");
}

static void test_cipher_suites(void)
{
	static const struct {
		const char *yaml;
		const char *prio;
	} cases[] = {
		/* The usual modern list: its key exchange x cipher x MAC product is exactly the list. */
		{ "  cipher_suites:\n"
		  "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
		  "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
		  "    - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\n"
		  "    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
		  "    - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
		  "    - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256\n",
		  PRIO_DEFAULT ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA" },
		{ "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n",
		  PRIO_DEFAULT ":-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-RSA" },
		{ "  max_version: TLS12\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA]\n",
		  "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:+AES-256-CBC:-MAC-ALL:+SHA1:-KX-ALL:+ECDHE-RSA" },
		{ "  max_version: TLS12\n  cipher_suites: [TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_RSA_WITH_AES_256_GCM_SHA384]\n",
		  "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:-MAC-ALL:+AEAD:-KX-ALL:+RSA" },
		/* TLS 1.3 names restrict the TLS 1.3 ciphers, and CBC + GCM do not cross-multiply. */
		{ "  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n",
		  PRIO_DEFAULT ":-CIPHER-ALL:+AES-128-GCM:+AES-128-CBC:-MAC-ALL:+AEAD:+SHA1:-KX-ALL:+ECDHE-RSA" },
		{ "  min_version: TLS13\n  cipher_suites: [TLS_CHACHA20_POLY1305_SHA256]\n",
		  "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305:-MAC-ALL:+AEAD" },
		{ "  cipher_suites: []\n", PRIO_DEFAULT },
		{ "  curve_preferences: [X25519, CurveP256]\n", PRIO_DEFAULT ":-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1" },
		{ "  curve_preferences:\n    - CurveP521\n    - CurveP384\n",
		  PRIO_DEFAULT ":-GROUP-ALL:+GROUP-SECP521R1:+GROUP-SECP384R1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[1024];
		snprintf(yaml, sizeof(yaml), TLS_RSA "%s", cases[i].yaml);
		WebConfig *c = parse_ok(yaml);
		check_str(webconfig_tls_priorities(c), cases[i].prio);
		webconfig_free(c);
	}

	/* An EC certificate with ECDSA suites. */
	WebConfig *c = parse_ok(TLS_EC "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n");
	check_str(webconfig_tls_priorities(c), PRIO_DEFAULT ":-CIPHER-ALL:+AES-128-GCM:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA");
	webconfig_free(c);

	rejects(TLS_RSA "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256]\n", 4,
		"tls_server_config.cipher_suites[1]", "unknown cipher suite 'ECDHE-RSA-AES128-GCM-SHA256'; use Go's names: ");
	/* Go lists RC4, 3DES and CBC-SHA256 as insecure; exporter-toolkit does not accept them. */
	rejects(TLS_RSA "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n", 4, "tls_server_config.cipher_suites[0]",
		"unknown cipher suite");
	rejects(TLS_RSA "  cipher_suites: [TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA]\n", 4,
		"tls_server_config.cipher_suites[0]", "unknown cipher suite");
	rejects(TLS_RSA "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n",
		4, "tls_server_config.cipher_suites[1]", "listed twice");
	rejects(TLS_RSA "  cipher_suites: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n", 4, "tls_server_config.cipher_suites",
		"expected a list");
	rejects(TLS_RSA "  cipher_suites:\n    - {a: b}\n", 5, "tls_server_config.cipher_suites[0]", "expected a string");
	/* Two kx x two ciphers: GnuTLS would enable the two mixed suites too. */
	rejects(TLS_RSA "  cipher_suites:\n    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n",
		5, "tls_server_config.cipher_suites",
		"would also enable TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	/* RSA AES-128-CBC-SHA1 and -SHA256 bring GnuTLS's RSA AES-256 ... no: cipher x MAC with SHA1 and AES256. */
	rejects(TLS_RSA "  max_version: TLS12\n  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n",
		5, "tls_server_config.cipher_suites", "TLS_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	rejects(TLS_RSA "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n", 4, "tls_server_config.cipher_suites",
		"lists only TLS 1.3 suites but min_version is TLS12");
	rejects(TLS_RSA "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA]\n", 4, "tls_server_config.cipher_suites",
		"leaves TLS 1.3 without a cipher");
	rejects(TLS_RSA "  min_version: TLS10\n  max_version: TLS11\n  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n", 6,
		"tls_server_config.cipher_suites[0]", "needs TLS1.2 but max_version is TLS11");
	rejects(TLS_RSA "  max_version: TLS12\n  cipher_suites: [TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n", 5,
		"tls_server_config.cipher_suites[0]", "needs TLS1.3 but max_version is TLS12");
	/* An RSA certificate cannot serve ECDSA-only suites. */
	rejects(TLS_RSA "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n", 4, "tls_server_config.cipher_suites",
		"no listed TLS 1.2 suite can use the RSA key");
	rejects(TLS_EC "  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]\n", 4, "tls_server_config.cipher_suites",
		"can use the EC/ECDSA key");

	rejects(TLS_RSA "  curve_preferences: [P256]\n", 4, "tls_server_config.curve_preferences[0]",
		"unknown curve 'P256'; use CurveP256, CurveP384, CurveP521 or X25519");
	rejects(TLS_RSA "  curve_preferences: [X25519MLKEM768]\n", 4, "tls_server_config.curve_preferences[0]",
		"unknown curve");
	rejects(TLS_RSA "  curve_preferences: [X25519, X25519]\n", 4, "tls_server_config.curve_preferences[1]",
		"listed twice");
	rejects(TLS_RSA "  curve_preferences: [\"\"]\n", 4, "tls_server_config.curve_preferences[0]", "empty list item");
}

static void test_http_server_config(void)
{
	WebConfig *c = parse_ok("http_server_config:\n"
				"  http2: false\n"
				"  headers:\n"
				"    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
				"    X-Content-Type-Options: nosniff\n"
				"    X-Frame-Options: sameorigin\n"
				"    X-XSS-Protection: 1; mode=block\n"
				"    Content-Security-Policy: default-src 'none'\n");
	const char *n, *v;
	check(webconfig_n_headers(c) == 5);
	webconfig_header(c, 0, &n, &v);
	check_str(n, "Strict-Transport-Security");
	check_str(v, "max-age=31536000; includeSubDomains");
	webconfig_header(c, 2, &n, &v);
	check_str(n, "X-Frame-Options");
	check_str(v, "sameorigin");
	webconfig_header(c, 4, &n, &v);
	check_str(n, "Content-Security-Policy");
	check_str(v, "default-src 'none'");
	webconfig_header(c, 5, &n, &v);
	check(n == NULL && v == NULL);
	check(!webconfig_tls_enabled(c));
	webconfig_free(c);

	static const char *const bools[] = { "true", "false", "yes", "no", "on", "off", "True", "FALSE", "y", "N" };
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		char yaml[128];
		snprintf(yaml, sizeof(yaml), "http_server_config:\n  http2: %s\n", bools[i]);
		webconfig_free(parse_ok(yaml));
	}
	webconfig_free(parse_ok("http_server_config:\n  headers: {X-Frame-Options: deny}\n"));

	rejects("http_server_config:\n  http2: 1\n", 2, "http_server_config.http2", "expected true or false");
	rejects("http_server_config:\n  http3: true\n", 2, "http_server_config", "unknown key 'http3'; valid keys here are http2, headers");
	rejects("http_server_config:\n  headers:\n    Server: secret\n", 3, "http_server_config.headers",
		"header 'Server' can not be configured; allowed are Strict-Transport-Security");
	rejects("http_server_config:\n  headers:\n    x-frame-options: deny\n", 3, "http_server_config.headers",
		"header 'x-frame-options' can not be configured");
	rejects("http_server_config:\n  headers:\n    X-Frame-Options: allow-from\n", 3, "http_server_config.headers",
		"invalid value 'allow-from' for X-Frame-Options; expected deny or sameorigin");
	rejects("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n", 3, "http_server_config.headers",
		"expected nosniff");
	rejects("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x\"\n", 3,
		"http_server_config.headers", "control character");
	rejects("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    X-Frame-Options: deny\n", 4,
		"http_server_config.headers", "duplicate entry 'X-Frame-Options' (first on line 3)");
	rejects("http_server_config:\n  headers: [X-Frame-Options]\n", 2, "http_server_config.headers",
		"expected a mapping");
	rejects("http_server_config: yes\n", 1, "http_server_config", "expected a mapping with the keys http2, headers");
}

static void test_users_parse(void)
{
	WebConfig *c = parse_ok("basic_auth_users:\n  alice: " ALICE_HASH "\n"
				"  bob: $2b$04$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO\n"
				"  carol: '$2a$31$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO'\n");
	check(webconfig_auth_enabled(c));
	check(!webconfig_tls_enabled(c));
	webconfig_free(c);

	rejects("basic_auth_users:\n  alice: wonderland\n", 2, "basic_auth_users",
		"the password of user 'alice' is not a bcrypt hash ($2y$, $2b$ or $2a$, cost 04-31, 60 characters); "
		"create one with: htpasswd -nBC 10 \"\" | tr -d ':\\n'");
	rejects("basic_auth_users:\n  alice: $1$abc$def\n", 2, "basic_auth_users", "not a bcrypt hash");
	rejects("basic_auth_users:\n  alice: $2x$04$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO\n", 2,
		"basic_auth_users", "not a bcrypt hash");
	rejects("basic_auth_users:\n  alice: $2y$03$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO\n", 2,
		"basic_auth_users", "cost 04-31");
	rejects("basic_auth_users:\n  alice: $2y$04$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTu\n", 2,
		"basic_auth_users", "60 characters");
	rejects("basic_auth_users:\n  alice: $2y$04$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXST!O\n", 2,
		"basic_auth_users", "not a bcrypt hash");
	rejects("basic_auth_users:\n  alice:\n", 2, "basic_auth_users", "not a bcrypt hash");
	rejects("basic_auth_users:\n  \"a:b\": " ALICE_HASH "\n", 2, "basic_auth_users",
		"user name 'a:b' contains ':'");
	rejects("basic_auth_users:\n  alice: " ALICE_HASH "\n  alice: " ALICE_HASH "\n", 3, "basic_auth_users",
		"duplicate entry 'alice' (first on line 2)");
	rejects("basic_auth_users:\n  - alice\n", 2, "basic_auth_users", "expected a mapping");
	rejects("basic_auth_users:\n  alice: [x]\n", 2, "basic_auth_users.'alice'", "expected a string");
	rejects("basic_auth_users:\n  ? [a]\n  : b\n", 2, "basic_auth_users", "expected a string");
}

static void test_structure(void)
{
	rejects("tls_server_config:\n  cert_file: rsa.pem\n  key_file: rsa.key\n  certfile: x\n", 4, "tls_server_config",
		"unknown key 'certfile'; valid keys here are cert_file, key_file, cert, key, client_auth_type, "
		"client_ca_file, client_ca, min_version, max_version, cipher_suites, curve_preferences, "
		"prefer_server_cipher_suites, client_allowed_sans");
	rejects("tls_config:\n  cert_file: rsa.pem\n", 1, NULL,
		"unknown key 'tls_config'; valid keys here are tls_server_config, http_server_config, basic_auth_users, rate_limit");
	rejects("tls_server_config: {}\ntls_server_config: {}\n", 2, "tls_server_config", "duplicate key (first on line 1)");
	rejects("rate_limit:\n  burst: 10\n  interval: 1s\n", 2, "rate_limit", "--web.max-connections-per-ip");
	rejects("- a\n- b\n", 1, NULL, "expected a mapping with the keys tls_server_config, http_server_config");
	rejects("just a string\n", 1, NULL, "expected a mapping");
	rejects("tls_server_config: [a]\n", 1, "tls_server_config", "expected a mapping");
	rejects("tls_server_config:\n  cert_file: rsa.pem\n key_file: x\n", 3, NULL, "YAML syntax error at column");
	rejects("tls_server_config:\n\tcert_file: rsa.pem\n", 2, NULL, "YAML syntax error");
	rejects("a: &x b\nc: *x\n", 1, NULL, "unknown key 'a'");
	rejects("basic_auth_users: &u\n  alice: " ALICE_HASH "\nhttp_server_config: *u\n", 3, "http_server_config",
		"YAML aliases (*name) are not supported");
	rejects("{}\n---\n{}\n", 2, NULL, "more than one YAML document");
	rejects("? [x]\n: y\n", 1, NULL, "expected a key name, found a list");
	rejects("\"\\x01\\xff'\": 1\n", 1, NULL, "unknown key '\\x01\\xc3\\xbf\\x27'");

	/* Size limit: the parser refuses before reading anything. */
	WebConfig *c = NULL;
	char *err = NULL;
	check(webconfig_parse("", 2 * 1024 * 1024, CFG, &c, &err) == -EINVAL);
	check_contains(err, "larger than 1 MiB");
	free(err);

	/* webconfig_load names the file when it cannot be read at all. */
	err = NULL;
	check(webconfig_load(WEB_TEST_DATA "/does-not-exist.yml", &c, &err) == -ENOENT);
	check_str(err, WEB_TEST_DATA "/does-not-exist.yml: cannot read the web configuration file: No such file "
			     "or directory; check --web.config.file");
	free(err);
	err = NULL;
	check(webconfig_load(WEB_TEST_DATA, &c, &err) == -EISDIR);
	free(err);
}

/* make_hash - a fresh bcrypt hash through libcrypt itself. */
static char *make_hash(const char *prefix, unsigned long cost, const char *password)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	check(crypt_gensalt_rn(prefix, cost, NULL, 0, setting, sizeof(setting)));
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	check(cd);
	const char *h = crypt_rn(password, setting, cd, sizeof(*cd));
	check(h && strlen(h) == 60);
	char *r = strdup(h);
	free(cd);
	return r;
}

static WebConfig *users_config(const char *const *names, char *const *hashes, size_t n)
{
	size_t cap = 64 + n * 100, o;
	char *yaml = malloc(cap);
	check(yaml);
	o = (size_t)snprintf(yaml, cap, "basic_auth_users:\n");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(yaml + o, cap - o, "  %s: '%s'\n", names[i], hashes[i]);
	WebConfig *c = parse_ok(yaml);
	free(yaml);
	return c;
}

static void test_auth(void)
{
	char *hashes[3] = { strdup(ALICE_HASH), make_hash("$2b$", 4, "can we fix it"), make_hash("$2a$", 4, "s3cr3t:with:colons") };
	const char *names[3] = { "alice", "bob", "carol" };
	WebConfig *c = users_config(names, hashes, 3);
	WebAuthStats st;

	check(webconfig_auth_enabled(c));
	check(webconfig_check_basic_auth(c, "alice", "wonderland"));
	check(webconfig_check_basic_auth(c, "bob", "can we fix it"));
	check(webconfig_check_basic_auth(c, "carol", "s3cr3t:with:colons"));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == 3 && st.cache_hits == 0 && st.cache_entries == 3);

	/* Cached: no further bcrypt. */
	for (int i = 0; i < 10; i++)
		check(webconfig_check_basic_auth(c, "alice", "wonderland"));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == 3 && st.cache_hits == 10 && st.cache_entries == 3);

	/* Wrong password for a cached user: not a cache hit, bcrypt runs, refused, cache unchanged. */
	check(!webconfig_check_basic_auth(c, "alice", "Wonderland"));
	check(!webconfig_check_basic_auth(c, "alice", ""));
	check(!webconfig_check_basic_auth(c, "bob", "wonderland")); /* another user's password */
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == 6 && st.cache_hits == 10 && st.cache_entries == 3);

	/* Unknown users are refused after a dummy bcrypt, even with a known user's password. */
	check(!webconfig_check_basic_auth(c, "mallory", "wonderland"));
	check(!webconfig_check_basic_auth(c, "Alice", "wonderland"));
	check(!webconfig_check_basic_auth(c, "", ""));
	check(!webconfig_check_basic_auth(c, "alice\n", "wonderland"));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == 10 && st.cache_entries == 3);

	/* Missing credentials and over-long passwords never reach bcrypt. */
	check(!webconfig_check_basic_auth(c, NULL, "wonderland"));
	check(!webconfig_check_basic_auth(c, "alice", NULL));
	char longpw[100];
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	check(!webconfig_check_basic_auth(c, "alice", longpw));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == 10);

	/* A reload builds a new config: its cache starts empty. */
	WebConfig *c2 = users_config(names, hashes, 3);
	check(webconfig_check_basic_auth(c2, "alice", "wonderland"));
	webconfig_auth_stats(c2, &st);
	check(st.bcrypt_runs == 1 && st.cache_hits == 0);
	webconfig_free(c2);

	webconfig_free(c);
	for (int i = 0; i < 3; i++)
		free(hashes[i]);
}

/* stderr_of - what parsing yaml logs (issue 15: slow bcrypt costs are warned about). */
static char *stderr_of(const char *yaml)
{
	char path[] = "/tmp/test-webconfig-XXXXXX";
	int fd = mkstemp(path);
	require(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	WebConfig *c = parse_ok(yaml);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	webconfig_free(c);
	char *out = calloc(1, 4096);
	require(out);
	(void)!pread(fd, out, 4095, 0);
	close(fd);
	return out;
}

static void test_auth_slow_cost_warned(void)
{
	/* cost 14: over a second of CPU per uncached check (the hash need not match) */
	char *log = stderr_of("basic_auth_users:\n  alice: '$2y$14$1vTlNNkySKPTqxHFjCoOuODXhI8QkcXs5nGMwrbDZtbk9TcjXSTuO'\n");
	check_contains(log, "bcrypt cost 14");
	check_contains(log, "over 50 ms");
	free(log);
	log = stderr_of("basic_auth_users:\n  alice: '" ALICE_HASH "'\n");
	checkf(!strstr(log, "bcrypt cost"), "cost 4 is not slow: %s", log);
	free(log);
}

static void test_auth_72_bytes(void)
{
	/* bcrypt reads 72 bytes; the 72-byte password works, one more byte is refused rather than truncated. */
	char pw[73];
	memset(pw, 'x', 72);
	pw[72] = '\0';
	char *h = make_hash("$2y$", 4, pw);
	const char *name = "dave";
	WebConfig *c = users_config(&name, &h, 1);
	check(webconfig_check_basic_auth(c, "dave", pw));
	char longer[74];
	memcpy(longer, pw, 72);
	longer[72] = 'y';
	longer[73] = '\0';
	check(!webconfig_check_basic_auth(c, "dave", longer));
	webconfig_free(c);
	free(h);
}

static void test_auth_cache_bound(void)
{
	enum { N = 100 };
	char *names[N], *hashes[N];
	for (int i = 0; i < N; i++) {
		char pw[32];
		snprintf(pw, sizeof(pw), "pw%d", i);
		require(asprintf(&names[i], "user%d", i) >= 0);
		hashes[i] = make_hash("$2y$", 4, pw);
	}
	WebConfig *c = users_config((const char *const *)names, hashes, N);
	WebAuthStats st;
	for (int i = 0; i < N; i++) {
		char pw[32];
		snprintf(pw, sizeof(pw), "pw%d", i);
		check(webconfig_check_basic_auth(c, names[i], pw));
	}
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == N);
	check(st.cache_entries == 64); /* WEBCONFIG_AUTH_CACHE_MAX */
	/* The newest 64 are cached, the oldest were evicted round-robin. */
	check(webconfig_check_basic_auth(c, names[N - 1], "pw99"));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == N && st.cache_hits == 1);
	check(webconfig_check_basic_auth(c, names[0], "pw0"));
	webconfig_auth_stats(c, &st);
	check(st.bcrypt_runs == N + 1 && st.cache_entries == 64);
	webconfig_free(c);
	for (int i = 0; i < N; i++) {
		free(names[i]);
		free(hashes[i]);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* median_pair - median time of a wrong password and of an unknown user, measured interleaved
 * so that a burst of load on the machine hits both alike. */
static void median_pair(WebConfig *c, const char *user, double *ret_known, double *ret_unknown)
{
	double k[7], u[7];
	for (int i = 0; i < 7; i++) {
		double t0 = now();
		check(!webconfig_check_basic_auth(c, user, "wrong"));
		double t1 = now();
		check(!webconfig_check_basic_auth(c, "nobody", "wrong"));
		k[i] = t1 - t0;
		u[i] = now() - t1;
	}
	qsort(k, 7, sizeof(k[0]), cmp_double);
	qsort(u, 7, sizeof(u[0]), cmp_double);
	*ret_known = k[3];
	*ret_unknown = u[3];
}

static void test_auth_timing(void)
{
	/* Cost 8 (~15 ms) makes bcrypt dominate; the dummy hash takes the users' cost. */
	char *h = make_hash("$2y$", 8, "right");
	const char *name = "erin";
	WebConfig *c = users_config(&name, &h, 1);
	double known, unknown;
	median_pair(c, "erin", &known, &unknown);
	printf("# wrong password %.1f ms, unknown user %.1f ms\n", known * 1e3, unknown * 1e3);
	check(known > 0.002);
	check(unknown > known / 3 && unknown < known * 3);
	webconfig_free(c);
	free(h);
}

int main(void)
{
	test_run(test_empty_configs);
	test_run(test_tls_minimal);
	test_run(test_tls_inline);
	test_run(test_client_auth);
	test_run(test_cert_files);
	test_run(test_versions);
	test_run(test_cipher_suites);
	test_run(test_http_server_config);
	test_run(test_users_parse);
	test_run(test_structure);
	test_run(test_auth);
	test_run(test_auth_72_bytes);
	test_run(test_auth_slow_cost_warned);
	test_run(test_auth_cache_bound);
	test_run(test_auth_timing);
	return test_exit();
}

/*
 * webconfig_tls.c - tls_server_config: GnuTLS priorities and certificates
 *
 * DESCRIPTION
 *      Turns the tls_server_config part of a Raw into a WebTls: the client
 *      auth policy, the GnuTLS priority string, and the PEM texts, checked
 *      with GnuTLS here so that a config that loads is one libmicrohttpd
 *      can start with.
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
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "webconfig_int.h"

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

static int parse_version(WebLoad *l, const Val *v, const char *key, int def)
{
	if (!v->s)
		return def;
	for (int i = 0; i < _TLS_MAX; i++)
		if (!strcmp(v->s, version_names[i]))
			return i;
	char q[QUOTE_MAX];
	return webconfig_fail(l, v->line, key, "unknown TLS version %s; use one of TLS10, TLS11, TLS12, TLS13",
			      webconfig_quote(q, v->s, strlen(v->s)));
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

/* Suites - what cipher_suites asks for, as GnuTLS sees it. */
typedef struct Suites {
	uint16_t wanted[WEBCONFIG_LIST_MAX]; /* IANA ids, as listed */
	size_t n_wanted;
	AlgoSet kx, ciphers, macs; /* kx: TLS <= 1.2 suites only */
} Suites;

static int cipher_suite_error(WebLoad *l, const Val *v, const char *key)
{
	char q[QUOTE_MAX];
	Buf names = BUF_NULL;
	for (size_t j = 0; j < ELEMENTSOF(go_cipher_suites); j++)
		buf_printf(&names, "%s%s", j ? ", " : "", go_cipher_suites[j].name);
	_cleanup_free_ char *list = buf_steal(&names, NULL);
	return webconfig_fail(l, v->line, key, "unknown cipher suite %s; use Go's names: %s",
			      webconfig_quote(q, v->s, strlen(v->s)), list ? list : "?");
}

/* read_suites - look up every listed suite in GnuTLS's table. */
static int read_suites(WebLoad *l, int max, Suites *ret)
{
	const ValList *list = &l->raw.cipher_suites;

	for (size_t i = 0; i < list->n; i++) {
		const Val *v = &list->v[i];
		char key[64];
		snprintf(key, sizeof(key), "tls_server_config.cipher_suites[%zu]", i);
		size_t g;
		for (g = 0; g < ELEMENTSOF(go_cipher_suites); g++)
			if (!strcmp(v->s, go_cipher_suites[g].name))
				break;
		if (g == ELEMENTSOF(go_cipher_suites))
			return cipher_suite_error(l, v, key);
		Suite s;
		if (!gnutls_suite_by_id(go_cipher_suites[g].id, &s))
			return webconfig_fail(l, v->line, key, "%s is not available in this GnuTLS build; remove it",
					      v->s);
		if (is_tls13(&s) ? max < TLS13 : version_index(s.min_version) > max)
			return webconfig_fail(l, v->line, key,
					      "%s needs %s but max_version is %s; remove it or raise max_version", v->s,
					      gnutls_protocol_get_name(s.min_version), version_names[max]);
		for (size_t j = 0; j < ret->n_wanted; j++)
			if (ret->wanted[j] == s.id)
				return webconfig_fail(l, v->line, key, "%s is listed twice; keep one", v->s);
		ret->wanted[ret->n_wanted++] = s.id;
		set_add(&ret->ciphers, s.cipher);
		set_add(&ret->macs, s.mac);
		if (!is_tls13(&s))
			set_add(&ret->kx, s.kx);
	}
	return 0;
}

/*
 * check_product - GnuTLS enables kx x cipher x mac: refuse a list that would
 * enable suites it does not name, or leave TLS 1.3 without a cipher.
 */
static int check_product(WebLoad *l, int min, int max, const Suites *su)
{
	size_t line = l->raw.cipher_suites.v[0].line;
	const char *key = "tls_server_config.cipher_suites";

	if (min <= TLS12 && su->kx.n == 0)
		return webconfig_fail(l, line, key,
				      "lists only TLS 1.3 suites but min_version is %s; add TLS 1.2 suites or set "
				      "min_version: TLS13",
				      version_names[min]);
	Suite s;
	bool tls13_ok = false;
	Buf extra = BUF_NULL;
	for (size_t i = 0; gnutls_suite_by_index(i, &s); i++) {
		if (!set_has(&su->ciphers, s.cipher) || !set_has(&su->macs, s.mac))
			continue;
		if (is_tls13(&s)) {
			tls13_ok = true;
			continue;
		}
		if (min > TLS12 || version_index(s.min_version) > max || !set_has(&su->kx, s.kx))
			continue;
		bool listed = false;
		for (size_t j = 0; j < su->n_wanted; j++)
			listed |= su->wanted[j] == s.id;
		if (!listed) {
			const char *go = go_suite_name(s.id);
			buf_printf(&extra, "%s%s%s", extra.len ? ", " : "", go ? "" : "GnuTLS ",
				   go ? go : s.gnutls_name);
		}
	}
	if (buf_error(&extra) < 0) {
		buf_deinit(&extra);
		return -ENOMEM;
	}
	if (extra.len) {
		int r = webconfig_fail(l, line, key,
				       "GnuTLS selects suites by key exchange, cipher and MAC, so this list would also "
				       "enable %s; add these to the list, or remove the entries that bring in their cipher "
				       "or MAC",
				       buf_cstr(&extra));
		buf_deinit(&extra);
		return r;
	}
	if (max >= TLS13 && !tls13_ok)
		return webconfig_fail(l, line, key,
				      "leaves TLS 1.3 without a cipher (GnuTLS shares the cipher list between TLS 1.2 "
				      "and 1.3); add an AES-GCM or CHACHA20 suite, or set max_version: TLS12");
	return 0;
}

/* put_curves - ":-GROUP-ALL:+GROUP-..." for curve_preferences, in their order. */
static int put_curves(WebLoad *l, Buf *b)
{
	const ValList *curves = &l->raw.curves;

	if (curves->n == 0)
		return 0;
	buf_puts(b, ":-GROUP-ALL");
	for (size_t i = 0; i < curves->n; i++) {
		const Val *v = &curves->v[i];
		char key[64], q[QUOTE_MAX];
		snprintf(key, sizeof(key), "tls_server_config.curve_preferences[%zu]", i);
		size_t c;
		for (c = 0; c < ELEMENTSOF(go_curves); c++)
			if (!strcmp(v->s, go_curves[c].name))
				break;
		if (c == ELEMENTSOF(go_curves))
			return webconfig_fail(l, v->line, key,
					      "unknown curve %s; use CurveP256, CurveP384, CurveP521 or X25519",
					      webconfig_quote(q, v->s, strlen(v->s)));
		for (size_t j = 0; j < i; j++)
			if (!strcmp(curves->v[j].s, v->s))
				return webconfig_fail(l, v->line, key, "%s is listed twice; keep one", v->s);
		buf_printf(b, ":+%s", go_curves[c].token);
	}
	return 0;
}

static void put_algos(Buf *b, const char *all, const AlgoSet *set, const char *(*name)(int))
{
	buf_printf(b, ":-%s", all);
	for (size_t i = 0; i < set->n; i++)
		buf_printf(b, ":+%s", name(set->v[i]));
}

/* The GnuTLS name getters take their own enum types; AlgoSet holds ints. */
static const char *cipher_name(int v)
{
	return gnutls_cipher_get_name((gnutls_cipher_algorithm_t)v);
}

static const char *mac_name(int v)
{
	return gnutls_mac_get_name((gnutls_mac_algorithm_t)v);
}

static const char *kx_name(int v)
{
	return gnutls_kx_get_name((gnutls_kx_algorithm_t)v);
}

/*
 * build_priorities - GnuTLS priority string for the TLS section. Sets
 * *ret_kx to the key exchanges named by cipher_suites (empty if unset).
 */
static int build_priorities(WebLoad *l, int min, int max, char **ret, AlgoSet *ret_kx)
{
	Buf b = BUF_NULL;
	Suites su = { .n_wanted = 0 };
	int r;

	r = read_suites(l, max, &su);
	if (r >= 0 && su.n_wanted > 0)
		r = check_product(l, min, max, &su);
	if (r < 0)
		return r;

	/* NORMAL is GnuTLS's vetted default; we only narrow it. */
	buf_puts(&b, "NORMAL");
	if (!l->raw.prefer_server.set || l->raw.prefer_server.value)
		buf_puts(&b, ":%SERVER_PRECEDENCE");
	buf_puts(&b, ":-VERS-ALL");
	for (int v = max; v >= min; v--)
		buf_printf(&b, ":+%s", version_tokens[v]);
	if (su.n_wanted > 0) {
		put_algos(&b, "CIPHER-ALL", &su.ciphers, cipher_name);
		put_algos(&b, "MAC-ALL", &su.macs, mac_name);
		if (su.kx.n > 0)
			put_algos(&b, "KX-ALL", &su.kx, kx_name);
	}
	r = put_curves(l, &b);
	if (r >= 0)
		r = buf_error(&b);
	if (r < 0)
		goto out;
	/* GnuTLS is the judge: a token this build lacks fails here, not at the first handshake. */
	gnutls_priority_t prio;
	const char *err_pos = NULL;
	int g = gnutls_priority_init(&prio, buf_cstr(&b), &err_pos);
	if (g < 0) {
		char q[QUOTE_MAX];
		r = webconfig_fail(l, l->raw.tls_line, "tls_server_config",
				   "GnuTLS rejects the resulting priority string at %s: %s; remove the setting that asks "
				   "for it",
				   err_pos ? webconfig_quote(q, err_pos, strlen(err_pos)) : "?", gnutls_strerror(g));
		goto out;
	}
	gnutls_priority_deinit(prio);
	*ret = buf_steal(&b, NULL);
	*ret_kx = su.kx;
	return 0;
out:
	buf_deinit(&b);
	return r;
}

/* check_certs - GnuTLS must accept the chain and key, and they must match. */
static int check_certs(WebLoad *l, const WebTls *t, const AlgoSet *kx, int min)
{
	const Raw *raw = &l->raw;
	const char *ck = raw->cert.s ? "tls_server_config.cert" : "tls_server_config.cert_file";
	size_t cl = raw->cert.s ? raw->cert.line : raw->cert_file.line;
	const char *kk = raw->key.s ? "tls_server_config.key" : "tls_server_config.key_file";
	size_t kl = raw->key.s ? raw->key.line : raw->key_file.line;
	gnutls_datum_t cd = { (unsigned char *)t->cert_pem, (unsigned)strlen(t->cert_pem) };
	gnutls_datum_t kd = { (unsigned char *)t->key_pem, (unsigned)strlen(t->key_pem) };
	gnutls_x509_crt_t *crts = NULL;
	unsigned n_crts = 0;
	gnutls_x509_privkey_t key = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	int r = 0, g;

	g = gnutls_x509_crt_list_import2(&crts, &n_crts, &cd, GNUTLS_X509_FMT_PEM, 0);
	if (g < 0 || n_crts == 0) {
		r = webconfig_fail(l, cl, ck,
				   "no usable PEM certificate (%s); give the PEM certificate chain, leaf first",
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
		r = webconfig_fail(l, kl, kk, "no usable PEM private key (%s); give an unencrypted PEM key",
				   gnutls_strerror(g));
		goto out;
	}
	g = gnutls_certificate_allocate_credentials(&cred);
	if (g < 0) {
		r = -ENOMEM;
		goto out;
	}
	g = gnutls_certificate_set_x509_key_mem(cred, &cd, &kd, GNUTLS_X509_FMT_PEM);
	if (g < 0) {
		r = webconfig_fail(l, kl, kk, "%s; the key must belong to the first certificate of %s",
				   g == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ? "the key does not match the certificate"
									  : gnutls_strerror(g),
				   ck + strlen("tls_server_config."));
		goto out;
	}
	if (min <= TLS12 && kx->n > 0 && !kx_fits_key(kx, pk)) {
		r = webconfig_fail(l, raw->cipher_suites.v[0].line, "tls_server_config.cipher_suites",
				   "no listed TLS 1.2 suite can use the %s key of the certificate; add suites with a matching key "
				   "exchange (ECDHE_RSA for RSA keys, ECDHE_ECDSA for EC keys) or set min_version: TLS13",
				   gnutls_pk_get_name(pk));
		goto out;
	}

	if (t->client_ca_pem) {
		const char *ak = raw->client_ca.s ? "tls_server_config.client_ca" : "tls_server_config.client_ca_file";
		size_t al = raw->client_ca.s ? raw->client_ca.line : raw->client_ca_file.line;
		gnutls_datum_t ad = { (unsigned char *)t->client_ca_pem, (unsigned)strlen(t->client_ca_pem) };
		gnutls_x509_crt_t *cas = NULL;
		unsigned n_cas = 0;
		g = gnutls_x509_crt_list_import2(&cas, &n_cas, &ad, GNUTLS_X509_FMT_PEM, 0);
		for (unsigned i = 0; g >= 0 && i < n_cas; i++)
			gnutls_x509_crt_deinit(cas[i]);
		gnutls_free(cas);
		if (g < 0 || n_cas == 0) {
			r = webconfig_fail(l, al, ak,
					   "no usable PEM CA certificate (%s); give the PEM certificates of the client CAs",
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

/* read_client_auth - client_auth_type, and whether the client CA settings fit it. */
static int read_client_auth(WebLoad *l, WebTls *t)
{
	const Raw *raw = &l->raw;
	bool have_ca = raw->client_ca_file.s || raw->client_ca.s;

	t->client_auth = WEB_CLIENT_AUTH_NONE;
	if (raw->client_auth_type.s) {
		size_t i;
		for (i = 0; i < ELEMENTSOF(client_auth_names); i++)
			if (!strcmp(raw->client_auth_type.s, client_auth_names[i].name))
				break;
		if (i == ELEMENTSOF(client_auth_names)) {
			char q[QUOTE_MAX];
			return webconfig_fail(l, raw->client_auth_type.line, "tls_server_config.client_auth_type",
					      "unknown value %s; use NoClientCert, RequestClientCert, RequireAnyClientCert, "
					      "VerifyClientCertIfGiven or RequireAndVerifyClientCert",
					      webconfig_quote(q, raw->client_auth_type.s,
							      strlen(raw->client_auth_type.s)));
		}
		t->client_auth = client_auth_names[i].value;
	}
	if (have_ca && t->client_auth == WEB_CLIENT_AUTH_NONE)
		return webconfig_fail(l, raw->client_ca_file.s ? raw->client_ca_file.line : raw->client_ca.line,
				      "tls_server_config.client_auth_type",
				      "client CAs are configured without a client auth policy; set client_auth_type: "
				      "RequireAndVerifyClientCert or remove the client CA");
	if (!have_ca &&
	    (t->client_auth == WEB_CLIENT_AUTH_VERIFY_IF_GIVEN || t->client_auth == WEB_CLIENT_AUTH_REQUIRE_VERIFY))
		return webconfig_fail(l, raw->client_auth_type.line, "tls_server_config.client_ca_file",
				      "%s needs the CA to verify client certificates against; add client_ca_file",
				      raw->client_auth_type.s);
	if (raw->allowed_sans.present)
		/* Matching SANs needs a hook in the handshake that the HTTP layer does not have. */
		return webconfig_fail(l, raw->allowed_sans.n ? raw->allowed_sans.v[0].line : raw->tls_line,
				      "tls_server_config.client_allowed_sans",
				      "not supported by this exporter; remove it and issue client certificates from a dedicated "
				      "client_ca_file instead");
	return 0;
}

int webconfig_tls_build(WebLoad *l, WebTls *t)
{
	const Raw *raw = &l->raw;
	const char *section = "tls_server_config";
	int r;

	/* exporter-toolkit's TLSConfig.IsEnabled(). */
	t->enabled = raw->cert_file.s || raw->cert.s || raw->key_file.s || raw->key.s || raw->client_ca_file.s ||
		     raw->client_ca.s || raw->client_auth_type.s;
	if (!t->enabled) {
		/* exporter-toolkit would quietly serve plain HTTP here; an operator who set TLS knobs wants TLS. */
		const char *set = raw->min_version.s ? "min_version" : raw->max_version.s ? "max_version"
				: raw->cipher_suites.n ? "cipher_suites" : raw->curves.n ? "curve_preferences"
				: raw->prefer_server.set ? "prefer_server_cipher_suites"
				: raw->allowed_sans.present ? "client_allowed_sans" : NULL;
		if (set)
			return webconfig_fail(l, raw->tls_line, section,
					      "%s is set but there is no certificate, so the exporter would serve plain HTTP; "
					      "add cert_file and key_file, or remove tls_server_config", set);
		return 0;
	}
	if (!raw->cert_file.s && !raw->cert.s)
		return webconfig_fail(l, raw->tls_line, section,
				      "missing cert_file (or cert); add the server certificate");
	if (!raw->key_file.s && !raw->key.s)
		return webconfig_fail(l, raw->tls_line, section,
				      "missing key_file (or key); add the server private key");

	r = read_client_auth(l, t);
	if (r < 0)
		return r;
	bool have_ca = raw->client_ca_file.s || raw->client_ca.s;

	int min = parse_version(l, &raw->min_version, "tls_server_config.min_version", TLS12);
	if (min < 0)
		return min;
	int max = parse_version(l, &raw->max_version, "tls_server_config.max_version", TLS13);
	if (max < 0)
		return max;
	if (min > max)
		return webconfig_fail(l, raw->min_version.s ? raw->min_version.line : raw->max_version.line,
				      "tls_server_config.min_version",
				      "%s is above max_version %s; lower min_version or raise max_version",
				      version_names[min], version_names[max]);

	AlgoSet kx = { .n = 0 };
	r = build_priorities(l, min, max, &t->priorities, &kx);
	if (r < 0)
		return r;

	r = webconfig_load_pem(l, &raw->cert_file, &raw->cert, "tls_server_config.cert_file", "tls_server_config.cert",
			       &t->cert_pem);
	if (r < 0)
		return r;
	r = webconfig_load_pem(l, &raw->key_file, &raw->key, "tls_server_config.key_file", "tls_server_config.key",
			       &t->key_pem);
	if (r < 0)
		return r;
	if (have_ca) {
		r = webconfig_load_pem(l, &raw->client_ca_file, &raw->client_ca, "tls_server_config.client_ca_file",
				       "tls_server_config.client_ca", &t->client_ca_pem);
		if (r < 0)
			return r;
	}
	return check_certs(l, t, &kx, min);
}

void webconfig_tls_clear(WebTls *t)
{
	free(t->cert_pem);
	if (t->key_pem) {
		explicit_bzero(t->key_pem, strlen(t->key_pem));
		free(t->key_pem);
	}
	free(t->client_ca_pem);
	free(t->priorities);
	*t = (WebTls){ .enabled = false };
}

bool webconfig_tls_enabled(const WebConfig *c)
{
	return c && c->tls.enabled;
}

const char *webconfig_cert_pem(const WebConfig *c)
{
	return c ? c->tls.cert_pem : NULL;
}

const char *webconfig_key_pem(const WebConfig *c)
{
	return c ? c->tls.key_pem : NULL;
}

const char *webconfig_client_ca_pem(const WebConfig *c)
{
	return c ? c->tls.client_ca_pem : NULL;
}

WebClientAuth webconfig_client_auth(const WebConfig *c)
{
	return c ? c->tls.client_auth : WEB_CLIENT_AUTH_NONE;
}

const char *webconfig_tls_priorities(const WebConfig *c)
{
	return c ? c->tls.priorities : NULL;
}

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
 *      The schema below is a table of {key, type, offset into Raw}, as
 *      exporter-toolkit's structs carry yaml tags; webconfig_yaml.c walks the
 *      file along it, and the first problem is reported as
 *      "FILE:LINE: KEY: problem; fix". The sections are then checked and
 *      built by webconfig_tls.c (priorities, certificates), the header check
 *      here, and webconfig_auth.c (users, bcrypt cache). Certificate, key
 *      and CA files are read into memory and checked with GnuTLS, so a config
 *      that loads is one libmicrohttpd can start with, and a failed SIGHUP
 *      reload leaves the running config untouched. Relative paths are
 *      relative to the directory of the config file, as in exporter-toolkit.
 *
 *      A WebConfig is immutable after loading except for the basic-auth
 *      cache; it belongs to the event-loop thread (see webconfig_auth.c).
 *
 * LIMITS
 *      config file and each PEM file 1 MiB; 1000 users; 64 list entries;
 *      64 cached successful verifications; passwords of at most 72 bytes.
 *
 * DIAGNOSTICS
 *      Never logs. Functions return 0 or a negative errno; parse errors come
 *      with a malloc'd message for the caller to log.
 *
 * SECURITY
 *      The file is trusted configuration but still parsed defensively: YAML
 *      aliases are refused (no billion-laughs expansion), certificate paths
 *      must be regular files (a FIFO cannot hang a reload), header values
 *      may not contain control characters (no response splitting), user
 *      strings in messages are quoted and escaped, and every value read is
 *      wiped before it is freed (inline keys, password hashes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "macro.h"
#include "webconfig_int.h"

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

#define STRING(k, field) { .key = k, .type = WEB_FIELD_STRING, .offset = offsetof(Raw, field) }
#define LIST(k, field) { .key = k, .type = WEB_FIELD_LIST, .offset = offsetof(Raw, field) }
#define BOOL(k, field) { .key = k, .type = WEB_FIELD_BOOL, .offset = offsetof(Raw, field) }
#define MAP(k, field, n) { .key = k, .type = WEB_FIELD_MAP, .offset = offsetof(Raw, field), .max = (n) }
#define SECTION(k, line, f) \
	{ .key = k, .type = WEB_FIELD_SECTION, .offset = offsetof(Raw, line), .fields = f, .n_fields = ELEMENTSOF(f) }

/* The order is the order of "valid keys here are ..." in messages. */
static const WebField tls_fields[] = {
	STRING("cert_file", cert_file),
	STRING("key_file", key_file),
	STRING("cert", cert),
	STRING("key", key),
	STRING("client_auth_type", client_auth_type),
	STRING("client_ca_file", client_ca_file),
	STRING("client_ca", client_ca),
	STRING("min_version", min_version),
	STRING("max_version", max_version),
	LIST("cipher_suites", cipher_suites),
	LIST("curve_preferences", curves),
	BOOL("prefer_server_cipher_suites", prefer_server),
	LIST("client_allowed_sans", allowed_sans),
};

static const WebField http_fields[] = {
	/* libmicrohttpd speaks HTTP/1.1 only; both values are honoured by not offering h2. */
	BOOL("http2", http2),
	MAP("headers", headers, ELEMENTSOF(allowed_headers)),
};

static const WebField top_fields[] = {
	SECTION("tls_server_config", tls_line, tls_fields),
	SECTION("http_server_config", http_line, http_fields),
	MAP("basic_auth_users", users, WEBCONFIG_USERS_MAX),
	{ .key = "rate_limit",
	  .type = WEB_FIELD_REFUSED,
	  .refusal = "not supported by this exporter; remove it and limit clients with --web.max-connections-per-ip" },
};

const char *webconfig_quote(char out[static QUOTE_MAX], const char *s, size_t n)
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


int webconfig_fail(WebLoad *l, size_t line, const char *key, const char *fmt, ...)
		   {
		   if (l->error)
		   return -EINVAL;
	Buf b = BUF_NULL;
	va_list ap;
	if (line)
		buf_printf(&b, "%s:%zu: ", l->file, line);
	else
		buf_printf(&b, "%s: ", l->file);
	if (key)
		buf_printf(&b, "%s: ", key);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* On OOM the caller still gets -EINVAL; webconfig_parse() reports it. */
	l->error = buf_steal(&b, NULL);
	return -EINVAL;
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

int webconfig_load_pem(WebLoad *l, const Val *file, const Val *inline_text, const char *file_key,
		       const char *inline_key, char **ret)
{
	if (file->s && inline_text->s)
		return webconfig_fail(l, inline_text->line, inline_key, "%s and %s are mutually exclusive; keep one",
				      file_key, inline_key);
	if (inline_text->s) {
		*ret = strdup(inline_text->s);
		return *ret ? 0 : -ENOMEM;
	}
	_cleanup_free_ char *full = NULL;
	if (file->s[0] == '/' || !l->dir)
		full = strdup(file->s);
	else if (asprintf(&full, "%s/%s", l->dir, file->s) < 0)
		full = NULL;
	if (!full)
		return -ENOMEM;
	int r = read_file(full, ret, NULL);
	if (r < 0) {
		char q[QUOTE_MAX];
		int f = webconfig_fail(l, file->line, file_key,
				       "cannot read %s: %s; check the path (relative paths are relative to %s)",
				       webconfig_quote(q, full, strlen(full)), file_strerror(r),
				       l->dir ? l->dir : "the working directory");
		return r == -ENOMEM ? r : f;
	}
	return 0;
}

/* check_headers - http_server_config.headers: only exporter-toolkit's, with its values. */
static int check_headers(WebLoad *l, WebConfig *c)
{
	const Raw *raw = &l->raw;
	char q[QUOTE_MAX], q2[QUOTE_MAX];

	if (raw->headers.n == 0)
		return 0;
	c->headers = calloc(raw->headers.n, sizeof(WebHeader));
	if (!c->headers)
		return -ENOMEM;
	for (size_t i = 0; i < raw->headers.n; i++) {
		const Pair *h = &raw->headers.v[i];
		size_t a;
		for (a = 0; a < ELEMENTSOF(allowed_headers); a++)
			if (!strcmp(h->key.s, allowed_headers[a].name))
				break;
		if (a == ELEMENTSOF(allowed_headers))
			return webconfig_fail(l, h->key.line, "http_server_config.headers",
					      "header %s can not be configured; allowed are Strict-Transport-Security, "
					      "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy",
					      webconfig_quote(q, h->key.s, strlen(h->key.s)));
		const char *v = h->value.s ? h->value.s : "";
		for (const char *s = v; *s; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return webconfig_fail(l, h->value.line, "http_server_config.headers",
						      "the value of %s contains a control character; write it on one line",
						      h->key.s);
		if (allowed_headers[a].values[0]) {
			bool ok = false;
			for (size_t j = 0; allowed_headers[a].values[j]; j++)
				ok |= !strcmp(v, allowed_headers[a].values[j]);
			if (!ok)
				return webconfig_fail(l, h->value.line, "http_server_config.headers",
						      "invalid value %s for %s; expected %s%s%s",
						      webconfig_quote(q2, v, strlen(v)), h->key.s,
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

static WebConfig *config_new(void)
{
	WebConfig *c = calloc(1, sizeof(WebConfig));
	if (!c)
		return NULL;
	if (webconfig_auth_init(&c->auth) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

int webconfig_parse(const char *data, size_t len, const char *path, WebConfig **ret, char **ret_error)
{
	WebLoad l = { .file = path ? path : "web config" };
	WebConfig *c = NULL;
	int r;

	*ret_error = NULL;
	if (len > WEBCONFIG_FILE_MAX) {
		r = webconfig_fail(&l, 0, NULL, "larger than 1 MiB; this is not a web configuration file");
		goto out;
	}
	if (path) {
		const char *slash = strrchr(path, '/');
		l.dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
		if (!l.dir) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = webconfig_yaml_read(&l, data, len, top_fields, ELEMENTSOF(top_fields));
	if (r < 0)
		goto out;

	c = config_new();
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	r = webconfig_tls_build(&l, &c->tls);
	if (r >= 0)
		r = check_headers(&l, c);
	if (r >= 0)
		r = webconfig_auth_build(&l, &c->auth);
	if (r < 0)
		goto out;
	*ret = TAKE_PTR(c);
	r = 0;
out:
	webconfig_yaml_free(&l.raw, top_fields, ELEMENTSOF(top_fields));
	free(l.dir);
	webconfig_free(c);
	if (r < 0) {
		if (!l.error)
			(void)asprintf(&l.error, "%s: %s", l.file, strerror(-r));
		*ret_error = l.error;
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
	webconfig_tls_clear(&c->tls);
	webconfig_auth_clear(&c->auth);
	for (size_t i = 0; i < c->n_headers; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->headers);
	free(c);
	return NULL;
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

/*
 * http.c - libmicrohttpd in "external epoll" mode inside our event loop.
 *
 * DESIGN
 *	One thread. Each listening socket gets its own MHD daemon; the
 *	daemon's epoll fd is registered in the main loop and MHD_run() is
 *	called when it is readable or its timeout expires. Handlers render
 *	straight from the store: no other thread mutates it, so a scrape sees
 *	the state between two log records and needs no lock. The sources
 *	process input in slices of a few milliseconds, so a scrape waits at
 *	most one slice; a slow client never blocks anything because MHD
 *	writes non-blockingly.
 *	We bind the sockets ourselves (or take them from systemd), so that a
 *	reload of the web configuration can replace the MHD daemons while the
 *	listening sockets stay open.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <zlib.h>

#include "authbudget.h"
#include "config.h"
#include "error.h"
#include "expo.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define HTTP_MAX_LISTENERS 16

/* How long a rendered /metrics body may be served again. */
#define RENDER_REUSE_USEC (100 * USEC_PER_MSEC)
/* A /report rendering (0.1-0.3 s with 10 000 peers) is served again for
 * REPORT_REUSE_FACTOR times what it cost, at least RENDER_REUSE_USEC: a
 * flood of /report spends at most a tenth of the one thread on it. */
#define REPORT_REUSE_FACTOR 10
/* Bodies of /report are shared by every response that sends them (slow
 * readers hold a reference, not a copy). Older renderings still being sent
 * may hold at most this much; beyond it the current one is served again
 * rather than a new one rendered. */
#define REPORT_INFLIGHT_MAX (64u * 1024 * 1024)

/* SharedBody - a rendered /report, freed when its last response is. */
typedef struct SharedBody {
	Http *http;
	size_t refs;
	size_t len;
	char data[];
} SharedBody;

typedef struct ReportCache {
	SharedBody *body;
	int64_t at;    /* CLOCK_MONOTONIC µs of the rendering; 0: none */
	int64_t cost;  /* µs it took */
	int64_t window; /* the ?window= it was rendered for (0: --window) */
} ReportCache;

typedef struct Rendered {
	Buf text;      /* the exposition */
	Buf gz;        /* the same, gzip-compressed, once a client asked for it */
	bool gz_valid;
	int64_t at;    /* CLOCK_MONOTONIC µs of the rendering; 0: none */
} Rendered;

typedef struct Listener {
	int fd;
	struct MHD_Daemon *d;
	int epfd;
	Http *http;
} Listener;

struct Http {
	HttpConfig cfg;
	char *telemetry_path;
	WebConfig *wc;
	Store *store;
	Loop *loop;
	Listener l[HTTP_MAX_LISTENERS];
	size_t n;
	bool ready;
	HttpReportFn report_fn;
	void *report_ud;
	Buf body;      /* reused render buffer */
	Rendered rendered[2]; /* [openmetrics] */
	ReportCache report[_REPORT_FORMAT_MAX];
	size_t report_bytes;  /* in every SharedBody alive */
	AuthBudget *auth_budget; /* bcrypt CPU time, kept across reloads */
	uint64_t logged_causes[64];
};

/* log_once - errors are logged once per cause (format string), not per request. */
static void log_once(Http *h, const char *fmt, ...) _printf_(2, 3);
static void log_once(Http *h, const char *fmt, ...)
{
	uint64_t k = hash64(fmt, strlen(fmt), 1);
	for (size_t i = 0; i < ELEMENTSOF(h->logged_causes); i++) {
		if (h->logged_causes[i] == k)
			return;
		if (h->logged_causes[i] == 0) {
			h->logged_causes[i] = k;
			break;
		}
	}
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("http: %s", msg);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_debug("http: libmicrohttpd: %s", msg);
}

/* ---- sockets -------------------------------------------------------------- */

#define LISTEN_ACCEPTED "[HOST]:PORT with PORT 1 to 65535, e.g. :10125, 127.0.0.1:10125, [::1]:10125"

int http_parse_listen_address(const char *addr, char *host, size_t host_size, char *port, size_t port_size,
			      char **ret_error)
{
	const char *colon = strrchr(addr, ':');
	/* "::1" alone: the last colon belongs to an IPv6 address without brackets */
	if (!colon || (strchr(addr, ':') != colon && addr[0] != '['))
		return error_set(ret_error, -EINVAL, "--web.listen-address=%s: no port (accepted: %s)", addr,
				 LISTEN_ACCEPTED);
	uint64_t pn;
	int r = parse_u64(colon + 1, &pn);
	if (r < 0 || pn < 1 || pn > 65535)
		return error_set(ret_error, -EINVAL, "--web.listen-address=%s: port '%s' is %s (accepted: %s)", addr,
				 colon + 1, r < 0 ? "not a number" : "out of range", LISTEN_ACCEPTED);
	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	if (hl && h[0] == '[') {
		if (hl < 2 || h[hl - 1] != ']')
			return error_set(ret_error, -EINVAL, "--web.listen-address=%s: unbalanced '[' (accepted: %s)",
					 addr, LISTEN_ACCEPTED);
		h++;
		hl -= 2;
	}
	if (hl >= host_size)
		return error_set(ret_error, -EINVAL, "--web.listen-address=%s: host name too long", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, port_size, "%llu", (unsigned long long)pn);
	return 0;
}

static int bind_address(const char *addr, int *ret_fd, char **ret_error)
{
	char host[256], port[8];
	int r = http_parse_listen_address(addr, host, sizeof(host), port, sizeof(port), ret_error);
	if (r < 0)
		return r;
	/* ":10125" (all addresses) listens on [::] dual-stack, as Go does. */
	bool any = host[0] == '\0';
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int gr = getaddrinfo(any ? "::" : host, port, &hints, &res);
	if (gr != 0 && any)
		gr = getaddrinfo("0.0.0.0", port, &hints, &res);
	if (gr != 0)
		return error_set(ret_error, -EADDRNOTAVAIL, "--web.listen-address=%s: '%s' is not an address of this host (%s)",
				 addr, host, gai_strerror(gr));
	r = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		int one = 1, zero = 0;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, any ? &zero : &one, sizeof(int));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
			r = -errno;
			close(fd);
			continue;
		}
		*ret_fd = fd;
		r = 0;
		break;
	}
	freeaddrinfo(res);
	if (r == -EADDRNOTAVAIL)
		return error_set(ret_error, r, "--web.listen-address=%s: no interface of this host has the address '%s'",
				 addr, host);
	if (r < 0)
		return error_set(ret_error, r, "--web.listen-address=%s: cannot listen: %s%s", addr, strerror(-r),
				 r == -EADDRINUSE ? " (another program has the port; choose another with "
						    "--web.listen-address)" : "");
	return r;
}

/* ---- responses ------------------------------------------------------------ */

static void add_common_headers(Http *h, struct MHD_Response *resp)
{
	for (size_t i = 0; i < webconfig_n_headers(h->wc); i++) {
		const char *name, *value;
		webconfig_header(h->wc, i, &name, &value);
		if (name && value)
			MHD_add_response_header(resp, name, value);
	}
}

static enum MHD_Result respond(Http *h, struct MHD_Connection *c, unsigned status, const char *ctype,
			       const void *body, size_t len, const char *encoding)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (encoding)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
	add_common_headers(h, resp);
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result respond_text(Http *h, struct MHD_Connection *c, unsigned status, const char *text)
{
	return respond(h, c, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

/* respond_refusal - a short static text with one extra header (Allow,
 * WWW-Authenticate, Retry-After). */
static enum MHD_Result respond_refusal(Http *h, struct MHD_Connection *c, unsigned status, const char *text,
				       const char *header, const char *value)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, header, value);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	add_common_headers(h, resp);
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* accept_q - the q-value a comma-separated Accept(-Encoding) header gives
 * token (a type or encoding; "*" and the any-type wildcard count as
 * wildcards); -1 if absent. */
static double accept_q(const char *header, const char *token)
{
	double best = -1, wildcard = -1;
	if (!header)
		return -1;
	size_t tl = strlen(token);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		size_t name = strcspn(p, ";, ");
		if (name > n)
			name = n;
		double q = 1;
		const char *qp = find_lit(p, n, ";q=", 3);
		if (!qp)
			qp = find_lit(p, n, "; q=", 4);
		if (qp)
			q = strtod(strchr(qp, '=') + 1, NULL);
		if (name == tl && strncasecmp(p, token, tl) == 0)
			best = q > best ? q : best;
		else if ((name == 1 && p[0] == '*') || (name == 3 && strncmp(p, "*/*", 3) == 0))
			wildcard = q > wildcard ? q : wildcard;
		p = end;
	}
	return best >= 0 ? best : wildcard;
}

static bool accepts(const char *header, const char *token)
{
	return accept_q(header, token) > 0;
}

/* wants_openmetrics - Prometheus asks for OpenMetrics first and 0.0.4 with
 * a lower q; any client that prefers text/plain (or sends no Accept) gets it. */
static bool wants_openmetrics(const char *accept)
{
	double om = accept_q(accept, "application/openmetrics-text");
	double text = accept_q(accept, "text/plain");
	return om > 0 && om > text;
}

/* gzip_into - level 1: the exposition compresses about 10:1 even so, and a
 * scrape costs a third of the default level's CPU on the single thread. */
static int gzip_into(Buf *out, const char *data, size_t len)
{
	z_stream zs = { 0 };
	if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	buf_clear(out);
	size_t bound = deflateBound(&zs, len);
	int r = buf_reserve(out, bound);
	if (r < 0) {
		deflateEnd(&zs);
		return r;
	}
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = (Bytef *)out->data;
	zs.avail_out = (uInt)bound;
	int zr = deflate(&zs, Z_FINISH);
	out->len = zs.total_out;
	deflateEnd(&zs);
	return zr == Z_STREAM_END ? 0 : -EIO;
}

static enum MHD_Result serve_metrics(Http *h, struct MHD_Connection *c)
{
	const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	bool om = wants_openmetrics(accept);
	bool gz = accepts(ae, "gzip");
	Rendered *cached = &h->rendered[om];
	int64_t now = now_monotonic_usec();
	/* Scrapes that arrive together (HA Prometheus pairs, several clients)
	 * share one rendering: the body is at most RENDER_REUSE_USEC old, and
	 * the compressed and plain answers of that window are the same text. */
	if (!cached->at || now - cached->at >= RENDER_REUSE_USEC) {
		buf_clear(&cached->text);
		int r = expo_render(h->store, om ? EXPO_OPENMETRICS : EXPO_TEXT, h->cfg.openmetrics_created, &cached->text);
		if (r < 0) {
			log_once(h, "rendering metrics failed: %s", strerror(-r));
			cached->at = 0;
			return respond_text(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "render error\n");
		}
		cached->at = now;
		cached->gz_valid = false;
	}
	if (gz && !cached->gz_valid) {
		int r = gzip_into(&cached->gz, cached->text.data, cached->text.len);
		if (r < 0) {
			log_once(h, "compressing metrics failed: %s", strerror(-r));
			return respond_text(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "render error\n");
		}
		cached->gz_valid = true;
	}
	const Buf *body = gz ? &cached->gz : &cached->text;
	struct MHD_Response *resp = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				om ? EXPO_CONTENT_TYPE_OPENMETRICS : EXPO_CONTENT_TYPE_TEXT);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	add_common_headers(h, resp);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result serve_landing(Http *h, struct MHD_Connection *c)
{
	buf_clear(&h->body);
	buf_printf(&h->body,
		   "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		   "<title>Postfix TLS Exporter</title></head>\n<body>\n<h1>Postfix TLS Exporter</h1>\n"
		   "<p>Version %s. TLS statistics of Postfix, read from its log.</p>\n<ul>\n"
		   "<li><a href=\"%s\">Metrics</a></li>\n"
		   "<li><a href=\"/report\">TLS enforcement readiness report</a> "
		   "(<a href=\"/report?format=json\">JSON</a>)</li>\n"
		   "<li><a href=\"/-/healthy\">Health</a>, <a href=\"/-/ready\">Readiness</a></li>\n"
		   "</ul>\n</body></html>\n",
		   PTE_VERSION, h->telemetry_path);
	return respond(h, c, MHD_HTTP_OK, "text/html; charset=utf-8", h->body.data, h->body.len, NULL);
}

static void body_unref(void *userdata)
{
	SharedBody *b = userdata;
	if (b && --b->refs == 0) {
		b->http->report_bytes -= b->len;
		free(b);
	}
}

/* report_body - the shared rendering of fmt, rendered again when it is
 * older than its reuse time and the older ones in flight leave room. */
static SharedBody *report_body(Http *h, ReportFormat fmt, int64_t window, int *ret)
{
	ReportCache *rc = &h->report[fmt];
	int64_t now = now_monotonic_usec(), reuse = rc->cost * REPORT_REUSE_FACTOR;
	if (reuse < RENDER_REUSE_USEC)
		reuse = RENDER_REUSE_USEC;
	bool stale = !rc->body || rc->window != window || now - rc->at >= reuse;
	size_t old = h->report_bytes - (rc->body ? rc->body->len : 0);
	if (stale && rc->body && old > REPORT_INFLIGHT_MAX)
		stale = false; /* slow readers hold enough already */
	if (stale) {
		buf_clear(&h->body);
		*ret = h->report_fn(h->report_ud, fmt, window, &h->body);
		if (*ret < 0)
			return NULL;
		SharedBody *b = malloc(sizeof(*b) + h->body.len);
		if (!b) {
			*ret = -ENOMEM;
			return NULL;
		}
		*b = (SharedBody){ .http = h, .refs = 1, .len = h->body.len };
		memcpy(b->data, h->body.data, h->body.len);
		h->report_bytes += b->len;
		body_unref(rc->body);
		rc->body = b;
		rc->window = window;
		rc->at = now_monotonic_usec();
		rc->cost = rc->at - now;
		if (h->body.cap > 1024 * 1024)
			buf_deinit(&h->body); /* the copy is what stays */
	}
	return rc->body;
}

static enum MHD_Result serve_report(Http *h, struct MHD_Connection *c)
{
	const char *f = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
	const ReportFormatInfo *fmt = f ? report_format_find(f) : &report_formats[REPORT_HTML];
	if (!fmt) {
		char msg[128];
		snprintf(msg, sizeof(msg), "format must be %s\n", report_format_list());
		return respond_text(h, c, MHD_HTTP_BAD_REQUEST, msg);
	}
	/* ?window= is parsed like --window; the callback bounds it */
	const char *w = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "window");
	int64_t window = 0;
	if (w && (parse_duration_usec(w, &window) < 0 || window <= 0))
		return respond_text(h, c, MHD_HTTP_BAD_REQUEST, "window must be a duration such as 90m, 6h or 2d\n");
	if (!h->report_fn)
		return respond_text(h, c, MHD_HTTP_NOT_FOUND, "no report\n");
	int r = 0;
	SharedBody *b = report_body(h, fmt->id, window, &r);
	if (r == -ERANGE) /* the callback said why */
		return respond(h, c, MHD_HTTP_BAD_REQUEST, "text/plain; charset=utf-8", h->body.data, h->body.len, NULL);
	if (!b) {
		log_once(h, "rendering the report failed: %s", strerror(-r));
		return respond_text(h, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "report error\n");
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data,
											    body_unref, b);
	if (!resp)
		return MHD_NO;
	b->refs++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, fmt->content_type);
	add_common_headers(h, resp);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- authentication ------------------------------------------------------- */

static int b64val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* base64_decode - into out (size), NUL-terminated; -EINVAL on bad input. */
static int base64_decode(const char *in, char *out, size_t size)
{
	size_t n = 0;
	unsigned acc = 0;
	int bits = 0;
	for (; *in && *in != '='; in++) {
		int v = b64val(*in);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= size)
				return -EINVAL;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return (int)n;
}

/* Uncached bcrypt verifications are rationed in CPU time (authbudget.h):
 * each costs 50-250 ms of the one thread that also ingests, so a password
 * guesser must not get more, and clients that logged in before keep a
 * budget of their own. Cached (already verified) credentials are never
 * limited. */

/* client_key - the client's address as the budget knows it: IPv4, or the
 * /64 of IPv6 (one host usually holds a whole /64). */
static size_t client_key(struct MHD_Connection *c, uint8_t key[static 16])
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 8);
		return 8;
	}
	return 0;
}

typedef enum AuthResult {
	AUTH_OK,
	AUTH_REFUSED,
	AUTH_THROTTLED,
} AuthResult;

static AuthResult authorized(Http *h, struct MHD_Connection *c)
{
	if (!webconfig_auth_enabled(h->wc))
		return AUTH_OK;
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!a || strncasecmp(a, "Basic ", 6) != 0)
		return AUTH_REFUSED;
	char dec[1024];
	int n = base64_decode(a + 6, dec, sizeof(dec));
	if (n < 0 || memchr(dec, '\0', (size_t)n))
		return AUTH_REFUSED;
	char *colon = strchr(dec, ':');
	if (!colon)
		return AUTH_REFUSED;
	*colon = '\0';
	uint8_t key[16];
	size_t kn = client_key(c, key);
	bool may = authbudget_may(h->auth_budget, key, kn, now_monotonic_usec());
	WebAuthStats before, after;
	webconfig_auth_stats(h->wc, &before);
	int64_t cpu = clock_usec(CLOCK_THREAD_CPUTIME_ID);
	int r = webconfig_check_basic_auth_budget(h->wc, dec, colon + 1, may);
	explicit_bzero(dec, sizeof(dec));
	if (r == -EAGAIN) {
		log_once(h, "basic auth: the CPU budget for uncached password checks (bcrypt) is spent: answering 429");
		return AUTH_THROTTLED;
	}
	webconfig_auth_stats(h->wc, &after);
	if (after.bcrypt_runs != before.bcrypt_runs)
		authbudget_spent(h->auth_budget, key, kn, clock_usec(CLOCK_THREAD_CPUTIME_ID) - cpu, r == 1);
	return r == 1 ? AUTH_OK : AUTH_REFUSED;
}

/* client_cert_ok - RequireAndVerifyClientCert: MHD only asks for a
 * certificate (MHD_OPTION_HTTPS_MEM_TRUST); checking it is ours. */
static bool client_cert_ok(Http *h, struct MHD_Connection *c)
{
	WebClientAuth ca = webconfig_client_auth(h->wc);
	if (!webconfig_tls_enabled(h->wc) || ca == WEB_CLIENT_AUTH_NONE || ca == WEB_CLIENT_AUTH_REQUEST)
		return true;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	gnutls_session_t s = (gnutls_session_t)ci->tls_session;
	unsigned int n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(s, &n);
	bool present = certs && n > 0;
	if (!present)
		return ca == WEB_CLIENT_AUTH_VERIFY_IF_GIVEN;
	if (ca == WEB_CLIENT_AUTH_REQUIRE_ANY)
		return true;
	unsigned int status = 0;
	return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

/* ---- dispatch ------------------------------------------------------------- */

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size,
			       void **con_cls)
{
	Listener *l = cls;
	Http *h = l->http;
	/* Answering on the first call makes libmicrohttpd close the connection
	 * (it has not seen the end of the request yet); answering on the second
	 * keeps it alive, so Prometheus reuses it and skips a TLS handshake.
	 * Other methods are answered at once (and the connection closed): their
	 * body is never wanted. */
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	static int first_call_marker;
	if (get && !*con_cls) {
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (get && *upload_data_size) {
		*upload_data_size = 0; /* a GET with a body: drop it */
		return MHD_YES;
	}
	if (!get)
		return respond_refusal(h, c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", MHD_HTTP_HEADER_ALLOW,
				       "GET, HEAD");
	if (!client_cert_ok(h, c))
		return respond_text(h, c, MHD_HTTP_FORBIDDEN, "client certificate required\n");
	AuthResult ar = authorized(h, c);
	if (ar == AUTH_THROTTLED)
		return respond_refusal(h, c, 429, "too many requests\n", "Retry-After", "1");
	if (ar != AUTH_OK)
		return respond_refusal(h, c, MHD_HTTP_UNAUTHORIZED, "Unauthorized\n", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
				       "Basic realm=\"postfix_tls_exporter\"");
	if (!strcmp(url, h->telemetry_path))
		return serve_metrics(h, c);
	if (!strcmp(url, "/"))
		return serve_landing(h, c);
	if (!strcmp(url, "/report"))
		return serve_report(h, c);
	if (!strcmp(url, "/-/healthy"))
		return respond_text(h, c, MHD_HTTP_OK, "Healthy\n");
	if (!strcmp(url, "/-/ready"))
		return h->ready ? respond_text(h, c, MHD_HTTP_OK, "Ready\n")
				: respond_text(h, c, MHD_HTTP_SERVICE_UNAVAILABLE, "Not ready\n");
	return respond_text(h, c, MHD_HTTP_NOT_FOUND, "not found\n");
}

/* ---- daemons --------------------------------------------------------------- */

static void on_ready(void *userdata, uint32_t events)
{
	Listener *l = userdata;
	if (l->d)
		MHD_run(l->d);
}

static int start_daemon(Http *h, Listener *l)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	size_t n = 0;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, l->fd, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->cfg.max_connections_per_ip, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.connection_timeout_sec, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)h->cfg.max_request_bytes, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, h };
	if (webconfig_tls_enabled(h->wc)) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)webconfig_cert_pem(h->wc) };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)webconfig_key_pem(h->wc) };
		if (webconfig_tls_priorities(h->wc))
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0,
							     (void *)webconfig_tls_priorities(h->wc) };
		/* libmicrohttpd asks clients for a certificate only when it has a
		 * trust list; RequestClientCert and RequireAnyClientCert need the
		 * request without a CA, so the server's own chain stands in (it is
		 * never used to verify: those modes only check presence). */
		const char *trust = webconfig_client_ca_pem(h->wc);
		WebClientAuth ca = webconfig_client_auth(h->wc);
		if (!trust && (ca == WEB_CLIENT_AUTH_REQUEST || ca == WEB_CLIENT_AUTH_REQUIRE_ANY))
			trust = webconfig_cert_pem(h->wc);
		if (trust)
			opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)trust };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	l->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, l, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!l->d)
		return -EINVAL;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di) {
		MHD_stop_daemon(l->d);
		l->d = NULL;
		return -EINVAL;
	}
	l->epfd = di->epoll_fd;
	return loop_add(h->loop, l->epfd, EPOLLIN, on_ready, l);
}

static void stop_daemon(Http *h, Listener *l)
{
	if (!l->d)
		return;
	loop_del(h->loop, l->epfd);
	/* Quiesce first: MHD then leaves the listening socket open for us. */
	MHD_quiesce_daemon(l->d);
	MHD_stop_daemon(l->d);
	l->d = NULL;
}

int http_new(Http **ret, const HttpConfig *cfg, WebConfig *wc, Store *store, Loop *loop)
{
	Http *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->wc = wc;
	h->store = store;
	h->loop = loop;
	h->telemetry_path = strdup(cfg->telemetry_path ? cfg->telemetry_path : "/metrics");
	if (!h->telemetry_path || authbudget_new(&h->auth_budget) < 0) {
		http_free(h);
		return -ENOMEM;
	}
	if (cfg->systemd_socket) {
		int n = sd_listen_fds(1);
		if (n <= 0) {
			log_error("http: --web.systemd-socket given, but systemd passed no socket");
			http_free(h);
			return n < 0 ? n : -EBADF;
		}
		for (int i = 0; i < n && h->n < HTTP_MAX_LISTENERS; i++)
			h->l[h->n++] = (Listener){ .fd = SD_LISTEN_FDS_START + i, .http = h, .epfd = -1 };
	} else {
		for (char **a = cfg->listen_addresses; a && *a; a++) {
			if (h->n >= HTTP_MAX_LISTENERS) {
				log_error("http: at most %d listen addresses", HTTP_MAX_LISTENERS);
				http_free(h);
				return -E2BIG;
			}
			int fd;
			_cleanup_free_ char *err = NULL;
			int r = bind_address(*a, &fd, &err);
			if (r < 0) {
				log_error("%s", err ? err : strerror(-r));
				http_free(h);
				return r;
			}
			h->l[h->n++] = (Listener){ .fd = fd, .http = h, .epfd = -1 };
		}
	}
	*ret = h;
	return 0;
}

/* log_listener - where a socket listens, as bound (a port of 0 or a name
 * would otherwise hide it), and whether TLS and basic auth protect it */
static void log_listener(Http *h, const Listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
			port = ntohs(a->sin6_port);
		} else if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
			port = ntohs(a->sin_port);
		}
	}
	bool v6 = ss.ss_family == AF_INET6;
	log_info("listening on %s%s%s:%u%s (TLS %s, basic auth %s)", v6 ? "[" : "", host, v6 ? "]" : "", port,
		 h->cfg.systemd_socket ? " (from systemd)" : "", webconfig_tls_enabled(h->wc) ? "on" : "off",
		 webconfig_auth_enabled(h->wc) ? "on" : "off");
}

int http_start(Http *h)
{
	for (size_t i = 0; i < h->n; i++) {
		int r = start_daemon(h, &h->l[i]);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "http: starting libmicrohttpd");
		log_listener(h, &h->l[i]);
	}
	return 0;
}

int http_reload(Http *h, WebConfig *wc)
{
	WebConfig *old = h->wc;
	h->wc = wc;
	for (size_t i = 0; i < h->n; i++)
		stop_daemon(h, &h->l[i]);
	int r = 0;
	for (size_t i = 0; i < h->n; i++)
		if (start_daemon(h, &h->l[i]) < 0)
			r = -EINVAL;
	if (r < 0) {
		/* The new TLS material was refused by GnuTLS: go back to the old. */
		log_error("http: new web configuration could not be applied, keeping the previous one");
		for (size_t i = 0; i < h->n; i++)
			stop_daemon(h, &h->l[i]);
		h->wc = old;
		for (size_t i = 0; i < h->n; i++)
			start_daemon(h, &h->l[i]);
		webconfig_free(wc);
		return r;
	}
	webconfig_free(old);
	return 0;
}

Http *http_free(Http *h)
{
	if (!h)
		return NULL;
	for (size_t i = 0; i < h->n; i++) {
		stop_daemon(h, &h->l[i]);
		if (h->l[i].fd >= 0)
			close(h->l[i].fd);
	}
	webconfig_free(h->wc);
	buf_deinit(&h->body);
	for (int i = 0; i < 2; i++) {
		buf_deinit(&h->rendered[i].text);
		buf_deinit(&h->rendered[i].gz);
	}
	for (int i = 0; i < _REPORT_FORMAT_MAX; i++)
		body_unref(h->report[i].body);
	free(h->telemetry_path);
	authbudget_free(h->auth_budget);
	free(h);
	return NULL;
}

void http_set_ready(Http *h, bool ready)
{
	h->ready = ready;
}

void http_set_report(Http *h, HttpReportFn fn, void *userdata)
{
	h->report_fn = fn;
	h->report_ud = userdata;
}

int http_timeout_ms(Http *h)
{
	int best = -1;
	for (size_t i = 0; i < h->n; i++) {
		MHD_UNSIGNED_LONG_LONG t;
		if (h->l[i].d && MHD_get_timeout(h->l[i].d, &t) == MHD_YES) {
			int ms = t > 60000 ? 60000 : (int)t;
			if (best < 0 || ms < best)
				best = ms;
		}
	}
	return best;
}

void http_run(Http *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->l[i].d)
			MHD_run(h->l[i].d);
}

/*
 * http.h - the HTTP endpoint (libmicrohttpd, driven by our event loop).
 *
 * DESCRIPTION
 *	Serves the metrics at the telemetry path (Prometheus text 0.0.4, or
 *	OpenMetrics 1.0.0 when the Accept header asks for it; gzip when the
 *	client accepts it), a landing page at "/", the readiness report at
 *	"/report", "/-/healthy" and "/-/ready". GET and HEAD only (405 with
 *	Allow otherwise). TLS, basic auth and extra headers come from the
 *	web configuration file.
 * LIMITS
 *	max_connections, max_connections_per_ip, connection_timeout and
 *	max_request_bytes are passed to libmicrohttpd explicitly (its defaults
 *	are unlimited or unsafe for a host exposed to the Internet).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"
#include "report.h"
#include "store.h"
#include "webconfig.h"

typedef struct Http Http;

typedef struct HttpConfig {
	char **listen_addresses;   /* NULL-terminated; ":10125", "127.0.0.1:10125", "[::1]:10125" */
	bool systemd_socket;       /* take the listening sockets from sd_listen_fds() */
	const char *telemetry_path;
	unsigned max_connections;
	unsigned max_connections_per_ip;
	unsigned connection_timeout_sec;
	size_t max_request_bytes;
	bool openmetrics_created;
} HttpConfig;

/* Renders /report in fmt over window_usec (0: the configured window).
 * Return -ERANGE for a window the exporter cannot cover, with the reason
 * in out (answered with 400). */
typedef int (*HttpReportFn)(void *userdata, ReportFormat fmt, int64_t window_usec, Buf *out);

/* http_parse_listen_address - split "[HOST]:PORT" (":10125", "127.0.0.1:10125",
 * "[::1]:10125") into host ("" for all addresses) and port, checking that the
 * port is a number from 1 to 65535. Return: 0, or -EINVAL with a message
 * naming --web.listen-address, the value and what is accepted. */
int http_parse_listen_address(const char *addr, char *host, size_t host_size, char *port, size_t port_size,
			      char **ret_error);

/* http_new - bind the sockets (or take them from systemd); takes ownership of wc. */
int http_new(Http **ret, const HttpConfig *cfg, WebConfig *wc, Store *store, Loop *loop);
Http *http_free(Http *h);
/* http_start - start serving on the bound sockets (after privileges are dropped). */
int http_start(Http *h);
/* http_reload - swap in a new web configuration without closing the listeners. */
int http_reload(Http *h, WebConfig *wc);
void http_set_ready(Http *h, bool ready);
void http_set_report(Http *h, HttpReportFn fn, void *userdata);
/* http_timeout_ms - when libmicrohttpd next needs to run (-1: no timer). */
int http_timeout_ms(Http *h);
/* http_run - let libmicrohttpd handle what is pending. */
void http_run(Http *h);

/*
 * test-backfill.c - snapshots at step boundaries of log time, written as
 * OpenMetrics with timestamps: one block per family, each series in time
 * order, the last step equal to the live counters, --label pairs checked.
 */
#include "../harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "backfill.h"
#include "ingest.h"
#include "metrics.h"
#include "store.h"

#define T0 1795860000 /* 2026-11-28T10:00:00Z */

static void hook(void *userdata, int64_t ts_usec)
{
	backfill_observe(userdata, ts_usec);
}

static char *run(const char *const *lines, int64_t step_sec, uint64_t max_samples, int64_t *ret_samples)
{
	Store *store;
	Ingest *in;
	Backfill *b;
	char *err = NULL;
	require(store_new(&store, metrics_families, _M_MAX, 10000) == 0);
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	require(ingest_new(&in, store, &c, NULL) == 0);
	static const char *const labels[] = { "instance=mx1:10125", "job=postfix_tls" };
	BackfillConfig bc = { step_sec * 1000000, labels, 2, max_samples };
	require(backfill_new(&b, store, &bc, &err) == 0);
	ingest_set_clock_hook(in, hook, b);
	for (; *lines; lines++)
		ingest_line(in, *lines, strlen(*lines));
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	*ret_samples = backfill_write(b, f, &err);
	fclose(f);
	if (*ret_samples < 0) {
		free(text);
		text = err;
	} else {
		require(err == NULL);
	}
	backfill_free(b);
	ingest_free(in);
	store_free(store);
	return text;
}

static const char *const two_sessions[] = {
	"2026-11-28T10:00:00.000000+00:00 mx1 postfix/smtpd[1]: connect from a.example.com[192.0.2.1]",
	"2026-11-28T10:00:01.000000+00:00 mx1 postfix/smtpd[1]: Anonymous TLS connection established from a.example.com[192.0.2.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256",
	"2026-11-28T10:00:02.000000+00:00 mx1 postfix/smtpd[1]: disconnect from a.example.com[192.0.2.1] ehlo=2 starttls=1 quit=1 commands=4",
	"2026-11-28T10:03:30.000000+00:00 mx1 postfix/smtpd[2]: connect from b.example.org[192.0.2.2]",
	"2026-11-28T10:03:31.000000+00:00 mx1 postfix/smtpd[2]: disconnect from b.example.org[192.0.2.2] ehlo=1 quit=1 commands=2",
	NULL
};

static void test_steps(void)
{
	int64_t n;
	char *t = run(two_sessions, 60, 1000000, &n);
	/* the TLS session counts from the first boundary after it (10:01) to
	 * the boundary after the newest record (10:04); the plaintext one only
	 * at 10:04; each counter is 0 one step before it first appears */
	require(strstr(t, "# TYPE postfix_tls_inbound_sessions counter\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"plaintext\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 0 1795860180\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"plaintext\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860240\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"tls\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 0 1795860000\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"tls\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860060\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"tls\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860120\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"tls\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860180\n"
			      "postfix_tls_inbound_sessions_total{syslog_name=\"postfix\",encryption=\"tls\",mail=\"false\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860240\n"));
	/* connections: 1 from 10:01, 2 at 10:04 */
	require(strstr(t, "postfix_tls_inbound_connections_total{syslog_name=\"postfix\",instance=\"mx1:10125\",job=\"postfix_tls\"} 1 1795860180\n"
			      "postfix_tls_inbound_connections_total{syslog_name=\"postfix\",instance=\"mx1:10125\",job=\"postfix_tls\"} 2 1795860240\n"));
	require(strstr(t, "postfix_tls_exporter_") == NULL); /* health families describe the run, not the log */
	require(strstr(t, "process_") == NULL);
	size_t len = strlen(t);
	require(len > 6 && strcmp(t + len - 6, "# EOF\n") == 0);
	/* every sample line counted once */
	int64_t lines = 0;
	for (const char *p = t; (p = strchr(p, '\n')); p++)
		lines++;
	int64_t headers = 0;
	for (const char *p = t; (p = strstr(p, "# TYPE ")); p++)
		headers++;
	require(lines == n + 2 * headers + 1);
	free(t);
}

static void test_bounds_and_labels(void)
{
	int64_t n;
	char *err = run(two_sessions, 60, 5, &n);
	require(n == -E2BIG);
	require(strstr(err, "exceed --backfill.max-samples=5; use a larger --step or raise the limit") != NULL);
	free(err);

	Store *store;
	Backfill *b;
	require(store_new(&store, metrics_families, _M_MAX, 100) == 0);
	static const struct { const char *label, *msg; } bad[] = {
		{ "instance", "--label=instance: expected NAME=VALUE" },
		{ "__name__=x", "--label=__name__=x: expected NAME=VALUE" },
		{ "9x=y", "--label=9x=y: expected NAME=VALUE" },
		{ "syslog_name=mx", "--label=syslog_name=mx: the exporter already uses this label name in postfix_tls_" },
		{ "bad=\x1b", "the value is not valid UTF-8 or has control characters" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *l[] = { bad[i].label };
		BackfillConfig bc = { 60000000, l, 1, 100 };
		char *e = NULL;
		require(backfill_new(&b, store, &bc, &e) == -EINVAL);
		require(e && strstr(e, bad[i].msg) != NULL);
		free(e);
	}
	const char *dup[] = { "job=a", "job=b" };
	BackfillConfig bc = { 60000000, dup, 2, 100 };
	char *e = NULL;
	require(backfill_new(&b, store, &bc, &e) == -EINVAL);
	require(e && strstr(e, "--label=job=b: the label is given twice") != NULL);
	free(e);
	store_free(store);
}

int main(void)
{
	test_run(test_steps);
	test_run(test_bounds_and_labels);
	return test_exit();
}

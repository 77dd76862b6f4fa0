/*
 * test-clocks.c - the clocks ingest keeps under hostile and long-running
 * input (issue 15): a daemon running across New Year, a line stamped 2099,
 * a line from the past, and the exporter's health series when the series
 * limit is reached before the first scrape.
 */
#include <time.h>

#include "../harness.h"

#include "expo.h"
#include "ingest.h"
#include "metrics.h"
#include "procstat.h"
#include "store.h"
#include "util.h"

static Store *store;
static Ingest *in;
static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static int64_t local_ts(int y, int mon, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mon - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s, .tm_isdst = -1 };
	return (int64_t)mktime(&tm) * 1000000;
}

static void setup(size_t max_series)
{
	require(store_new(&store, metrics_families, _M_MAX, max_series) == 0);
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	c.now_fn = fake_clock;
	require(ingest_new(&in, store, &c, NULL) == 0);
}

static void teardown(void)
{
	in = ingest_free(in);
	store = store_free(store);
}

static void feed(const char *line)
{
	ingest_line(in, line, strlen(line));
}

static double get0(MetricId m)
{
	store_collect(store);
	return store_get(store, m, NULL);
}

static void test_new_year(void)
{
	/* a daemon started on 31 Dec 23:59:50 reads lines of 31 Dec and 1 Jan */
	fake_now = local_ts(2026, 12, 31, 23, 59, 50);
	setup(10000);
	fake_now += 5 * USEC_PER_SEC;
	feed("Dec 31 23:59:55 mx postfix/smtpd[1]: connect from a[192.0.2.1]");
	check(ingest_last_event_usec(in) == local_ts(2026, 12, 31, 23, 59, 55));
	fake_now = local_ts(2027, 1, 1, 0, 0, 6);
	feed("Jan  1 00:00:05 mx postfix/smtpd[1]: disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2");
	check(ingest_last_event_usec(in) == local_ts(2027, 1, 1, 0, 0, 5));
	check(get0(M_SESSIONS_EXPIRED) == 0);
	Slice l[] = { SLICE_LIT("postfix"), SLICE_LIT("plaintext"), SLICE_LIT("false") };
	check(store_get(store, M_INBOUND_SESSIONS, l) == 1);
	teardown();
}

static void test_future_line(void)
{
	fake_now = local_ts(2026, 11, 28, 10, 0, 30);
	setup(10000);
	feed("2026-11-28T10:00:00 mx postfix/smtpd[1]: connect from a[192.0.2.1]");
	feed("2026-11-28T10:00:01 mx postfix/smtpd[2]: connect from b[192.0.2.2]");
	/* one forged line: counted, and it moves no clock */
	feed("2099-01-01T00:00:00 mx postfix/smtpd[3]: connect from c[192.0.2.3]");
	check(get0(M_FUTURE_LINES) == 1);
	check(ingest_last_event_usec(in) == local_ts(2026, 11, 28, 10, 0, 1));
	check(get0(M_SESSIONS_EXPIRED) == 0);
	check(get0(M_SESSIONS_OPEN) == 3);
	/* a line from the past does not move the clock back either */
	feed("1999-01-01T00:00:00 mx postfix/smtpd[4]: connect from d[192.0.2.4]");
	check(ingest_last_event_usec(in) == local_ts(2026, 11, 28, 10, 0, 1));
	/* the sessions in flight end normally, and age expiry still runs */
	feed("2026-11-28T10:00:02 mx postfix/smtpd[1]: disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2");
	Slice l[] = { SLICE_LIT("postfix"), SLICE_LIT("plaintext"), SLICE_LIT("false") };
	check(store_get(store, M_INBOUND_SESSIONS, l) == 1);
	fake_now = local_ts(2026, 11, 28, 12, 0, 30);
	feed("2026-11-28T12:00:00 mx postfix/smtpd[9]: connect from z[192.0.2.9]");
	check(get0(M_SESSIONS_EXPIRED) == 3);
	check(get0(M_SESSIONS_OPEN) == 1);
	/* a log ahead of the wall clock by less than the slack is not "future" */
	feed("2026-11-28T13:00:00 mx postfix/smtpd[9]: disconnect from z[192.0.2.9] ehlo=1 quit=1 commands=2");
	check(ingest_last_event_usec(in) == local_ts(2026, 11, 28, 13, 0, 0));
	check(get0(M_FUTURE_LINES) == 1);
	teardown();
}

static void test_health_not_capped(void)
{
	/* the limit is reached by the log before the first scrape */
	fake_now = local_ts(2026, 11, 28, 10, 0, 30);
	setup(64);
	require(procstat_register(store) == 0);
	char line[256];
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line),
			 "2026-11-28T10:00:00 mx postfix/smtp[%d]: Trusted TLS connection established to m[192.0.2.7]:25: "
			 "TLSv1.2 with cipher CIPHER-%d (256/256 bits)", 100 + i, i);
		feed(line);
	}
	check(store_series_dropped(store) > 0);
	Buf out = BUF_NULL;
	require(expo_render(store, EXPO_TEXT, false, &out) == 0);
	const char *text = buf_cstr(&out);
	check_contains(text, "\npostfix_tls_exporter_lines_read_total 200\n");
	check_contains(text, "\npostfix_tls_exporter_series_dropped_total ");
	check(!strstr(text, "\npostfix_tls_exporter_series_dropped_total 0\n"));
	check_contains(text, "\npostfix_tls_exporter_last_event_timestamp_seconds 1");
	check_contains(text, "\nprocess_open_fds ");
	buf_deinit(&out);
	teardown();
}

int main(void)
{
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	test_run(test_new_year);
	test_run(test_future_line);
	test_run(test_health_not_capped);
	return test_exit();
}

/*
 * test-store.c - store semantics and both exposition formats, byte for byte.
 */
#include "../harness.h"

#include "expo.h"
#include "store.h"

static const FamilyDesc fams[] = {
	{ "t_events_total", "Events.\nSecond line with \\ backslash.", METRIC_COUNTER, 2, { "kind", "peer" } },
	{ "t_temperature", "A gauge.", METRIC_GAUGE, 0, { 0 } },
	{ "t_empty_total", "Never touched.", METRIC_COUNTER, 1, { "x" } },
};

static void test_text(void)
{
	Store *s;
	require(store_new(&s, fams, 3, 100) == 0);
	Slice a[] = { SLICE_LIT("b"), SLICE_LIT("q\"uote\\back\nnl") };
	Slice b[] = { SLICE_LIT("a"), SLICE_LIT("z") };
	check(store_add(s, 0, a, 1) == 0);
	check(store_add(s, 0, a, 2) == 0);
	check(store_add(s, 0, b, 1) == 0);
	check(store_get(s, 0, a) == 3);
	check(store_get(s, 0, b) == 1);
	check(store_n_series(s) == 2);
	Buf out = BUF_NULL;
	check(expo_render(s, EXPO_TEXT, false, &out) == 0);
	const char *want =
		"# HELP t_events_total Events.\\nSecond line with \\\\ backslash.\n"
		"# TYPE t_events_total counter\n"
		"t_events_total{kind=\"a\",peer=\"z\"} 1\n"
		"t_events_total{kind=\"b\",peer=\"q\\\"uote\\\\back\\nnl\"} 3\n"
		"# HELP t_temperature A gauge.\n"
		"# TYPE t_temperature gauge\n"
		"t_temperature 0\n";
	check_str(buf_cstr(&out), want);

	buf_clear(&out);
	store_set(s, 1, NULL, 21.5);
	check(expo_render(s, EXPO_OPENMETRICS, false, &out) == 0);
	const char *want_om =
		"# HELP t_events Events.\\nSecond line with \\\\ backslash.\n"
		"# TYPE t_events counter\n"
		"t_events_total{kind=\"a\",peer=\"z\"} 1\n"
		"t_events_total{kind=\"b\",peer=\"q\\\"uote\\\\back\\nnl\"} 3\n"
		"# HELP t_temperature A gauge.\n"
		"# TYPE t_temperature gauge\n"
		"t_temperature 21.5\n"
		"# EOF\n";
	check_str(buf_cstr(&out), want_om);
	buf_deinit(&out);
	store_free(s);
}

static void test_limit(void)
{
	Store *s;
	require(store_new(&s, fams, 3, 3) == 0);
	char v[16];
	for (int i = 0; i < 5; i++) {
		snprintf(v, sizeof(v), "p%d", i);
		Slice l[] = { SLICE_LIT("k"), slice_from(v) };
		int r = store_add(s, 0, l, 1);
		check(r == (i < 3 ? 0 : STORE_FULL));
	}
	check(store_n_series(s) == 3);
	check(store_series_dropped(s) == 2);
	/* existing series still count when full */
	Slice l0[] = { SLICE_LIT("k"), SLICE_LIT("p0") };
	check(store_add(s, 0, l0, 1) == 0 && store_get(s, 0, l0) == 2);
	/* over-long label values are cut, and the cut value is one series */
	store_reset_family(s, 0);
	check(store_n_series(s) == 0);
	char big[400];
	memset(big, 'x', sizeof(big));
	Slice lb[] = { SLICE_LIT("k"), { big, sizeof(big) } };
	Slice lc[] = { SLICE_LIT("k"), { big, sizeof(big) - 1 } };
	check(store_add(s, 0, lb, 1) == 0 && store_add(s, 0, lc, 1) == 0);
	check(store_n_series(s) == 1 && store_get(s, 0, lb) == 2);
	store_free(s);
}

static void test_many(void)
{
	/* growth and lookups stay exact across rehashes */
	Store *s;
	require(store_new(&s, fams, 3, 100000) == 0);
	char v[16];
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 5000; i++) {
			snprintf(v, sizeof(v), "%d", i);
			Slice l[] = { SLICE_LIT("k"), slice_from(v) };
			check(store_add(s, 0, l, 1) == 0);
		}
	for (int i = 0; i < 5000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		Slice l[] = { SLICE_LIT("k"), slice_from(v) };
		check(store_get(s, 0, l) == 3);
	}
	check(store_n_series(s) == 5000);
	store_free(s);
}

int main(void)
{
	test_run(test_text);
	test_run(test_limit);
	test_run(test_many);
	return test_exit();
}

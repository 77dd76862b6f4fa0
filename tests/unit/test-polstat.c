/*
 * test-polstat.c - every form pol_stats_format() writes, from the
 * smtp_log_tls_feature_status examples in Postfix 3.11's postconf(5), and
 * names no release writes.
 */
#include "../harness.h"

#include "polstat.h"

static void expect(const char *field, const char *const *want)
{
	Slice f = slice_from(field);
	PolStat ps;
	unsigned n = 0;
	for (; polstat_next(&f, &ps); n++, want += 4) {
		check(want[0]);
		check_str(ps.feature, want[0]);
		check_str(ps.level, want[1]);
		check_str(ps.final, want[2]);
		check_str(ps.state, want[3]);
	}
	check(want[0] == NULL);
	check(n > 0);
}

#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_forms(void)
{
	expect("none", W("security_level", "none", "none", "satisfied"));
	expect("may", W("security_level", "may", "may", "satisfied"));
	expect("may?", W("security_level", "may", "may", "undecided"));
	expect("may:none", W("security_level", "may", "none", "downgraded"));
	expect("dane", W("security_level", "dane", "dane", "satisfied"));
	expect("dane:halfdane", W("security_level", "dane", "halfdane", "downgraded"));
	expect("dane:encrypt", W("security_level", "dane", "encrypt", "downgraded"));
	expect("dane?", W("security_level", "dane", "dane", "undecided"));
	expect("!secure", W("security_level", "secure", "secure", "blocked"));
	expect("unknown", W("security_level", "unknown", "unknown", "satisfied"));
	expect("verify/requiretls",
	       W("security_level", "verify", "verify", "satisfied", "requiretls", "requiretls", "requiretls", "satisfied"));
	expect("dane-only/!requiretls:nocertmatch",
	       W("security_level", "dane-only", "dane-only", "satisfied", "requiretls", "requiretls", "nocertmatch", "blocked"));
	expect("may/requiretls:nocertmatch",
	       W("security_level", "may", "may", "satisfied", "requiretls", "requiretls", "nocertmatch", "downgraded"));
	expect("may?/!requiretls:nostarttls",
	       W("security_level", "may", "may", "undecided", "requiretls", "requiretls", "nostarttls", "blocked"));
	/* closed label set: anything else is "other" */
	expect("(may)", W("security_level", "other", "other", "satisfied"));
	expect("disabled:may", W("security_level", "other", "may", "downgraded"));
	expect("mta-sts:none", W("security_level", "other", "none", "downgraded"));
	Slice empty = SLICE_NULL;
	PolStat ps;
	check(!polstat_next(&empty, &ps));
}

int main(void)
{
	test_run(test_forms);
	return test_exit();
}

/*
 * test-errors.c - start-up errors come back as negative errno plus a
 * malloc'd message the caller owns. A rule with a typo used to hand back a
 * pointer into the freed parser (heap-use-after-free under ASan); these
 * tests build parsers from broken rules and check the exact message, and
 * run clean under -Db_sanitize=address,undefined.
 */
#include "../harness.h"

#include <errno.h>

#include "ingest.h"
#include "macro.h"
#include "metrics.h"
#include "parse.h"
#include "rules.h"

/* A rule with one ')' missing, as the next person adding a wording may write it. */
static const Rule broken[] = {
	{ .id = 0, .name = "connect", .daemons = DAEMON_SMTPD, .prefix = "connect from ",
	  .pattern = "^connect from (?<peer>\\S+$" },
};

static void test_broken_rule(void)
{
	Parser *p = NULL;
	char *err = NULL;
	require(parser_new_table(&p, broken, ELEMENTSOF(broken), &err) == -EINVAL);
	require(p == NULL);
	check_str(err, "rule connect: missing closing parenthesis at offset 26");
	free(err);

	/* callers that want only the errno */
	require(parser_new_table(&p, broken, ELEMENTSOF(broken), NULL) == -EINVAL);
	require(p == NULL);
}

/* The real table with one ')' removed from the connect rule: the broken
 * rule sits among good ones, so the parser is half built when it fails. */
static void test_table_with_typo(void)
{
	static Rule table[_R_MAX];
	memcpy(table, rules, sizeof(table));
	const char *pat = rules[R_CONNECT].pattern;
	const char *close = strrchr(pat, ')');
	require(close);
	char typo[256];
	size_t n = strlen(pat);
	require(n < sizeof(typo));
	memcpy(typo, pat, (size_t)(close - pat));
	memcpy(typo + (close - pat), close + 1, n - (size_t)(close - pat));
	table[R_CONNECT].pattern = typo;

	Parser *p = NULL;
	char *err = NULL;
	require(parser_new_table(&p, table, _R_MAX, &err) == -EINVAL);
	require(p == NULL);
	char want[128];
	snprintf(want, sizeof(want), "rule connect: missing closing parenthesis at offset %zu", strlen(typo));
	check_str(err, want);
	free(err);

	/* the intact table compiles and leaves no message */
	err = (char *)"stale";
	require(parser_new_table(&p, rules, _R_MAX, &err) == 0);
	require(err == NULL);
	parser_free(p);
}

static void test_too_many_rules(void)
{
	Parser *p = NULL;
	char *err = NULL;
	require(parser_new_table(&p, rules, _R_MAX + 1, &err) == -EINVAL);
	require(p == NULL && err && strstr(err, "rules, at most"));
	free(err);
}

static void test_bad_syslog_name(void)
{
	Store *store = NULL;
	require(store_new(&store, metrics_families, _M_MAX, 100) == 0);
	IngestConfig c = INGEST_CONFIG_DEFAULT;
	c.syslog_name_regex = "postfix(";
	Ingest *in = NULL;
	char *err = NULL;
	require(ingest_new(&in, store, &c, &err) == -EINVAL);
	require(in == NULL);
	check_str(err, "--postfix.syslog-name='postfix(': missing closing parenthesis at offset 8");
	free(err);

	c.syslog_name_regex = "^postfix";
	err = (char *)"stale";
	require(ingest_new(&in, store, &c, &err) == 0);
	require(err == NULL);
	ingest_free(in);
	store_free(store);
}

int main(void)
{
	test_run(test_broken_rule);
	test_run(test_table_with_typo);
	test_run(test_too_many_rules);
	test_run(test_bad_syslog_name);
	return test_exit();
}

/*
 * flags.c - parse kingpin-style flags from tables, print --help from them.
 *
 * DESCRIPTION
 *	--name=value, --name value, and for booleans --name, --name=true|false
 *	and --no-name. Defaults go through the same parser as given values, so
 *	a default that does not parse is a bug in a table (abort()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "util.h"

#define for_each_flag(fl, tables) \
	for (const Flag *const *t_ = (tables); *t_; t_++) \
		for (const Flag *fl = *t_; fl->name; fl++)

int strlist_add(StrList *l, const char *v)
{
	char **n = realloc(l->v, (l->n + 2) * sizeof(char *));
	if (!n)
		return -ENOMEM;
	l->v = n;
	l->v[l->n++] = (char *)v;
	l->v[l->n] = NULL;
	return 0;
}

/* flag_range - "1 to 10000", "1h to 366d", "at least 64" into b; false when the flag has none */
static bool flag_range(const Flag *fl, char *b, size_t n)
{
	if (!fl->min && !fl->max)
		return false;
	char lo[32], hi[32];
	if (fl->type == FLAG_DURATION) {
		format_duration((int64_t)fl->min, lo, sizeof(lo));
		format_duration((int64_t)fl->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)fl->min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)fl->max);
	}
	if (fl->max)
		snprintf(b, n, "%s to %s", lo, hi);
	else
		snprintf(b, n, "at least %s", lo);
	return true;
}

/* flag_set - store val into the flag's variable; -EINVAL if it does not
 * parse, -ERANGE if it is outside the flag's range */
static int flag_set(const Flag *fl, const char *val)
{
	uint64_t u;
	int64_t d;
	int r;
	switch (fl->type) {
	case FLAG_STRING:
		*(const char **)fl->ptr = val;
		return 0;
	case FLAG_LIST:
		return strlist_add(fl->ptr, val);
	case FLAG_BOOL:
		if (strcmp(val, "true") && strcmp(val, "false"))
			return -EINVAL;
		*(bool *)fl->ptr = !strcmp(val, "true");
		return 0;
	case FLAG_U64:
		if ((r = parse_u64(val, &u)) < 0)
			return r;
		if (u < fl->min || (fl->max && u > fl->max))
			return -ERANGE;
		*(uint64_t *)fl->ptr = u;
		return 0;
	case FLAG_DURATION:
		if ((r = parse_duration_usec(val, &d)) < 0)
			return r;
		if ((uint64_t)d < fl->min || (fl->max && (uint64_t)d > fl->max))
			return -ERANGE;
		*(int64_t *)fl->ptr = d;
		return 0;
	}
	return -EINVAL;
}

/* flag_value_error - the one-line usage error for a value flag_set() refused */
static void flag_value_error(const Flag *fl, const char *val, int r)
{
	char range[80];
	bool ranged = flag_range(fl, range, sizeof(range));
	const char *what = r == -ERANGE && !ranged ? "too large"
		: r == -ERANGE			  ? "out of range"
		: fl->type == FLAG_U64		  ? "not a whole number"
		: fl->type == FLAG_DURATION	  ? "not a duration"
						  : "invalid value";
	fprintf(stderr, "postfix_tls_exporter: --%s=%s: %s (accepted: %s%s%s%s)\n", fl->name, val, what,
		fl->placeholder ? fl->placeholder : "a value", ranged ? " from " : "", ranged ? range : "",
		fl->type == FLAG_DURATION ? ", " DURATION_EXAMPLES : "");
}

static void flags_defaults(const Flag *const *tables, bool lists)
{
	for_each_flag(fl, tables) {
		if (!fl->def || (fl->type == FLAG_LIST) != lists)
			continue;
		if (lists && ((StrList *)fl->ptr)->n)
			continue;
		if (flag_set(fl, fl->def) < 0)
			abort();
	}
}

/* flag_find - the flag named by name[0..nl), also as "no-NAME" for booleans */
static const Flag *flag_find(const Flag *const *tables, const char *name, size_t nl, bool report, bool *ret_negated)
{
	for_each_flag(fl, tables) {
		if (report && !fl->report)
			continue;
		size_t l = strlen(fl->name);
		if (l == nl && strncmp(fl->name, name, nl) == 0) {
			*ret_negated = false;
			return fl;
		}
		if (fl->type == FLAG_BOOL && nl == l + 3 && strncmp(name, "no-", 3) == 0 &&
		    strncmp(name + 3, fl->name, nl - 3) == 0) {
			*ret_negated = true;
			return fl;
		}
	}
	return NULL;
}

int flags_parse(const Flag *const *tables, int argc, char **argv, bool report, StrList *positional)
{
	flags_defaults(tables, false);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		/* "report -h" would otherwise be read as a file named -h */
		if (!strcmp(a, "-h"))
			a = "--help";
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (report || !strcmp(a, "-")) {
				if (strlist_add(positional, a) < 0)
					return -ENOMEM;
				continue;
			}
			fprintf(stderr, "postfix_tls_exporter: unexpected argument '%s' (see --help)\n", a);
			return -EINVAL;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		bool negated;
		const Flag *fl = flag_find(tables, name, nl, report, &negated);
		if (!fl) {
			fprintf(stderr, "postfix_tls_exporter: unknown flag '--%.*s' (see --help)\n", (int)nl, name);
			return -EINVAL;
		}
		const char *val = eq ? eq + 1 : NULL;
		if (fl->type == FLAG_BOOL) {
			if (val && strcmp(val, "true") && strcmp(val, "false")) {
				fprintf(stderr, "postfix_tls_exporter: --%s takes true or false, not '%s'\n", fl->name, val);
				return -EINVAL;
			}
			*(bool *)fl->ptr = negated ? false : !(val && !strcmp(val, "false"));
		} else {
			if (!val) {
				if (i + 1 >= argc) {
					fprintf(stderr, "postfix_tls_exporter: --%s needs a value (%s)\n", fl->name,
						fl->placeholder);
					return -EINVAL;
				}
				val = argv[++i];
			}
			int r = flag_set(fl, val);
			if (r == -ENOMEM)
				return r;
			if (r < 0) {
				flag_value_error(fl, val, r);
				return -EINVAL;
			}
		}
		if (fl->given)
			*fl->given = true;
	}
	flags_defaults(tables, true);
	return 0;
}

void flags_usage(const Flag *const *tables, FILE *f, bool report)
{
	for_each_flag(fl, tables) {
		if (report && !fl->report)
			continue;
		char left[96];
		if (fl->placeholder)
			snprintf(left, sizeof(left), "--%s=%s", fl->name, fl->placeholder);
		else
			snprintf(left, sizeof(left), "--%s", fl->name);
		const char *mark = fl->def ? strstr(fl->help, "{}") : NULL;
		char range[80], def[128];
		bool ranged = flag_range(fl, range, sizeof(range));
		if (mark && ranged)
			snprintf(def, sizeof(def), "%s; %s", fl->def, range);
		else if (mark)
			snprintf(def, sizeof(def), "%s", fl->def);
		if (mark)
			fprintf(f, "  %-44s %.*s%s%s\n", left, (int)(mark - fl->help), fl->help, def, mark + 2);
		else if (ranged)
			fprintf(f, "  %-44s %s (accepted %s)\n", left, fl->help, range);
		else
			fprintf(f, "  %-44s %s\n", left, fl->help);
	}
}

void flags_free(const Flag *const *tables)
{
	for_each_flag(fl, tables)
		if (fl->type == FLAG_LIST) {
			StrList *l = fl->ptr;
			free(l->v);
			*l = (StrList){ 0 };
		}
}

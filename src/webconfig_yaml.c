/*
 * webconfig_yaml.c - the web configuration's YAML, walked into a Raw
 *
 * DESCRIPTION
 *      libyaml's event API against a fixed schema: a table of WebField
 *      {key, type, offset} per mapping, the way exporter-toolkit's Go structs
 *      carry yaml tags. Each value is checked for its shape only (string,
 *      boolean, list, mapping) and stored as text with its line; what the
 *      values mean is checked afterwards, across keys, by the TLS, header
 *      and user code. Adding a key is one line in the table and one field
 *      in Raw.
 *
 * LIMITS
 *      WEBCONFIG_LIST_MAX items per list; a mapping field's max entries; at
 *      most 64 keys per mapping (the duplicate check is a bit set).
 *
 * SECURITY
 *      Aliases are refused (no billion-laughs expansion); strings with a NUL
 *      byte are refused; user text in messages goes through webconfig_quote().
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "webconfig_int.h"

typedef struct Parser {
	yaml_parser_t yaml;
	yaml_event_t ev;
	bool have_ev;
	WebLoad *load;
	size_t key_line; /* line of the key whose value is being read */
} Parser;

static int next(Parser *p)
{
	if (p->have_ev)
		yaml_event_delete(&p->ev);
	p->have_ev = false;
	if (!yaml_parser_parse(&p->yaml, &p->ev)) {
		if (p->yaml.error == YAML_MEMORY_ERROR)
			return -ENOMEM;
		/* libyaml's problem and context texts are its own constant strings. */
		return webconfig_fail(p->load, p->yaml.problem_mark.line + 1, NULL,
				      "YAML syntax error at column %zu: %s%s%s%s; fix the YAML syntax",
				      p->yaml.problem_mark.column + 1,
				      p->yaml.problem ? p->yaml.problem : "unknown error", p->yaml.context ? " (" : "",
				      p->yaml.context ? p->yaml.context : "", p->yaml.context ? ")" : "");
	}
	p->have_ev = true;
	return 0;
}

/* next_item - the next event of a list or mapping: 1 an item, 0 its end event. */
static int next_item(Parser *p, yaml_event_type_t end)
{
	int r = next(p);
	if (r < 0)
		return r;
	return p->ev.type != end;
}

static size_t ev_line(const Parser *p)
{
	return p->ev.start_mark.line + 1;
}

static const char *ev_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "something else";
	}
}

/* An alias could expand exponentially (billion laughs) and the schema never needs one. */
static int refuse_alias(Parser *p, const char *key)
{
	return webconfig_fail(p->load, ev_line(p), key, "YAML aliases (*name) are not supported; write the value out");
}

static bool is_null(const yaml_event_t *ev)
{
	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* read_str - the current event is a value that must be a string (or null). */
static int read_str(Parser *p, const char *key, Val *ret)
{
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (p->ev.type != YAML_SCALAR_EVENT)
		return webconfig_fail(p->load, ev_line(p), key, "expected a string, found %s; write a single value",
				      ev_kind(&p->ev));
	ret->line = ev_line(p);
	if (is_null(&p->ev)) {
		ret->s = NULL;
		return 0;
	}
	const char *v = (const char *)p->ev.data.scalar.value;
	size_t n = p->ev.data.scalar.length;
	if (memchr(v, '\0', n))
		return webconfig_fail(p->load, ret->line, key, "the value contains a NUL byte; remove it");
	ret->s = strndup(v, n);
	return ret->s ? 0 : -ENOMEM;
}

/* read_opt_str - like read_str, but "" means unset, as for Go's string fields. */
static int read_opt_str(Parser *p, const char *key, Val *ret)
{
	int r = read_str(p, key, ret);
	if (r >= 0 && ret->s && !ret->s[0]) {
		free(ret->s);
		ret->s = NULL;
	}
	return r;
}

/* read_bool - YAML 1.1 booleans as Go's yaml.v2 reads them; quoted strings are not booleans. */
static int read_bool(Parser *p, const char *key, Flag *ret)
{
	static const char *const yes[] = { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
	static const char *const no[] = { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (p->ev.type == YAML_SCALAR_EVENT && p->ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		const char *v = (const char *)p->ev.data.scalar.value;
		for (size_t i = 0; i < ELEMENTSOF(yes); i++)
			if (!strcmp(v, yes[i])) {
				*ret = (Flag){ .set = true, .value = true };
				return 0;
			}
		for (size_t i = 0; i < ELEMENTSOF(no); i++)
			if (!strcmp(v, no[i])) {
				*ret = (Flag){ .set = true, .value = false };
				return 0;
			}
	}
	if (p->ev.type == YAML_SCALAR_EVENT) {
		char q[QUOTE_MAX];
		return webconfig_fail(p->load, ev_line(p), key, "invalid value %s; expected true or false (unquoted)",
				      webconfig_quote(q, (const char *)p->ev.data.scalar.value,
						      p->ev.data.scalar.length));
	}
	return webconfig_fail(p->load, ev_line(p), key, "expected true or false, found %s", ev_kind(&p->ev));
}

/* read_list - a list of strings; null or [] give an empty list. */
static int read_list(Parser *p, const char *key, ValList *ret)
{
	ret->present = true;
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_SEQUENCE_START_EVENT)
		return webconfig_fail(p->load, ev_line(p), key,
				      "expected a list, found %s; write one item per line as '- NAME'",
				      ev_kind(&p->ev));
	int r;
	while ((r = next_item(p, YAML_SEQUENCE_END_EVENT)) > 0) {
		char path[128 + 24]; /* key is at most 127 bytes (read_mapping) */
		snprintf(path, sizeof(path), "%s[%zu]", key, ret->n);
		if (ret->n >= WEBCONFIG_LIST_MAX)
			return webconfig_fail(p->load, ev_line(p), key, "more than %d items; shorten the list",
					      WEBCONFIG_LIST_MAX);
		Val v = { 0 };
		r = read_str(p, path, &v);
		if (r < 0)
			return r;
		if (!v.s || !v.s[0]) {
			free(v.s);
			return webconfig_fail(p->load, v.line, path, "empty list item; remove it");
		}
		Val *n = realloc(ret->v, (ret->n + 1) * sizeof(Val));
		if (!n) {
			free(v.s);
			return -ENOMEM;
		}
		ret->v = n;
		n[ret->n++] = v;
	}
	return r;
}

/* read_map - string-to-string mapping with unique keys; null or {} give an empty map. */
static int read_map(Parser *p, const char *key, size_t max, PairList *ret)
{
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, key);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_MAPPING_START_EVENT)
		return webconfig_fail(p->load, ev_line(p), key, "expected a mapping of 'name: value' lines, found %s",
				      ev_kind(&p->ev));
	int r;
	while ((r = next_item(p, YAML_MAPPING_END_EVENT)) > 0) {
		if (ret->n >= max)
			return webconfig_fail(p->load, ev_line(p), key, "more than %zu entries; remove some", max);
		Pair e = { { 0 }, { 0 } };
		r = read_str(p, key, &e.key);
		if (r < 0)
			return r;
		if (!e.key.s)
			return webconfig_fail(p->load, e.key.line, key, "empty name; give every entry a name");
		for (size_t i = 0; i < ret->n; i++)
			if (!strcmp(ret->v[i].key.s, e.key.s)) {
				char q[QUOTE_MAX];
				int f = webconfig_fail(p->load, e.key.line, key,
						       "duplicate entry %s (first on line %zu); keep only one",
						       webconfig_quote(q, e.key.s, strlen(e.key.s)),
						       ret->v[i].key.line);
				free(e.key.s);
				return f;
			}
		r = next(p);
		if (r < 0) {
			free(e.key.s);
			return r;
		}
		char path[QUOTE_MAX + 64];
		char q[QUOTE_MAX];
		snprintf(path, sizeof(path), "%s.%s", key, webconfig_quote(q, e.key.s, strlen(e.key.s)));
		r = read_str(p, path, &e.value);
		if (r < 0) {
			free(e.key.s);
			return r;
		}
		Pair *n = realloc(ret->v, (ret->n + 1) * sizeof(Pair));
		if (!n) {
			free(e.key.s);
			free(e.value.s);
			return -ENOMEM;
		}
		ret->v = n;
		n[ret->n++] = e;
	}
	return r;
}
static int read_mapping(Parser *p, const char *section, const WebField *fields, size_t n_fields);

/* read_field - the current event is the value of f; store it in the Raw. */
static int read_field(Parser *p, const WebField *f, const char *path)
{
	void *at = (char *)&p->load->raw + f->offset;

	switch (f->type) {
	case WEB_FIELD_STRING:
		return read_opt_str(p, path, at);
	case WEB_FIELD_BOOL:
		return read_bool(p, path, at);
	case WEB_FIELD_LIST:
		return read_list(p, path, at);
	case WEB_FIELD_MAP:
		return read_map(p, path, f->max, at);
	case WEB_FIELD_SECTION:
		*(size_t *)at = p->key_line;
		return read_mapping(p, path, f->fields, f->n_fields);
	case WEB_FIELD_REFUSED:
		/* Recognised so the message can point at the right replacement. */
		return webconfig_fail(p->load, ev_line(p), path, "%s", f->refusal);
	}
	return -EINVAL;
}

/* key_list - "key, key, ..." for messages; NULL on OOM. */
static char *key_list(const WebField *fields, size_t n_fields)
{
	Buf b = BUF_NULL;
	for (size_t i = 0; i < n_fields; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", fields[i].key);
	return buf_steal(&b, NULL);
}

/* find_field - the field named by the current key event, or NULL. */
static const WebField *find_field(const Parser *p, const WebField *fields, size_t n_fields)
{
	const char *k = (const char *)p->ev.data.scalar.value;
	size_t klen = p->ev.data.scalar.length;
	for (size_t i = 0; i < n_fields; i++)
		if (strlen(fields[i].key) == klen && !memcmp(fields[i].key, k, klen))
			return &fields[i];
	return NULL;
}

/*
 * read_mapping - walk a mapping whose keys come from fields: unknown and
 * duplicate keys are errors (exporter-toolkit uses yaml.UnmarshalStrict,
 * which refuses both). section is the dotted path for messages, "" at the top.
 */
static int read_mapping(Parser *p, const char *section, const WebField *fields, size_t n_fields)
{
	const char *where = section[0] ? section : NULL;
	uint64_t seen = 0;
	size_t seen_line[64] = { 0 };
	_cleanup_free_ char *keys = NULL;

	assert(n_fields <= 64);
	if (p->ev.type == YAML_ALIAS_EVENT)
		return refuse_alias(p, section);
	if (is_null(&p->ev))
		return 0;
	if (p->ev.type != YAML_MAPPING_START_EVENT) {
		keys = key_list(fields, n_fields);
		return webconfig_fail(p->load, ev_line(p), where, "expected a mapping with the keys %s, found %s",
				      keys ? keys : "?", ev_kind(&p->ev));
	}
	int r;
	while ((r = next_item(p, YAML_MAPPING_END_EVENT)) > 0) {
		if (p->ev.type != YAML_SCALAR_EVENT || is_null(&p->ev))
			return webconfig_fail(p->load, ev_line(p), where, "expected a key name, found %s",
					      is_null(&p->ev) ? "an empty key" : ev_kind(&p->ev));
		size_t line = ev_line(p);
		const WebField *f = find_field(p, fields, n_fields);
		if (!f) {
			char q[QUOTE_MAX];
			keys = key_list(fields, n_fields);
			return webconfig_fail(p->load, line, where, "unknown key %s; valid keys here are %s",
					      webconfig_quote(q, (const char *)p->ev.data.scalar.value,
							      p->ev.data.scalar.length),
					      keys ? keys : "?");
		}
		size_t idx = (size_t)(f - fields);
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", section, section[0] ? "." : "", f->key);
		if (seen & (UINT64_C(1) << idx))
			return webconfig_fail(p->load, line, path, "duplicate key (first on line %zu); keep only one",
					      seen_line[idx]);
		seen |= UINT64_C(1) << idx;
		seen_line[idx] = line;
		p->key_line = line;
		r = next(p);
		if (r < 0)
			return r;
		r = read_field(p, f, path);
		if (r < 0)
			return r;
	}
	return r;
}

static int read_document(Parser *p, const WebField *top, size_t n_top)
{
	int r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_STREAM_START_EVENT)
		return webconfig_fail(p->load, 0, NULL, "not a YAML stream");
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type == YAML_STREAM_END_EVENT)
		return 0; /* empty file: plain HTTP, no auth, as exporter-toolkit */
	if (p->ev.type != YAML_DOCUMENT_START_EVENT)
		return webconfig_fail(p->load, ev_line(p), NULL, "expected a YAML document");
	r = next(p);
	if (r < 0)
		return r;
	r = read_mapping(p, "", top, n_top);
	if (r < 0)
		return r;
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_DOCUMENT_END_EVENT)
		return webconfig_fail(p->load, ev_line(p), NULL, "unexpected content after the configuration");
	r = next(p);
	if (r < 0)
		return r;
	if (p->ev.type != YAML_STREAM_END_EVENT)
		return webconfig_fail(p->load, ev_line(p), NULL,
				      "more than one YAML document ('---'); keep a single document");
	return 0;
}

int webconfig_yaml_read(WebLoad *l, const char *data, size_t len, const WebField *top, size_t n_top)
{
	Parser p = { .load = l };

	if (!yaml_parser_initialize(&p.yaml))
		return -ENOMEM;
	yaml_parser_set_input_string(&p.yaml, (const unsigned char *)(data ? data : ""), data ? len : 0);
	int r = read_document(&p, top, n_top);
	if (p.have_ev)
		yaml_event_delete(&p.ev);
	yaml_parser_delete(&p.yaml);
	return r;
}

/* wipe_free - private keys and password hashes are among the values: wipe every one. */
static void wipe_free(char *s)
{
	if (s)
		explicit_bzero(s, strlen(s));
	free(s);
}

void webconfig_yaml_free(Raw *raw, const WebField *fields, size_t n_fields)
{
	for (size_t i = 0; i < n_fields; i++) {
		void *at = (char *)raw + fields[i].offset;
		ValList *vl = at;
		PairList *pl = at;

		switch (fields[i].type) {
		case WEB_FIELD_STRING:
			wipe_free(((Val *)at)->s);
			break;
		case WEB_FIELD_LIST:
			for (size_t j = 0; j < vl->n; j++)
				wipe_free(vl->v[j].s);
			free(vl->v);
			break;
		case WEB_FIELD_MAP:
			for (size_t j = 0; j < pl->n; j++) {
				wipe_free(pl->v[j].key.s);
				wipe_free(pl->v[j].value.s);
			}
			free(pl->v);
			break;
		case WEB_FIELD_SECTION:
			webconfig_yaml_free(raw, fields[i].fields, fields[i].n_fields);
			break;
		case WEB_FIELD_BOOL:
		case WEB_FIELD_REFUSED:
			break;
		}
	}
}

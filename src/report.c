/*
 * report.c - the enforcement-readiness report: the table of formats and
 * the entry point.
 *
 * DESCRIPTION
 *	report_render() computes the model once (report_model.c, with one
 *	builder per section in report_sections.c) and hands it to the
 *	format's writer: report_text.c, report_markdown.c, report_html.c and
 *	report_json.c. The writers only read the model, so text, Markdown and
 *	HTML agree by construction and JSON uses the same figures and ranked
 *	lists.
 *
 *	Output is deterministic: rows are sorted by count (descending) and then
 *	by name; numbers are printed with fixed precision; times are UTC.
 * SECURITY
 *	Everything that came from the log (host and domain names, syslog
 *	names, ciphers, failure reasons, addresses) passes through the
 *	format's escaper: control bytes and non-ASCII become \xHH in text,
 *	backslash-escaped in Markdown, &#xHH; entities in HTML, \u00HH in
 *	JSON. The HTML page has no script and loads nothing.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

static const char *const markdown_aliases[] = { "md", NULL };

const ReportFormatInfo report_formats[_REPORT_FORMAT_MAX] = {
	[REPORT_TEXT] = { REPORT_TEXT, "text", NULL, "text/plain; charset=utf-8", report_render_text },
	[REPORT_JSON] = { REPORT_JSON, "json", NULL, "application/json", report_render_json },
	[REPORT_MARKDOWN] = { REPORT_MARKDOWN, "markdown", markdown_aliases, "text/markdown; charset=utf-8",
			      report_render_markdown },
	[REPORT_HTML] = { REPORT_HTML, "html", NULL, "text/html; charset=utf-8", report_render_html },
};

/* Spelled out because the --help table in main.c needs a constant;
 * report_format_list() checks it against the table. */
const char report_format_choices[] = "text|json|markdown|html";

const ReportFormatInfo *report_format_find(const char *name)
{
	for (unsigned i = 0; i < _REPORT_FORMAT_MAX; i++) {
		const ReportFormatInfo *f = &report_formats[i];
		if (!strcmp(name, f->name))
			return f;
		for (const char *const *a = f->aliases; a && *a; a++)
			if (!strcmp(name, *a))
				return f;
	}
	return NULL;
}

int report_format_from_string(const char *s, ReportFormat *ret)
{
	const ReportFormatInfo *f = report_format_find(s);
	if (!f)
		return -EINVAL;
	*ret = f->id;
	return 0;
}

const char *report_format_list(void)
{
	static char list[128], choices[sizeof(report_format_choices)];
	if (list[0])
		return list;
	size_t o = 0, c = 0;
	for (unsigned i = 0; i < _REPORT_FORMAT_MAX; i++) {
		const char *sep = i == 0 ? "" : i + 1 == _REPORT_FORMAT_MAX ? " or " : ", ";
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", sep, report_formats[i].name);
		c += (size_t)snprintf(choices + c, sizeof(choices) - c, "%s%s", i ? "|" : "", report_formats[i].name);
		assert(o < sizeof(list) && c < sizeof(choices));
	}
	assert(!strcmp(choices, report_format_choices));
	return list;
}

int report_render(Peers *p, ReportFormat fmt, int64_t now_usec, int64_t window_usec, Buf *out)
{
	if (!p || (unsigned)fmt >= _REPORT_FORMAT_MAX)
		return -EINVAL;
	ReportModel *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	int r = report_model_build(m, p, now_usec, window_usec);
	if (r >= 0)
		r = report_formats[fmt].render(m, out);
	if (r >= 0)
		r = buf_error(out);
	report_model_free(m);
	free(m);
	return r;
}

/*
 * report.h - the enforcement-readiness report, rendered from a Peers table
 * as text, JSON, Markdown or HTML. The same code serves /report and the
 * "report" subcommand.
 */
#pragma once

#include "buf.h"
#include "peers.h"

typedef enum ReportFormat {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_MARKDOWN,
	REPORT_HTML,
} ReportFormat;

int report_format_from_string(const char *s, ReportFormat *ret);
/* report_render - append the report to out. now_usec is the end of the window. */
int report_render(Peers *p, ReportFormat fmt, int64_t now_usec, Buf *out);

/* report.c - placeholder until the readiness report lands. */
#include <errno.h>
#include <string.h>

#include "report.h"

int report_format_from_string(const char *s, ReportFormat *ret)
{
	if (!strcmp(s, "text"))
		*ret = REPORT_TEXT;
	else if (!strcmp(s, "json"))
		*ret = REPORT_JSON;
	else if (!strcmp(s, "markdown"))
		*ret = REPORT_MARKDOWN;
	else if (!strcmp(s, "html"))
		*ret = REPORT_HTML;
	else
		return -EINVAL;
	return 0;
}

int report_render(Peers *p, ReportFormat fmt, int64_t now_usec, Buf *out)
{
	return buf_puts(out, "report not available yet\n");
}

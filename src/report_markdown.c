/*
 * report_markdown.c - the report as Markdown: headings, pipe tables with
 * right-aligned number columns, the policy snippet in a fenced block.
 *
 * SECURITY
 *	Strings from the log are backslash-escaped where Markdown would read
 *	them (emphasis, links, HTML, table pipes); control bytes and non-ASCII
 *	become \\xHH. The fenced block uses the text escaper, so no backtick
 *	can close it.
 */
#include <string.h>

#include "report_int.h"

static void esc_md(Buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\\\x%02x", c);
		else if (strchr("\\`*_{}[]<>#+!|~&", c))
			buf_printf(b, "\\%c", c);
		else
			buf_putc(b, (char)c);
	}
}

static void md_table(Buf *b, const ReportSection *s)
{
	buf_putc(b, '|');
	for (unsigned k = 0; k < s->ncols; k++) {
		buf_putc(b, ' ');
		esc_md(b, s->cols[k].title);
		buf_puts(b, " |");
	}
	buf_puts(b, "\n|");
	for (unsigned k = 0; k < s->ncols; k++)
		buf_puts(b, report_col_right(&s->cols[k]) ? " ---: |" : " --- |");
	buf_putc(b, '\n');
	for (size_t r = 0; r < s->nrows; r++) {
		buf_putc(b, '|');
		for (unsigned k = 0; k < s->ncols; k++) {
			char tmp[64];
			buf_putc(b, ' ');
			esc_md(b, report_cell_format(s, r, k, tmp, sizeof(tmp)));
			buf_puts(b, " |");
		}
		buf_putc(b, '\n');
	}
	if (s->more)
		buf_printf(b, "\n_... and %zu more (see `--format json`)_\n", s->more);
}

static void md_section(Buf *b, const ReportSection *s)
{
	buf_puts(b, "\n## ");
	esc_md(b, s->title);
	buf_puts(b, "\n\n");
	if (s->intro) {
		esc_md(b, s->intro);
		buf_puts(b, "\n\n");
	}
	if (s->code) {
		buf_puts(b, "```\n");
		/* line by line: the newlines are the block's own; anything else
		 * outside printable ASCII (and backslash) as \xHH keeps the fence intact */
		for (const char *l = s->code; *l;) {
			size_t n = strcspn(l, "\n");
			report_esc_text_n(b, l, n);
			buf_putc(b, '\n');
			l += n + (l[n] == '\n');
		}
		buf_puts(b, "```\n");
	} else if (s->ncols && s->nrows == 0)
		buf_printf(b, "_%s_\n", s->empty);
	else if (s->ncols)
		md_table(b, s);
}

int report_render_markdown(const ReportModel *m, Buf *b)
{
	buf_puts(b, "# Postfix TLS enforcement readiness report\n\n**Window:** ");
	esc_md(b, m->window);
	buf_puts(b, "\n\n## Verdict\n\n");
	if (m->n_verdict == 0)
		buf_puts(b, "- no inbound mail in the window: nothing to judge\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		buf_puts(b, "- **");
		esc_md(b, m->verdict[i].text);
		buf_puts(b, "**\n");
	}
	for (size_t i = 0; i < m->n_sec; i++)
		md_section(b, &m->sec[i]);
	return 0;
}

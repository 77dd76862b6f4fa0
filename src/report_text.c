/*
 * report_text.c - the report as plain text: aligned columns, counts and
 * percentages right-aligned, trailing blanks trimmed.
 *
 * SECURITY
 *	Strings from the log go through report_esc_text(): control bytes,
 *	non-ASCII and backslash become \xHH, so a terminal shows them and
 *	does not interpret them. Column widths count the escaped form.
 */
#include <string.h>

#include "report_int.h"

static size_t text_width(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '\\') ? 4 : 1;
	return n;
}

/* text_code - a preformatted block, indented by four spaces */
static void text_code(Buf *b, const char *code)
{
	for (const char *l = code; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		buf_puts(b, "    ");
		report_esc_text_n(b, l, len);
		buf_putc(b, '\n');
		l += len + (nl ? 1 : 0);
	}
}

static void text_row(Buf *b, const ReportSection *s, size_t r, const size_t *w)
{
	size_t line_start = b->len;
	buf_puts(b, " ");
	for (unsigned k = 0; k < s->ncols; k++) {
		char tmp[64];
		const char *cell = r == 0 ? s->cols[k].title : report_cell_format(s, r - 1, k, tmp, sizeof(tmp));
		size_t cw = text_width(cell);
		bool last = k + 1 == s->ncols, right = report_col_right(&s->cols[k]);
		buf_putc(b, ' ');
		if (right)
			for (size_t x = cw; x < w[k]; x++)
				buf_putc(b, ' ');
		report_esc_text(b, cell);
		if (!right && !last)
			for (size_t x = cw; x < w[k]; x++)
				buf_putc(b, ' ');
		if (!last)
			buf_putc(b, ' ');
	}
	/* a failed Buf may have fewer bytes than line_start: leave it alone */
	while (!buf_error(b) && b->len > line_start && b->data[b->len - 1] == ' ')
		b->len--;
	buf_putc(b, '\n');
}

static void text_table(Buf *b, const ReportSection *s)
{
	size_t w[REPORT_COLS_MAX]; /* ncols is bounded by report_section_new() */
	for (unsigned k = 0; k < s->ncols; k++) {
		w[k] = strlen(s->cols[k].title);
		for (size_t r = 0; r < s->nrows; r++) {
			char tmp[64];
			w[k] = MAX(w[k], text_width(report_cell_format(s, r, k, tmp, sizeof(tmp))));
		}
	}
	for (size_t r = 0; r <= s->nrows; r++)
		text_row(b, s, r, w);
	if (s->more)
		buf_printf(b, "  ... and %zu more (see --format json)\n", s->more);
}

static void text_section(Buf *b, const ReportSection *s)
{
	buf_printf(b, "\n%s\n", s->title);
	for (size_t k = strlen(s->title); k > 0; k--)
		buf_putc(b, '-');
	buf_putc(b, '\n');
	if (s->intro) {
		report_esc_text(b, s->intro);
		buf_putc(b, '\n');
	}
	if (s->code)
		text_code(b, s->code);
	else if (s->ncols && s->nrows == 0)
		buf_printf(b, "  (%s)\n", s->empty);
	else if (s->ncols)
		text_table(b, s);
}

int report_render_text(const ReportModel *m, Buf *b)
{
	buf_puts(b, "Postfix TLS enforcement readiness report\n");
	buf_puts(b, "Window: ");
	report_esc_text(b, m->window);
	buf_puts(b, "\n\nVerdict:\n");
	if (m->n_verdict == 0)
		buf_puts(b, "  no inbound mail in the window: nothing to judge\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		buf_puts(b, "  ");
		report_esc_text(b, m->verdict[i].text);
		buf_putc(b, '\n');
	}
	for (size_t i = 0; i < m->n_sec; i++)
		text_section(b, &m->sec[i]);
	return 0;
}

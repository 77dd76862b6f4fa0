/*
 * report_html.c - the report as one self-contained HTML page: inline CSS,
 * inline SVG charts (plaintext share per day, protocol mix), a table per
 * section.
 *
 * SECURITY
 *	Strings from the log are entity-escaped (&<>"' and &#xHH; for
 *	control bytes and non-ASCII). The page has no script and loads no
 *	external resource; the only links are anchors and ?format=json.
 */
#include <string.h>

#include "report_int.h"

static void esc_html(Buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default:
			if (c < 0x20 || c >= 0x7f)
				buf_printf(b, "&#x%02x;", c);
			else
				buf_putc(b, (char)c);
		}
	}
}


static void svg_days(const ReportModel *m, Buf *b)
{
	const PeersTotals *T = &m->T;
	unsigned n = T->n_days - m->first_day;
	unsigned bw = 36, gap = 10, h = 120, left = 40, top = 10;
	unsigned wdt = MAX(left + n * (bw + gap) + 10, 330u);
	buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"days-t\" width=\"%u\" height=\"%u\" "
		      "viewBox=\"0 0 %u %u\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		      "<title id=\"days-t\">Plaintext share of sessions (light) and of mail sessions (dark) per day</title>\n",
		   wdt, h + top + 46, wdt, h + top + 46);
	buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" class=\"bar1\"/>"
		      "<text x=\"%u\" y=\"%u\" class=\"axis\">plaintext share of sessions</text>"
		      "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" class=\"bar2\"/>"
		      "<text x=\"%u\" y=\"%u\" class=\"axis\">of mail sessions</text>\n",
		   left, top + h + 27, left + 14, top + h + 36, left + 170, top + h + 27, left + 184, top + h + 36);
	for (unsigned pct = 0; pct <= 100; pct += 25) {
		unsigned y = top + h - pct * h / 100;
		buf_printf(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" class=\"grid\"/>"
			      "<text x=\"%u\" y=\"%u\" class=\"axis\" text-anchor=\"end\">%u%%</text>\n",
			   left, y, wdt - 5, y, left - 4, y + 4, pct);
	}
	for (unsigned d = m->first_day; d < T->n_days; d++) {
		double s1 = report_share(T->day_plain[d], T->day_sessions[d]);
		double s2 = report_share(T->day_plain_mail[d], T->day_mail[d]);
		unsigned x = left + 5 + (d - m->first_day) * (bw + gap);
		unsigned h1 = (unsigned)(s1 * h + 0.5), h2 = (unsigned)(s2 * h + 0.5);
		char day[32];
		report_fmt_day(day, sizeof(day), T->day_start_usec[d]);
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" class=\"bar1\"><title>%s: %.1f%% of %llu sessions plaintext</title></rect>\n",
			   x, top + h - h1, bw / 2, h1, day, 100 * s1, (unsigned long long)T->day_sessions[d]);
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" class=\"bar2\"><title>%s: %.1f%% of %llu mail sessions plaintext</title></rect>\n",
			   x + bw / 2, top + h - h2, bw / 2, h2, day, 100 * s2, (unsigned long long)T->day_mail[d]);
		buf_printf(b, "<text x=\"%u\" y=\"%u\" class=\"axis\" text-anchor=\"middle\">%.5s</text>\n",
			   x + bw / 2, top + h + 16, day + 5);
	}
	buf_puts(b, "</svg>\n");
}

static void svg_protocols(const ReportModel *m, Buf *b)
{
	const PeersTotals *T = &m->T;
	static const char *const colour[PEERS_PROTO_MAX] = { "#7f0000", "#b30000", "#e34a33", "#fc8d59", "#74a9cf", "#0570b0", "#999999" };
	unsigned w = 480, bh = 22;
	buf_printf(b, "<svg class=\"chart\" role=\"img\" aria-labelledby=\"proto-t\" width=\"%u\" height=\"%u\" "
		      "viewBox=\"0 0 %u %u\" xmlns=\"http://www.w3.org/2000/svg\">\n"
		      "<title id=\"proto-t\">TLS protocol mix, inbound and outbound</title>\n",
		   w + 90, 2 * (bh + 8) + 28, w + 90, 2 * (bh + 8) + 28);
	for (unsigned dir = 0; dir < 2; dir++) {
		const uint64_t *v = dir ? T->proto_out : T->proto_in;
		uint64_t tot = 0;
		for (unsigned i = 0; i < PEERS_PROTO_MAX; i++)
			tot += v[i];
		unsigned y = dir * (bh + 8);
		buf_printf(b, "<text x=\"0\" y=\"%u\" class=\"axis\">%s</text>\n", y + 15, dir ? "outbound" : "inbound");
		double x = 80;
		for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
			if (!v[i] || !tot)
				continue;
			double wd = (double)w * (double)v[i] / (double)tot;
			buf_printf(b, "<rect x=\"%.1f\" y=\"%u\" width=\"%.1f\" height=\"%u\" fill=\"%s\"><title>%s %s: %llu (%.1f%%)</title></rect>\n",
				   x, y, wd, bh, colour[i], dir ? "outbound" : "inbound", T->proto_names[i],
				   (unsigned long long)v[i], 100.0 * (double)v[i] / (double)tot);
			x += wd;
		}
		if (!tot)
			buf_printf(b, "<text x=\"80\" y=\"%u\" class=\"axis\">no TLS</text>\n", y + 15);
	}
	unsigned lx = 80, ly = 2 * (bh + 8) + 14;
	for (unsigned i = PEERS_PROTO_MAX; i-- > 0;) {
		if (!T->proto_in[i] && !T->proto_out[i])
			continue;
		buf_printf(b, "<rect x=\"%u\" y=\"%u\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%u\" y=\"%u\" class=\"axis\">%s</text>\n",
			   lx, ly - 9, colour[i], lx + 14, ly, T->proto_names[i]);
		lx += 80;
	}
	buf_puts(b, "</svg>\n");
}


static const char html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>Postfix TLS enforcement readiness</title>\n<style>\n"
	"body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#222;background:#fff}\n"
	"h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}\n"
	".verdict{font-size:1.15em;padding:.6em .9em;border-left:6px solid #c0392b;background:#fbeeee;margin:.4em 0}\n"
	".verdict.ok{border-color:#27ae60;background:#eef8f1}\n"
	"table{border-collapse:collapse;margin:.5em 0}th,td{padding:.25em .7em;border-bottom:1px solid #e4e4e4;text-align:left}\n"
	"td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}td{white-space:nowrap}\n"
	".scroll{overflow-x:auto}\n"
	"pre{background:#f6f6f6;padding:.8em;overflow-x:auto}.muted{color:#666}\n"
	".grid{stroke:#ddd;stroke-width:1}.axis{font-size:11px;fill:#555}.bar1{fill:#f4a582}.bar2{fill:#b2182b}\n"
	"nav a{margin-right:1em}\n"
	"</style>\n</head>\n<body>\n<h1>Postfix TLS enforcement readiness</h1>\n<p class=\"muted\">";

/* the JSON link of the page: "?format=json" */
static void html_json_href(Buf *b)
{
	buf_printf(b, "?format=%s", report_formats[REPORT_JSON].name);
}

static void html_table(Buf *b, const ReportSection *s)
{
	buf_puts(b, "<div class=\"scroll\"><table>\n<thead><tr>");
	for (unsigned k = 0; k < s->ncols; k++) {
		buf_printf(b, "<th%s>", report_col_right(&s->cols[k]) ? " class=\"r\"" : "");
		esc_html(b, s->cols[k].title);
		buf_puts(b, "</th>");
	}
	buf_puts(b, "</tr></thead>\n<tbody>\n");
	for (size_t r = 0; r < s->nrows; r++) {
		buf_puts(b, "<tr>");
		for (unsigned k = 0; k < s->ncols; k++) {
			char tmp[64];
			buf_printf(b, "<td%s>", report_col_right(&s->cols[k]) ? " class=\"r\"" : "");
			esc_html(b, report_cell_format(s, r, k, tmp, sizeof(tmp)));
			buf_puts(b, "</td>");
		}
		buf_puts(b, "</tr>\n");
	}
	buf_puts(b, "</tbody>\n</table></div>\n");
	if (s->more) {
		buf_printf(b, "<p class=\"muted\">... and %zu more (see <a href=\"", s->more);
		html_json_href(b);
		buf_puts(b, "\">JSON</a>)</p>\n");
	}
}

static void html_section(const ReportModel *m, Buf *b, const ReportSection *s)
{
	buf_printf(b, "<section id=\"%s\">\n<h2>", s->id);
	esc_html(b, s->title);
	buf_puts(b, "</h2>\n");
	if (s->intro) {
		buf_puts(b, "<p>");
		esc_html(b, s->intro);
		buf_puts(b, "</p>\n");
	}
	if (s->chart == REPORT_CHART_DAYS && m->first_day < m->T.n_days)
		svg_days(m, b);
	if (s->chart == REPORT_CHART_PROTOCOLS)
		svg_protocols(m, b);
	if (s->code) {
		buf_puts(b, "<pre>");
		esc_html(b, s->code);
		buf_puts(b, "</pre>\n</section>\n");
		return;
	}
	if (s->ncols && s->nrows == 0) {
		buf_puts(b, "<p class=\"muted\">");
		esc_html(b, s->empty);
		buf_puts(b, "</p>\n");
	} else if (s->ncols)
		html_table(b, s);
	buf_puts(b, "</section>\n");
}

int report_render_html(const ReportModel *m, Buf *b)
{
	buf_puts(b, html_head);
	esc_html(b, m->window);
	buf_puts(b, "</p>\n<section id=\"verdict\">\n");
	if (m->n_verdict == 0)
		buf_puts(b, "<p class=\"verdict\">No inbound mail in the window: nothing to judge.</p>\n");
	for (unsigned i = 0; i < m->n_verdict; i++) {
		buf_printf(b, "<p class=\"verdict%s\">", m->verdict[i].ok ? " ok" : "");
		esc_html(b, m->verdict[i].text);
		buf_puts(b, "</p>\n");
	}
	buf_puts(b, "</section>\n<nav>");
	for (size_t i = 0; i < m->n_sec; i++) {
		buf_printf(b, "<a href=\"#%s\">", m->sec[i].id);
		esc_html(b, m->sec[i].title);
		buf_puts(b, "</a> ");
	}
	buf_puts(b, "<a href=\"");
	html_json_href(b);
	buf_puts(b, "\">JSON</a></nav>\n");
	for (size_t i = 0; i < m->n_sec; i++)
		html_section(m, b, &m->sec[i]);
	buf_puts(b, "</body>\n</html>\n");
	return 0;
}

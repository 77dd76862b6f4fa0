/*
 * report_int.h - the report model shared by the builders (report_model.c,
 * report_sections.c) and the writers (report_text.c, report_markdown.c,
 * report_html.c, report_json.c). Not installed; include/report.h is the
 * public side.
 *
 * DESCRIPTION
 *	A ReportModel holds the figures (totals, peer lists, verdicts) and the
 *	report as data: a list of sections, each with an id, a title, typed
 *	columns and rows of typed cells. Counts, percentages and times stay
 *	numbers in the model; the writers format them (text, Markdown and HTML
 *	the same way, JSON its own way from the same figures and the same
 *	ranked peer lists). Adding a section is one builder in
 *	report_sections.c and one line in its table; the writers need no change
 *	unless it carries a chart.
 * LIMITS
 *	A section keeps REPORT_ROWS_MAX rows and counts the rest (JSON lists
 *	everything from the ranked lists). A text cell keeps at most
 *	REPORT_CELL_MAX bytes, as the table cells always have.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "peers.h"
#include "report.h"

#define REPORT_ROWS_MAX 50   /* rows per table in text/markdown/html (JSON lists all) */
#define REPORT_CELL_MAX 511  /* bytes of one text cell; longer lists of combinations are cut */
#define REPORT_COLS_MAX 8    /* columns of one table; report_section_new() refuses more */

typedef enum ReportColType {
	REPORT_COL_TEXT,     /* left-aligned string */
	REPORT_COL_COUNT,    /* right-aligned unsigned integer */
	REPORT_COL_PERCENT,  /* right-aligned part of whole, "12.5 %" */
	REPORT_COL_TIME,     /* left-aligned UTC time, "never" for none */
} ReportColType;

typedef struct ReportColumn {
	const char *title;
	ReportColType type;
} ReportColumn;

/* a cell's type is its column's */
typedef union ReportCell {
	char *text;                            /* REPORT_COL_TEXT, owned */
	uint64_t count;                        /* REPORT_COL_COUNT */
	struct { uint64_t part, whole; } pct;  /* REPORT_COL_PERCENT */
	int64_t usec;                          /* REPORT_COL_TIME, <= 0: never */
} ReportCell;

typedef enum ReportChart {
	REPORT_CHART_NONE,
	REPORT_CHART_DAYS,       /* plaintext share per day */
	REPORT_CHART_PROTOCOLS,  /* protocol mix, inbound and outbound */
} ReportChart;

typedef struct ReportSection {
	const char *id;
	const char *title;
	char *intro;                  /* plain text, may be NULL */
	const ReportColumn *cols;     /* static; ncols 0 for a code-only section */
	unsigned ncols;
	ReportCell *cells;            /* nrows * ncols, owned */
	size_t nrows, cap, more;      /* rows kept, room, rows left out */
	const char *empty;            /* shown when there are no rows */
	char *code;                   /* preformatted block (policy snippet), may be NULL */
	ReportChart chart;
} ReportSection;

/* Below these a verdict of "would have refused 0" is not shown as safe:
 * a quiet hour says nothing about the peers that send once a week. */
#define REPORT_VERDICT_MIN_MAIL 100
#define REPORT_VERDICT_MIN_USEC (24LL * 3600 * 1000000)
#define REPORT_NAMES_MAX 5            /* peers named in a verdict or what-if; the rest "+N more" */

typedef struct ReportVerdict {
	const char *syslog;           /* borrowed from the model's totals */
	uint64_t refused, peers, mail;
	bool ok;                      /* refused nothing, with enough data to say so */
	char *text;                   /* "enforcing TLS on syslog_name ... (P % of mail): a, b +N more", owned */
} ReportVerdict;

/* A peer named in a per-host verdict: the domain part of a "host/domain"
 * key, or a domain summed over the fleet. */
typedef struct ReportNamed {
	const char *name;             /* borrowed from the model's peer lists */
	uint64_t n;                   /* plaintext mail sessions */
} ReportNamed;

/* One MTA (--postfix.host-label), or the fleet: computed from the windowed
 * inbound peer list, whose keys are "host/domain". */
typedef struct ReportHost {
	char *name;                   /* owned; NULL for the fleet */
	uint64_t mail, plain;         /* mail sessions, of which over plaintext */
	ReportNamed *who;             /* peers that sent plaintext mail, by count desc then name; owned */
	size_t n_who;
	char *text;                   /* "enforcing TLS on HOST would have refused ...", owned */
} ReportHost;

/* The ranked peer lists, shared by the sections and the JSON. */
typedef enum ReportList {
	REPORT_LIST_PLAIN_MAIL,   /* inbound, by plaintext mail sessions */
	REPORT_LIST_LEGACY,       /* inbound, by SSL/TLS 1.0/1.1 sessions */
	REPORT_LIST_FAILED,       /* inbound, by STARTTLS failures */
	REPORT_LIST_UNKNOWN,      /* clients without a name, by sessions */
	REPORT_LIST_ALWAYS_TLS,   /* destinations, by TLS deliveries, no plaintext */
	REPORT_LIST_NEVER_TLS,    /* destinations, by plaintext deliveries, no TLS */
	REPORT_LIST_MIXED,        /* destinations, by plaintext deliveries, some TLS */
	_REPORT_LIST_MAX,
} ReportList;

typedef struct ReportRanked {
	const PeerStats *p;
	uint64_t key;
} ReportRanked;

typedef struct ReportRanking {
	ReportRanked *v;   /* owned; peers with key > 0, by key desc, then name */
	size_t n;
} ReportRanking;

/* outbound figures of one destination */
typedef struct ReportOutClass {
	uint64_t tls, plain, noconn, sent, deferred, bounced;
	int weakest;   /* lowest trust with a delivery, -1 if none */
} ReportOutClass;

struct ReportModel {
	PeersTotals T;
	PeerStats *in, *out, *unk, *dst;   /* dst: by next-hop domain, the policy-map key */
	size_t n_in, n_out, n_unk, n_dst;
	ReportVerdict *verdict;       /* one per syslog_name, n_verdict = T.n_syslog */
	unsigned n_verdict;
	bool by_host;                 /* peers are tracked per MTA ("host/domain" keys) */
	ReportHost *host, fleet;      /* by host name; the fleet sums them */
	size_t n_host;
	ReportSection *sec;           /* grown by report_section_new() */
	size_t n_sec, cap_sec;
	ReportRanking list[_REPORT_LIST_MAX];
	char *window;                 /* "FROM to TO (window 7d, log time; ...)" */
	int64_t covered_usec;         /* log time the window actually holds: newest event - first hour with data */
	unsigned first_day;           /* days before it had no sessions: left out of tables and charts */
	char *policy;                 /* smtp_tls_policy_maps snippet */
	char *banner;                 /* the protocol mix rests on unknowns, or NULL */
	int err;                      /* first failure while building */
};

/* report_model.c */
int report_model_build(ReportModel *m, Peers *p, int64_t now_usec, int64_t window_usec);
void report_model_free(ReportModel *m);
/* report_section_new - append a section; NULL (and m->err) on ENOMEM, or
 * -EINVAL for more than REPORT_COLS_MAX columns. */
ReportSection *report_section_new(ReportModel *m, const char *id, const char *title, const ReportColumn *cols,
				  unsigned ncols);
/* report_row - append a row; NULL when the section is full (counted in
 * s->more) or on ENOMEM (m->err). The caller fills every cell with the
 * report_cell_* setters. */
ReportCell *report_row(ReportModel *m, ReportSection *s);
void report_cell_text(ReportModel *m, ReportCell *c, const char *s);
char *report_strdup(ReportModel *m, const char *s);
/* report_printf - a malloc'ed string; NULL (and m->err) on ENOMEM. */
char *report_printf(ReportModel *m, const char *fmt, ...) _printf_(2, 3);
/* report_cell_format - the cell as text/markdown/html show it, before
 * escaping: the text itself, or tmp (at least 64 bytes) filled in. */
const char *report_cell_format(const ReportSection *s, size_t row, unsigned col, char *tmp, size_t n);
static inline bool report_col_right(const ReportColumn *c)
{
	return c->type == REPORT_COL_COUNT || c->type == REPORT_COL_PERCENT;
}

/* per-peer figures */
uint64_t report_in_sessions(const PeerStats *p, Encryption e);
uint64_t report_in_mail(const PeerStats *p);
bool report_legacy_proto(const char *proto);
/* report_legacy_sessions - TLS sessions (deliveries) below TLS 1.2, exact. */
uint64_t report_legacy_sessions(const PeerStats *p);
/* report_combos_total - every count of one kind: listed plus folded. */
uint64_t report_combos_total(const PeerStats *p, PeerComboKind k);
/* report_fmt_span - "50 minutes", "3 hours", "2 days" */
void report_fmt_span(char *out, size_t n, int64_t usec);
/* report_names - "a (3), b (2) +N more": the first REPORT_NAMES_MAX of a ranking. */
void report_names(Buf *b, const ReportRanked *v, size_t n);
ReportOutClass report_out_class(const PeerStats *p);
/* report_policy - the smtp_tls_policy_maps level a destination's deliveries
 * support, and why (appended to evidence); NULL when it is no candidate:
 * a delivery went out without TLS, or no TLS delivery was sent. */
const char *report_policy(const PeerStats *dst, Buf *evidence);
/* report_enc_sums - sessions and mail sessions over every encryption of cells in. */
void report_enc_sums(const uint64_t *in, uint64_t *ret_all, uint64_t *ret_mail);
int report_rank(ReportModel *m, const PeerStats *v, size_t n, uint64_t (*key)(const PeerStats *),
		ReportRanking *ret);
int report_ranked_cmp(const void *a, const void *b);

/* report_sections.c */
void report_build_sections(ReportModel *m);

/* formatting shared by the writers */
double report_share(uint64_t part, uint64_t whole);
void report_fmt_time(char *out, size_t n, int64_t usec, bool iso);
void report_fmt_day(char *out, size_t n, int64_t usec);
void report_fmt_pct(char *out, size_t n, uint64_t part, uint64_t whole);
/* report_esc_text - control bytes, non-ASCII and backslash as \xHH (text, Markdown code). */
void report_esc_text_n(Buf *b, const char *s, size_t n);
static inline void report_esc_text(Buf *b, const char *s) { report_esc_text_n(b, s, strlen(s)); }

/* the writers, one per file */
int report_render_text(const ReportModel *m, Buf *b);
int report_render_markdown(const ReportModel *m, Buf *b);
int report_render_html(const ReportModel *m, Buf *b);
int report_render_json(const ReportModel *m, Buf *b);

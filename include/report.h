/*
 * report.h - the enforcement-readiness report, rendered from a Peers table
 * as text, JSON, Markdown or HTML. The same code serves /report and the
 * "report" subcommand; both look formats up in report_formats[].
 *
 * LAYOUT
 *	src/report.c (format table, entry), report_model.c (figures, ranked
 *	lists, verdicts, section containers), report_sections.c (one builder
 *	per section), report_text.c, report_markdown.c, report_html.c,
 *	report_json.c (one writer each); src/report_int.h is the model.
 *
 * CONTENTS
 *	The window covered (log time); one verdict per syslog_name ("enforcing
 *	TLS on syslog_name X would have refused N mail sessions from M peers
 *	(P % of mail)"); with --postfix.host-label the same per MTA and for
 *	the fleet ("Per MTA", from the "host/domain" peer keys); inbound sessions and mail sessions by encryption; the
 *	plaintext share per UTC day; the TLS protocol mix; peers still using
 *	SSL/TLS 1.0/1.1; peers that sent mail over plaintext (count, share of
 *	their mail and of their sessions, last plaintext, example hosts); peers
 *	with STARTTLS failures and the reasons; clients without a name by
 *	address and by /24 or /48; outbound destinations by next-hop domain
 *	(the smtp_tls_policy_maps key, grouped by registrable domain) that
 *	always, never or sometimes negotiated TLS; policy candidates with the
 *	level their deliveries support (report_policy()) and the complete
 *	snippet; tracking limits. Tables are sorted by count, then name; text, Markdown
 *	and HTML show 50 rows per table, JSON everything.
 *
 * JSON (schema "postfix_tls_exporter.report/1"; the full JSON Schema is
 * tests/peers/report.schema.json)
 *	{ schema, window{seconds,from,to,data_from,newest_event},
 *	  verdicts[{syslog_name,refused_mail_sessions,peers,mail_sessions,share_of_mail,text}],
 *	  hosts[{host,mail_sessions,plaintext_mail,share_of_mail,refused_peers[{peer,count}],text}]
 *	  and fleet{hosts,...} (only with --postfix.host-label),
 *	  inbound{by_syslog_name[], totals{sessions,mail_sessions,plaintext_share_of_sessions,
 *	          plaintext_share_of_mail_sessions}, days[], protocols{},
 *	          plaintext_mail_peers[], legacy_protocol_peers[], starttls_failure_peers[],
 *	          peers[], unknown_clients[]},
 *	  outbound{totals{deliveries,without_connection,by_tls,by_status}, protocols{},
 *	          always_tls[], never_tls[], mixed[], policy_map, destinations[]},
 *	  tracking{max_tracked,max_labelled,late_events,tracked{},evicted{},folded{}} }
 *	Times are RFC 3339 UTC strings or null, shares numbers in [0,1] with 4
 *	decimals. An inbound peer is {peer, sessions{tls,plaintext,starttls_failed},
 *	mail_sessions{...}, first_seen, last_seen, last_plaintext, examples[],
 *	tls[{protocol,cipher,count}], failures[{reason,count}],
 *	plaintext_mail_by_syslog_name[{syslog_name,count}], labelled}; a
 *	destination is {destination, deliveries, tls, plaintext,
 *	without_connection, sent, deferred, bounced, by_trust{}, weakest_trust,
 *	class (always_tls|never_tls|mixed|no_connection), policy and evidence
 *	(candidates only), registrable_domain, protocols[], recipient_domains[]
 *	(the destination itself), mx_hosts[], first_seen, last_seen,
 *	last_plaintext}.
 * SECURITY
 *	Every string that came from the log is escaped for the format; the HTML
 *	page has inline CSS and SVG only: no script, no external resource.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "peers.h"

typedef enum ReportFormat {
	REPORT_TEXT,
	REPORT_JSON,
	REPORT_MARKDOWN,
	REPORT_HTML,
	_REPORT_FORMAT_MAX,
} ReportFormat;

typedef struct ReportModel ReportModel;   /* the computed report (src/report_int.h) */

/*
 * The formats, in one table: the command line (--format), /report?format=,
 * the HTTP content type and the writer all come from here, so a new format
 * is one writer file and one row.
 */
typedef struct ReportFormatInfo {
	ReportFormat id;
	const char *name;
	const char *const *aliases;   /* NULL-terminated, or NULL */
	const char *content_type;
	int (*render)(const ReportModel *m, Buf *out);
} ReportFormatInfo;

/* indexed by ReportFormat */
extern const ReportFormatInfo report_formats[_REPORT_FORMAT_MAX];
/* "text|json|markdown|html", the --format placeholder in --help */
extern const char report_format_choices[];

/* report_format_find - the format named name or one of its aliases ("md").
 * Return: the table row, or NULL if unknown. */
const ReportFormatInfo *report_format_find(const char *name);
/* report_format_from_string - report_format_find() for callers that want
 * the id. Return: 0, or -EINVAL. */
int report_format_from_string(const char *s, ReportFormat *ret);
/* report_format_list - the names in table order as "a, b, c or d", for
 * error messages; a static string. */
const char *report_format_list(void);
/* report_render - append the report to out. now_usec is the end of the
 * window (0: the newest event seen), window_usec its length (0: the
 * configured --window). Return: 0, -ENOMEM, -EINVAL, or -ERANGE for a
 * window longer than the configured one. */
int report_render(Peers *p, ReportFormat fmt, int64_t now_usec, int64_t window_usec, Buf *out);

/*
 * main.c - flags, wiring, privileges, signals, the event loop, exit codes.
 * The only place that exits.
 *
 * EXIT STATUS
 *	0 success (including SIGTERM/SIGINT), 1 runtime error, 2 usage or
 *	configuration error.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "expo.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "peers.h"
#include "procstat.h"
#include "report.h"
#include "source_file.h"
#include "source_journal.h"
#include "statefile.h"
#include "util.h"
#include "webconfig.h"

#define EXIT_USAGE 2
#define INGEST_SLICE_USEC (2 * USEC_PER_MSEC) /* longest a scrape waits behind a replay */
#define MAX_SOURCES 32

/* ---- flags ------------------------------------------------------------------ */

typedef enum FlagType {
	FLAG_STRING,
	FLAG_LIST,
	FLAG_BOOL,
	FLAG_U64,
	FLAG_DURATION,
} FlagType;

typedef struct StrList {
	char **v;
	size_t n;
} StrList;

static struct {
	StrList source_file;
	bool source_journal;
	StrList journal_match;
	const char *journal_directory;
	StrList journal_file;
	int64_t journal_max_resume_age;
	const char *source_start;
	uint64_t max_line;
	const char *syslog_name;
	const char *wrapper_service;
	const char *state_directory;
	int64_t state_save_interval;
	uint64_t sessions_max;
	int64_t sessions_max_age;
	uint64_t store_max_series;
	uint64_t peers_max;
	uint64_t peers_track;
	int64_t window;
	StrList listen;
	const char *telemetry_path;
	const char *web_config;
	bool systemd_socket;
	uint64_t max_connections;
	uint64_t max_connections_per_ip;
	int64_t connection_timeout;
	uint64_t max_request_bytes;
	bool openmetrics_created;
	const char *user;
	bool once;
	const char *log_level;
	const char *log_format;
	const char *report_format;
	bool version;
	bool help;
} arg = {
	.journal_max_resume_age = 6 * 3600 * USEC_PER_SEC,
	.source_start = "end",
	.max_line = 8192,
	.state_save_interval = 30 * USEC_PER_SEC,
	.sessions_max = 10000,
	.sessions_max_age = 3600 * USEC_PER_SEC,
	.store_max_series = 10000,
	.peers_max = 100,
	.peers_track = 10000,
	.window = 7 * 86400 * USEC_PER_SEC,
	.telemetry_path = "/metrics",
	.max_connections = 64,
	.max_connections_per_ip = 8,
	.connection_timeout = 10 * USEC_PER_SEC,
	.max_request_bytes = 32768,
	.log_level = "info",
	.log_format = "logfmt",
	.report_format = "text",
};

typedef struct Flag {
	const char *name;
	FlagType type;
	void *ptr;
	const char *placeholder;
	const char *help;
	bool report; /* also accepted by the report subcommand */
} Flag;

static const Flag flags[] = {
	{ "source.file", FLAG_LIST, &arg.source_file, "PATH", "Log file to follow (repeatable; '-' reads standard input). Rotation by rename, copytruncate and re-creation is followed.", true },
	{ "source.journal", FLAG_BOOL, &arg.source_journal, NULL, "Read the systemd journal (the default when no --source.file is given and the journal is readable).", true },
	{ "source.journal.match", FLAG_LIST, &arg.journal_match, "FIELD=VALUE", "Journal match instead of SYSLOG_FACILITY=2 (repeatable; same field ORs, different fields AND).", true },
	{ "source.journal.directory", FLAG_STRING, &arg.journal_directory, "DIR", "Read the journal files in DIR instead of the system journal.", true },
	{ "source.journal.file", FLAG_LIST, &arg.journal_file, "PATH", "Read this journal file (repeatable).", true },
	{ "source.journal.max-resume-age", FLAG_DURATION, &arg.journal_max_resume_age, "DURATION", "Resume from the saved journal cursor only if it is younger than this; otherwise start at the tail (default 6h).", false },
	{ "source.start", FLAG_STRING, &arg.source_start, "end|beginning", "Where to start reading when there is no saved position (default end; --once and report read from the beginning).", true },
	{ "source.max-line-length", FLAG_U64, &arg.max_line, "BYTES", "Longer lines are skipped and counted in postfix_tls_exporter_oversized_lines_total (default 8192).", true },
	{ "postfix.syslog-name", FLAG_STRING, &arg.syslog_name, "REGEX", "Syslog names (the part before /smtpd) that are Postfix (default ^postfix, which covers postfix/submission and postfix-out).", true },
	{ "postfix.wrapper-service", FLAG_STRING, &arg.wrapper_service, "REGEX", "Syslog names of smtpd services in wrapper mode (implicit TLS, smtpd_tls_wrappermode = yes) (default (^|/)(smtps|submissions)$).", true },
	{ "state.directory", FLAG_STRING, &arg.state_directory, "DIR", "Where positions and peer windows are saved (default $STATE_DIRECTORY; none if unset).", false },
	{ "state.save-interval", FLAG_DURATION, &arg.state_save_interval, "DURATION", "How often state is saved (default 30s; also on SIGTERM).", false },
	{ "sessions.max", FLAG_U64, &arg.sessions_max, "N", "Inbound sessions (and smtp processes) tracked at once; the oldest is expired beyond it (default 10000).", true },
	{ "sessions.max-age", FLAG_DURATION, &arg.sessions_max_age, "DURATION", "Log time after which a session without disconnect is expired (default 1h).", true },
	{ "store.max-series", FLAG_U64, &arg.store_max_series, "N", "Series limit over all metric families (default 10000).", true },
	{ "peers.max", FLAG_U64, &arg.peers_max, "N", "Labelled peer domains per direction; the rest is folded into peer_domain=\"other\" (default 100).", true },
	{ "peers.track", FLAG_U64, &arg.peers_track, "N", "Peer domains tracked for the readiness report (default 10000).", true },
	{ "window", FLAG_DURATION, &arg.window, "DURATION", "Rolling window of the readiness report, in log time (default 7d).", true },
	{ "web.listen-address", FLAG_LIST, &arg.listen, "ADDR", "Address to listen on, e.g. :9633, 127.0.0.1:9633, [::1]:9633 (repeatable; default :9633).", false },
	{ "web.telemetry-path", FLAG_STRING, &arg.telemetry_path, "PATH", "Path under which metrics are served (default /metrics).", false },
	{ "web.config.file", FLAG_STRING, &arg.web_config, "PATH", "Exporter-toolkit web configuration file (TLS, basic auth, headers); re-read on SIGHUP.", false },
	{ "web.systemd-socket", FLAG_BOOL, &arg.systemd_socket, NULL, "Use the listening sockets passed by systemd socket activation instead of --web.listen-address.", false },
	{ "web.max-connections", FLAG_U64, &arg.max_connections, "N", "Concurrent HTTP connections (default 64).", false },
	{ "web.max-connections-per-ip", FLAG_U64, &arg.max_connections_per_ip, "N", "Concurrent HTTP connections per client address (default 8).", false },
	{ "web.connection-timeout", FLAG_DURATION, &arg.connection_timeout, "DURATION", "Idle HTTP connections are closed after this (default 10s).", false },
	{ "web.max-request-bytes", FLAG_U64, &arg.max_request_bytes, "BYTES", "Memory for one HTTP request's headers (default 32768).", false },
	{ "web.openmetrics-created", FLAG_BOOL, &arg.openmetrics_created, NULL, "Add _created samples to OpenMetrics output.", false },
	{ "user", FLAG_STRING, &arg.user, "USER", "Drop to this user after opening sources, sockets and state (required when started as root, except for --once).", false },
	{ "once", FLAG_BOOL, &arg.once, NULL, "Read the sources to their current end (from the beginning unless --source.start says otherwise), print the metrics, exit.", false },
	{ "format", FLAG_STRING, &arg.report_format, "text|json|markdown|html", "Output format of the report subcommand (default text).", true },
	{ "log.level", FLAG_STRING, &arg.log_level, "debug|info|warn|error", "Only log messages with the given severity or above (default info).", true },
	{ "log.format", FLAG_STRING, &arg.log_format, "logfmt|json", "Output format of log messages (default logfmt).", true },
	{ "version", FLAG_BOOL, &arg.version, NULL, "Show the version and exit.", true },
	{ "help", FLAG_BOOL, &arg.help, NULL, "Show this help and exit.", true },
};

static bool source_start_given;

static void usage(FILE *f, bool report)
{
	if (report)
		fprintf(f, "usage: postfix_tls_exporter report [FLAGS] [FILE...]\n\n"
			   "Print the TLS enforcement readiness report for the given logs (plain, rotated or\n"
			   ".gz files; journal with --source.journal*), read from the beginning.\n\nFlags:\n");
	else
		fprintf(f, "usage: postfix_tls_exporter [FLAGS]\n"
			   "       postfix_tls_exporter report [FLAGS] [FILE...]\n\n"
			   "Prometheus exporter of Postfix TLS statistics, read from Postfix's log.\n\nFlags:\n");
	for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
		const Flag *fl = &flags[i];
		if (report && !fl->report)
			continue;
		char left[96];
		if (fl->placeholder)
			snprintf(left, sizeof(left), "--%s=%s", fl->name, fl->placeholder);
		else
			snprintf(left, sizeof(left), "--%s", fl->name);
		fprintf(f, "  %-44s %s\n", left, fl->help);
	}
}

static int list_add(StrList *l, const char *v)
{
	char **n = realloc(l->v, (l->n + 2) * sizeof(char *));
	if (!n)
		return -ENOMEM;
	l->v = n;
	l->v[l->n++] = (char *)v;
	l->v[l->n] = NULL;
	return 0;
}

/* parse_flags - kingpin style: --name=value, --name value, --name / --no-name for booleans. */
static int parse_flags(int argc, char **argv, bool report, StrList *positional)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (report || !strcmp(a, "-")) {
				list_add(positional, a);
				continue;
			}
			fprintf(stderr, "postfix_tls_exporter: unexpected argument '%s' (see --help)\n", a);
			return -EINVAL;
		}
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nl = eq ? (size_t)(eq - name) : strlen(name);
		bool negated = false;
		const Flag *fl = NULL;
		for (size_t k = 0; k < ELEMENTSOF(flags) && !fl; k++) {
			if (report && !flags[k].report)
				continue;
			if (strlen(flags[k].name) == nl && strncmp(flags[k].name, name, nl) == 0)
				fl = &flags[k];
			else if (flags[k].type == FLAG_BOOL && nl == strlen(flags[k].name) + 3 &&
				 strncmp(name, "no-", 3) == 0 && strncmp(name + 3, flags[k].name, nl - 3) == 0) {
				fl = &flags[k];
				negated = true;
			}
		}
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
			continue;
		}
		if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "postfix_tls_exporter: --%s needs a value (%s)\n", fl->name, fl->placeholder);
				return -EINVAL;
			}
			val = argv[++i];
		}
		int r = 0;
		switch (fl->type) {
		case FLAG_STRING:
			*(const char **)fl->ptr = val;
			break;
		case FLAG_LIST:
			r = list_add(fl->ptr, val);
			break;
		case FLAG_U64:
			r = parse_u64(val, fl->ptr);
			break;
		case FLAG_DURATION:
			r = parse_duration_usec(val, fl->ptr);
			break;
		default:
			break;
		}
		if (r < 0) {
			fprintf(stderr, "postfix_tls_exporter: --%s: invalid value '%s' (expected %s)\n", fl->name, val,
				fl->placeholder);
			return -EINVAL;
		}
		if (fl->ptr == &arg.source_start)
			source_start_given = true;
	}
	return 0;
}

/* ---- the daemon ------------------------------------------------------------- */

typedef struct Daemon {
	Store *store;
	Ingest *ingest;
	Peers *peers;
	Loop *loop;
	Http *http;
	Source *sources[MAX_SOURCES];
	bool pending[MAX_SOURCES];
	int64_t next_check[MAX_SOURCES];
	size_t n_sources;
	const char *state_dir;
	int sigfd;
	bool quit;
	bool reload;
} Daemon;

static int add_source(Daemon *d, Source *s)
{
	if (d->n_sources >= MAX_SOURCES) {
		source_free(s);
		return -E2BIG;
	}
	d->pending[d->n_sources] = true;
	d->sources[d->n_sources++] = s;
	return 0;
}

static int open_sources(Daemon *d, StrList *files, bool follow)
{
	SourceStart start = !strcmp(arg.source_start, "beginning") ? SOURCE_START_BEGINNING : SOURCE_START_END;
	if (!follow && !source_start_given)
		start = SOURCE_START_BEGINNING;
	for (size_t i = 0; i < files->n; i++) {
		Source *s;
		SourceFileConfig c = { .path = files->v[i], .start = start, .follow = follow, .state_dir = d->state_dir };
		int r = source_file_new(&s, d->ingest, d->store, &c);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "cannot open '%s'", files->v[i]);
		if ((r = add_source(d, s)) < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "too many sources");
	}
	bool journal = arg.source_journal || arg.journal_directory || arg.journal_file.n || arg.journal_match.n;
	if (!journal && files->n == 0)
		journal = follow && source_journal_available();
	if (journal) {
		Source *s;
		SourceJournalConfig c = {
			.start = start,
			.directory = arg.journal_directory,
			.files = arg.journal_file.v,
			.matches = arg.journal_match.v,
			.state_dir = d->state_dir,
			.max_resume_age_usec = arg.journal_max_resume_age,
		};
		int r = source_journal_new(&s, d->ingest, d->store, &c);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "cannot open the journal");
		if ((r = add_source(d, s)) < 0)
			return r;
	}
	if (d->n_sources == 0) {
		log_error("no log source: give --source.file=PATH or --source.journal "
			  "(the journal is not readable here, and no file was named)");
		return -ENOENT;
	}
	return 0;
}

static int setup_core(Daemon *d, bool with_peers)
{
	int r = store_new(&d->store, metrics_families, _M_MAX, arg.store_max_series);
	if (r < 0)
		return r;
	Slice v[] = { SLICE_LIT(PTE_VERSION) };
	store_set(d->store, M_BUILD_INFO, v, 1);
	procstat_register(d->store);
	IngestConfig ic = INGEST_CONFIG_DEFAULT;
	ic.syslog_name_regex = arg.syslog_name;
	ic.wrapper_service_regex = arg.wrapper_service;
	ic.max_sessions = arg.sessions_max;
	ic.session_max_age_usec = arg.sessions_max_age;
	ic.max_line = arg.max_line;
	_cleanup_free_ char *err = NULL;
	r = ingest_new(&d->ingest, d->store, &ic, &err);
	if (r < 0) {
		log_error("%s", err ? err : "cannot set up the parser");
		return r;
	}
	if (with_peers) {
		PeersConfig pc = { .max_labelled = arg.peers_max, .max_tracked = arg.peers_track, .window_usec = arg.window };
		r = peers_new(&d->peers, d->store, &pc);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "peers");
		ingest_set_peers(d->ingest, d->peers);
	}
	return 0;
}

static void daemon_done(Daemon *d)
{
	for (size_t i = 0; i < d->n_sources; i++)
		source_free(d->sources[i]);
	http_free(d->http);
	loop_free(d->loop);
	ingest_free(d->ingest);
	peers_free(d->peers);
	store_free(d->store);
	if (d->sigfd >= 0)
		close(d->sigfd);
}

/* read_all - drain every source to its current end (--once, report). */
static int read_all(Daemon *d, bool progress)
{
	int64_t next_progress = now_monotonic_usec() + 500 * USEC_PER_MSEC;
	for (size_t i = 0; i < d->n_sources; i++) {
		for (;;) {
			int r = d->sources[i]->ops->process(d->sources[i], now_monotonic_usec() + 200 * USEC_PER_MSEC);
			if (r < 0)
				return log_errno(LOG_LEVEL_ERROR, r, "reading %s", d->sources[i]->name);
			if (progress && now_monotonic_usec() >= next_progress) {
				fprintf(stderr, "\rread %llu lines from %s ",
					(unsigned long long)ingest_lines_read(d->ingest), d->sources[i]->name);
				next_progress = now_monotonic_usec() + 500 * USEC_PER_MSEC;
			}
			if (r == 0)
				break;
		}
	}
	if (progress)
		fprintf(stderr, "\rread %llu lines%*s\n", (unsigned long long)ingest_lines_read(d->ingest), 40, "");
	return 0;
}

static void save_state(Daemon *d)
{
	if (!d->state_dir)
		return;
	for (size_t i = 0; i < d->n_sources; i++)
		if (d->sources[i]->ops->save_state) {
			int r = d->sources[i]->ops->save_state(d->sources[i]);
			if (r < 0)
				log_errno(LOG_LEVEL_WARN, r, "saving the position of %s in %s", d->sources[i]->name, d->state_dir);
		}
	if (d->peers) {
		int r = peers_save(d->peers, d->state_dir);
		if (r < 0)
			log_errno(LOG_LEVEL_WARN, r, "saving the peer table in %s", d->state_dir);
	}
}

static void on_source(void *userdata, uint32_t events)
{
	bool *pending = userdata;
	*pending = true;
}

static void on_signal(void *userdata, uint32_t events)
{
	Daemon *d = userdata;
	struct signalfd_siginfo si;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			d->reload = true;
		else
			d->quit = true;
	}
}

static int report_cb(void *userdata, ReportFormat fmt, Buf *out)
{
	Daemon *d = userdata;
	/* The window ends at the newest log event, as the report subcommand's
	 * does: a replayed or idle log keeps its numbers instead of sliding out
	 * of a window that ends at the wall clock. */
	return report_render(d->peers, fmt, peers_newest_usec(d->peers) ? 0 : now_realtime_usec(), out);
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_error("--user=%s: no such user", user);
		return -ESRCH;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "dropping privileges to '%s'", user);
	if (setuid(0) == 0) {
		log_error("dropping privileges to '%s' did not stick", user);
		return -EPERM;
	}
	return 0;
}

static void apply_reload(Daemon *d)
{
	d->reload = false;
	if (!arg.web_config) {
		log_info("SIGHUP: no --web.config.file to re-read");
		return;
	}
	WebConfig *wc = NULL;
	char *err = NULL;
	int r = webconfig_load(arg.web_config, &wc, &err);
	if (r < 0) {
		log_error("SIGHUP: %s; keeping the previous web configuration", err ? err : strerror(-r));
		free(err);
		return;
	}
	if (http_reload(d->http, wc) == 0)
		log_info("SIGHUP: web configuration '%s' reloaded", arg.web_config);
}

static int run_daemon(Daemon *d)
{
	int r = loop_new(&d->loop);
	if (r < 0)
		return r;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0 || loop_add(d->loop, d->sigfd, EPOLLIN, on_signal, d) < 0)
		return log_errno(LOG_LEVEL_ERROR, -errno, "signalfd");

	WebConfig *wc = NULL;
	char *err = NULL;
	r = webconfig_load(arg.web_config, &wc, &err);
	if (r < 0) {
		log_error("%s", err ? err : strerror(-r));
		free(err);
		return -EINVAL;
	}
	char *default_listen[] = { (char *)":9633", NULL };
	HttpConfig hc = {
		.listen_addresses = arg.listen.n ? arg.listen.v : default_listen,
		.systemd_socket = arg.systemd_socket,
		.telemetry_path = arg.telemetry_path,
		.max_connections = (unsigned)arg.max_connections,
		.max_connections_per_ip = (unsigned)arg.max_connections_per_ip,
		.connection_timeout_sec = (unsigned)((arg.connection_timeout + USEC_PER_SEC - 1) / USEC_PER_SEC),
		.max_request_bytes = arg.max_request_bytes,
		.openmetrics_created = arg.openmetrics_created,
	};
	r = http_new(&d->http, &hc, wc, d->store, d->loop);
	if (r < 0)
		return r;
	if (d->peers)
		http_set_report(d->http, report_cb, d);

	for (size_t i = 0; i < d->n_sources; i++) {
		int fd = d->sources[i]->ops->fd(d->sources[i]);
		if (fd >= 0 && (r = loop_add(d->loop, fd, EPOLLIN, on_source, &d->pending[i])) < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "watching %s", d->sources[i]->name);
	}

	if (geteuid() == 0) {
		const char *allow = getenv("POSTFIX_TLS_EXPORTER_ALLOW_ROOT");
		if (arg.user) {
			if ((r = drop_privileges(arg.user)) < 0)
				return r;
		} else if (allow && !strcmp(allow, "1")) {
			/* Containers and test harnesses that run everything as root. */
			log_warn("serving as root because POSTFIX_TLS_EXPORTER_ALLOW_ROOT=1 is set");
		} else {
			log_error("refusing to serve as root: pass --user=NAME (sources and sockets are opened "
				  "first), or set POSTFIX_TLS_EXPORTER_ALLOW_ROOT=1 in a container or test harness");
			return -EPERM;
		}
	}
	if ((r = http_start(d->http)) < 0)
		return r;
	http_set_ready(d->http, true);
	if (!ingest_jit(d->ingest))
		log_info("PCRE2 JIT unavailable (no executable memory, e.g. MemoryDenyWriteExecute=yes): "
			 "using the interpreter; counts are the same, ingest is slower");
	log_info("postfix_tls_exporter %s listening, reading %zu source(s)", PTE_VERSION, d->n_sources);
	sd_notify(0, "READY=1\nSTATUS=Following the Postfix log");

	uint64_t wd_usec = 0;
	bool watchdog = sd_watchdog_enabled(0, &wd_usec) > 0;
	int64_t next_watchdog = 0, next_save = now_monotonic_usec() + arg.state_save_interval;

	while (!d->quit) {
		int64_t now = now_monotonic_usec();
		bool busy = false;
		/* Each source gets one slice; then the HTTP side runs, so a replay
		 * delays a scrape by one slice at most. */
		for (size_t i = 0; i < d->n_sources; i++) {
			Source *s = d->sources[i];
			if (!d->pending[i] && d->next_check[i] && now >= d->next_check[i])
				d->pending[i] = true;
			if (!d->pending[i])
				continue;
			r = s->ops->process(s, now_monotonic_usec() + INGEST_SLICE_USEC);
			/* libmicrohttpd's run is non-blocking and cheap when idle:
			 * between slices it accepts, reads and answers. */
			http_run(d->http);
			d->pending[i] = r == 1;
			busy |= r == 1;
			if (r < 0)
				log_errno(LOG_LEVEL_WARN, r, "source %s", s->name);
			int64_t t = s->ops->timeout_usec ? s->ops->timeout_usec(s) : -1;
			d->next_check[i] = t >= 0 ? now_monotonic_usec() + t : 0;
		}
		now = now_monotonic_usec();
		if (watchdog && now >= next_watchdog) {
			/* Sent from the loop itself: a wedged reader stops it. */
			sd_notify(0, "WATCHDOG=1");
			next_watchdog = now + (int64_t)wd_usec / 2;
		}
		if (now >= next_save) {
			save_state(d);
			next_save = now + arg.state_save_interval;
		}
		if (d->reload)
			apply_reload(d);

		int timeout = -1;
		if (busy) {
			timeout = 0;
		} else {
			int64_t until = next_save;
			for (size_t i = 0; i < d->n_sources; i++)
				if (d->next_check[i] && d->next_check[i] < until)
					until = d->next_check[i];
			if (watchdog && next_watchdog < until)
				until = next_watchdog;
			int64_t ms = (until - now + 999) / 1000;
			timeout = ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
			int ht = http_timeout_ms(d->http);
			if (ht >= 0 && ht < timeout)
				timeout = ht;
		}
		r = loop_wait(d->loop, timeout);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "event loop");
		/* MHD also needs its timers run when nothing was readable. */
		http_run(d->http);
	}
	sd_notify(0, "STOPPING=1");
	save_state(d);
	log_info("exiting");
	return 0;
}

static StrList positional;

/* free_args - the flag lists live for the whole run; freed at exit so that
 * LeakSanitizer reports only real leaks. */
static void free_args(void)
{
	free(positional.v);
	free(arg.source_file.v);
	free(arg.journal_match.v);
	free(arg.journal_file.v);
	free(arg.listen.v);
}

int main(int argc, char **argv)
{
	bool report = argc > 1 && !strcmp(argv[1], "report");
	atexit(free_args);
	if (parse_flags(argc - 1 - report, argv + 1 + report, report, &positional) < 0)
		return EXIT_USAGE;
	if (arg.help) {
		usage(stdout, report);
		return 0;
	}
	if (arg.version) {
		printf("postfix_tls_exporter %s\n", PTE_VERSION);
		return 0;
	}
	if (log_set_level(arg.log_level) < 0) {
		fprintf(stderr, "postfix_tls_exporter: --log.level must be debug, info, warn or error\n");
		return EXIT_USAGE;
	}
	if (log_set_format(arg.log_format) < 0) {
		fprintf(stderr, "postfix_tls_exporter: --log.format must be logfmt or json\n");
		return EXIT_USAGE;
	}
	if (strcmp(arg.source_start, "end") && strcmp(arg.source_start, "beginning")) {
		fprintf(stderr, "postfix_tls_exporter: --source.start must be end or beginning\n");
		return EXIT_USAGE;
	}
	ReportFormat rfmt;
	if (report_format_from_string(arg.report_format, &rfmt) < 0) {
		fprintf(stderr, "postfix_tls_exporter: --format must be text, json, markdown or html\n");
		return EXIT_USAGE;
	}
	if (arg.max_line < 64 || arg.sessions_max < 1 || arg.store_max_series < 64 || arg.peers_max < 1 ||
	    arg.max_connections < 1 || arg.max_connections_per_ip < 1) {
		fprintf(stderr, "postfix_tls_exporter: a limit is too small (--source.max-line-length >= 64, "
				"--store.max-series >= 64, others >= 1)\n");
		return EXIT_USAGE;
	}

	Daemon d = { .sigfd = -1 };
	int r;
	if (report) {
		for (size_t i = 0; i < positional.n; i++)
			list_add(&arg.source_file, positional.v[i]);
		if ((r = setup_core(&d, true)) < 0 || (r = open_sources(&d, &arg.source_file, false)) < 0) {
			daemon_done(&d);
			return EXIT_USAGE;
		}
		r = read_all(&d, isatty(STDERR_FILENO));
		Buf out = BUF_NULL;
		if (r >= 0)
			r = report_render(d.peers, rfmt, ingest_last_event_usec(d.ingest) ? ingest_last_event_usec(d.ingest)
											  : now_realtime_usec(), &out);
		if (r >= 0)
			fwrite(out.data, 1, out.len, stdout);
		buf_deinit(&out);
		daemon_done(&d);
		return r < 0 ? 1 : 0;
	}
	if (positional.n) {
		fprintf(stderr, "postfix_tls_exporter: unexpected argument '%s' (see --help)\n", positional.v[0]);
		return EXIT_USAGE;
	}

	if (arg.once) {
		if ((r = setup_core(&d, true)) < 0 || (r = open_sources(&d, &arg.source_file, false)) < 0) {
			daemon_done(&d);
			return EXIT_USAGE;
		}
		r = read_all(&d, false);
		Buf out = BUF_NULL;
		if (r >= 0)
			r = expo_render(d.store, EXPO_TEXT, false, &out);
		if (r >= 0)
			fwrite(out.data, 1, out.len, stdout);
		buf_deinit(&out);
		daemon_done(&d);
		return r < 0 ? 1 : 0;
	}

	d.state_dir = arg.state_directory ? arg.state_directory : statefile_dir_default();
	if (d.state_dir) {
		struct stat st;
		if (stat(d.state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			log_error("--state.directory=%s: not a directory (create it, or unset the flag)", d.state_dir);
			return EXIT_USAGE;
		}
	}
	if ((r = setup_core(&d, true)) < 0) {
		daemon_done(&d);
		return EXIT_USAGE;
	}
	if (d.state_dir && d.peers) {
		_cleanup_free_ char *err = NULL;
		r = peers_load(d.peers, d.state_dir, &err);
		if (r < 0 && r != -ENOENT)
			log_warn("peer table %s/peers.state ignored (%s): %s; it will be rewritten", d.state_dir,
				 strerror(-r), err ? err : "");
	}
	if ((r = open_sources(&d, &arg.source_file, true)) < 0) {
		daemon_done(&d);
		return EXIT_USAGE;
	}
	r = run_daemon(&d);
	daemon_done(&d);
	if (r == -EINVAL || r == -EADDRINUSE || r == -EADDRNOTAVAIL || r == -EPERM || r == -ESRCH)
		return r == -EINVAL || r == -ESRCH || r == -EPERM ? EXIT_USAGE : 1;
	return r < 0 ? 1 : 0;
}

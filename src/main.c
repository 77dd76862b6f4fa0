/*
 * main.c - the daemon's own flags, wiring, privileges, signals, the event
 * loop, exit codes. The only place that exits.
 *
 * DESCRIPTION
 *	main() parses the flag tables (each source type's, the shared source
 *	flags of source.c, and the table below; see flags.h), validates them
 *	and runs one of three modes: run_report (the report subcommand),
 *	run_once (--once) or run_serve (the daemon). Which sources are opened
 *	is decided by source.c; main.c names no source type.
 *
 * EXIT STATUS
 *	0 success (including SIGTERM/SIGINT), 1 runtime error, 2 usage or
 *	configuration error.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
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
#include "dynlib.h"
#include "expo.h"
#include "flags.h"
#include "hosts.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "peers.h"
#include "procstat.h"
#include "report.h"
#include "backfill.h"
#include "source.h"
#include "statefile.h"
#include "util.h"
#include "webconfig.h"

#define EXIT_USAGE 2
#define INGEST_SLICE_USEC (2 * USEC_PER_MSEC) /* longest a scrape waits behind a replay */

/* ---- flags ------------------------------------------------------------------ */

static struct {
	uint64_t max_line;
	const char *syslog_name;
	const char *wrapper_service;
	const char *internal_relay;
	const char *internal_service;
	bool host_label;
	uint64_t hosts_max;
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
	bool pipeline;
	bool version;
	bool help;
} arg;

static const Flag flags[] = {
	{ "source.max-line-length", FLAG_U64, &arg.max_line, "BYTES", "8192", "Longer lines are skipped and counted in postfix_tls_exporter_oversized_lines_total (default {}).", true, .min = 64, .max = 1 << 20 },
	{ "source.pipeline", FLAG_BOOL, &arg.pipeline, NULL, "true", "When reading to the end (--once, report, backfill) from files on 2 or more CPUs, parse lines in one thread and count them in a second, which also matches the rules while it keeps up (with 3 or more CPUs a .gz file is also inflated in a third); --no-source.pipeline does all in one (default {}).", true },
	{ "postfix.syslog-name", FLAG_STRING, &arg.syslog_name, "REGEX", "^postfix", "Syslog names (the part before /smtpd) that are Postfix (default {}, which covers postfix/submission and postfix-out).", true },
	{ "postfix.wrapper-service", FLAG_STRING, &arg.wrapper_service, "REGEX", "(^|/)(smtps|submissions)$", "Syslog names of smtpd services in wrapper mode (implicit TLS, smtpd_tls_wrappermode = yes) (default {}).", true },
	{ "postfix.internal-relay", FLAG_STRING, &arg.internal_relay, "REGEX", INGEST_INTERNAL_RELAY_DEFAULT, "smtp relay= values that are internal hops, kept out of the peer tables and the report (default {}: content filters on loopback; LMTP and unix-socket relays are always internal; empty: none).", true },
	{ "postfix.internal-service", FLAG_STRING, &arg.internal_service, "REGEX", NULL, "Syslog names whose smtpd sessions and smtp deliveries are all internal hops (kept out of the peer tables and the report), e.g. a reinjection listener's -o syslog_name=postfix/reinject (default none; sessions that used XFORWARD are always internal).", true },
	{ "postfix.host-label", FLAG_BOOL, &arg.host_label, NULL, NULL, "Add a host label (the MTA's syslog HOSTNAME or journal _HOSTNAME) to every Postfix family, for a central log host or journal-remote.", true },
	{ "postfix.hosts-max", FLAG_U64, &arg.hosts_max, "N", "256", "Hosts labelled with --postfix.host-label; the rest is folded into host=\"other\" (default {}).", true, .min = 1, .max = HOSTS_MAX_LABELLED_LIMIT },
	{ "state.directory", FLAG_STRING, &arg.state_directory, "DIR", NULL, "Where positions and peer windows are saved (default $STATE_DIRECTORY; none if unset).", false },
	{ "state.save-interval", FLAG_DURATION, &arg.state_save_interval, "DURATION", "30s", "How often state is saved (default {}; also on SIGTERM).", false, .min = USEC_PER_SEC },
	{ "sessions.max", FLAG_U64, &arg.sessions_max, "N", "10000", "Inbound sessions (and smtp processes) tracked at once; the oldest is expired beyond it (default {}).", true, .min = 1 },
	{ "sessions.max-age", FLAG_DURATION, &arg.sessions_max_age, "DURATION", "1h", "Log time after which a session without disconnect is expired (default {}).", true },
	{ "store.max-series", FLAG_U64, &arg.store_max_series, "N", "10000", "Series limit over all metric families (default {}).", true, .min = 64 },
	{ "peers.max", FLAG_U64, &arg.peers_max, "N", "100", "Labelled peer domains per direction; the rest is folded into peer_domain=\"other\" (default {}).", true, .min = 1, .max = PEERS_MAX_LABELLED_LIMIT },
	{ "peers.track", FLAG_U64, &arg.peers_track, "N", "10000", "Peer domains tracked for the readiness report (default {}).", true, .min = 1, .max = PEERS_MAX_TRACKED_LIMIT },
	{ "window", FLAG_DURATION, &arg.window, "DURATION", "7d", "Rolling window of the readiness report, in log time (default {}).", true, .min = 3600 * USEC_PER_SEC, .max = PEERS_WINDOW_MAX_HOURS * 3600 * USEC_PER_SEC },
	{ "web.listen-address", FLAG_LIST, &arg.listen, "ADDR", ":10125", "Address to listen on, e.g. :10125, 127.0.0.1:10125, [::1]:10125 (repeatable; default {}).", false },
	{ "web.telemetry-path", FLAG_STRING, &arg.telemetry_path, "PATH", "/metrics", "Path under which metrics are served (default {}).", false },
	{ "web.config.file", FLAG_STRING, &arg.web_config, "PATH", NULL, "Exporter-toolkit web configuration file (TLS, basic auth, headers); re-read on SIGHUP.", false },
	{ "web.systemd-socket", FLAG_BOOL, &arg.systemd_socket, NULL, NULL, "Use the listening sockets passed by systemd socket activation instead of --web.listen-address.", false },
	{ "web.max-connections", FLAG_U64, &arg.max_connections, "N", "64", "Concurrent HTTP connections (default {}).", false, .min = 1, .max = 65536 },
	{ "web.max-connections-per-ip", FLAG_U64, &arg.max_connections_per_ip, "N", "8", "Concurrent HTTP connections per client address (default {}).", false, .min = 1, .max = 65536 },
	{ "web.connection-timeout", FLAG_DURATION, &arg.connection_timeout, "DURATION", "10s", "Idle HTTP connections are closed after this (default {}).", false },
	{ "web.max-request-bytes", FLAG_U64, &arg.max_request_bytes, "BYTES", "32768", "Memory for one HTTP request's headers (default {}).", false, .min = 1024 },
	{ "web.openmetrics-created", FLAG_BOOL, &arg.openmetrics_created, NULL, NULL, "Add _created samples to OpenMetrics output.", false },
	{ "user", FLAG_STRING, &arg.user, "USER", NULL, "Drop to this user after opening sources, sockets and state (required when started as root, except for --once).", false },
	{ "once", FLAG_BOOL, &arg.once, NULL, NULL, "Read the sources to their current end (from the beginning unless --source.start says otherwise), print the metrics, exit.", false },
	{ "format", FLAG_STRING, &arg.report_format, report_format_choices, "text", "Output format of the report subcommand (default {}).", true },
	{ "log.level", FLAG_STRING, &arg.log_level, "debug|info|warn|error", "info", "Only log messages with the given severity or above (default {}).", true },
	{ "log.format", FLAG_STRING, &arg.log_format, "logfmt|json", "logfmt", "Output format of log messages (default {}).", true },
	{ "version", FLAG_BOOL, &arg.version, NULL, NULL, "Show the version and exit.", true },
	{ "help", FLAG_BOOL, &arg.help, NULL, NULL, "Show this help and exit.", true },

	FLAG_END,
};

/* flags of the backfill subcommand only (it also takes the report's) */
static struct {
	int64_t step;
	StrList labels;
	const char *output;
	uint64_t max_samples;
} bf;

static const Flag backfill_flags[] = {
	{ "step", FLAG_DURATION, &bf.step, "DURATION", "5m", "Log time between two samples of every series (default {}).", true },
	{ "label", FLAG_LIST, &bf.labels, "NAME=VALUE", NULL, "Label added to every series, e.g. instance=mx1:10125 and job=postfix_tls so that the history joins the live series (repeatable).", true },
	{ "output", FLAG_STRING, &bf.output, "PATH", "-", "Where the OpenMetrics text goes ('-': standard output) (default {}).", true },
	{ "backfill.max-samples", FLAG_U64, &bf.max_samples, "N", "50000000", "Refuse to write more samples than this (series x steps; about 150 bytes each) (default {}).", true, .min = 1 },
	FLAG_END,
};

static void usage(FILE *f, const Flag *const *tables, bool report)
{
	if (report && tables[0] == backfill_flags)
		fprintf(f, "usage: postfix_tls_exporter backfill [FLAGS] [FILE...]\n\n"
			   "Write the Postfix families at every --step of log time as OpenMetrics with\n"
			   "timestamps, for `promtool tsdb create-blocks-from openmetrics FILE DIR`.\n\nFlags:\n");
	else if (report)
		fprintf(f, "usage: postfix_tls_exporter report [FLAGS] [FILE...]\n\n"
			   "Print the TLS enforcement readiness report for the given logs (plain, rotated or\n"
			   ".gz files; journal with --source.journal*), read from the beginning.\n\nFlags:\n");
	else
		fprintf(f, "usage: postfix_tls_exporter [FLAGS]\n"
			   "       postfix_tls_exporter report [FLAGS] [FILE...]\n"
			   "       postfix_tls_exporter backfill [FLAGS] [FILE...]\n\n"
			   "Prometheus exporter of Postfix TLS statistics, read from Postfix's log.\n\nFlags:\n");
	flags_usage(tables, f, report);
}

/* ---- the daemon ------------------------------------------------------------- */

typedef struct Daemon {
	Store *store;
	Ingest *ingest;
	Peers *peers;
	Loop *loop;
	Http *http;
	Source **sources;       /* no fixed limit: report mail.log* may name many */
	bool *pending;
	int64_t *next_check;
	size_t n_sources;
	const char *state_dir;
	int sigfd;
	bool quit;
	bool reload;
} Daemon;

static int add_source(void *userdata, Source *s)
{
	Daemon *d = userdata;
	size_t n = d->n_sources + 1;
	Source **v = reallocarray(d->sources, n, sizeof(*v));
	if (v)
		d->sources = v;
	bool *p = v ? reallocarray(d->pending, n, sizeof(*p)) : NULL;
	if (p)
		d->pending = p;
	int64_t *t = p ? reallocarray(d->next_check, n, sizeof(*t)) : NULL;
	if (!t) {
		source_free(s);
		return -ENOMEM;
	}
	d->next_check = t;
	d->next_check[d->n_sources] = 0;
	d->pending[d->n_sources] = true;
	d->sources[d->n_sources++] = s;
	return 0;
}

static int open_sources(Daemon *d, char **paths, bool follow)
{
	SourceEnv env = {
		.ingest = d->ingest,
		.store = d->store,
		.follow = follow,
		.state_dir = d->state_dir,
		.paths = paths,
		.add = add_source,
		.userdata = d,
	};
	return source_open_all(&env);
}

/* setup_core - the store, the parser and the peers. series_only: the
 * output is the metrics (--once, backfill); to_end: a run that reads to the
 * end and exits, whose peer tables take 2 MB pages (PeersConfig). */
static int setup_core(Daemon *d, bool series_only, bool to_end)
{
	int r = arg.host_label ? store_new(&d->store, metrics_fleet_families(), _M_MAX_FLEET, arg.store_max_series)
			       : store_new(&d->store, metrics_families, _M_MAX, arg.store_max_series);
	if (r < 0)
		return r;
	Slice v[] = { SLICE_LIT(PTE_VERSION) };
	store_set(d->store, M_BUILD_INFO, v, 1);
	metrics_init_zero(d->store);
	procstat_register(d->store);
	IngestConfig ic = INGEST_CONFIG_DEFAULT;
	ic.syslog_name_regex = arg.syslog_name;
	ic.wrapper_service_regex = arg.wrapper_service;
	ic.internal_relay_regex = arg.internal_relay;
	ic.internal_service_regex = arg.internal_service;
	ic.max_sessions = arg.sessions_max;
	ic.session_max_age_usec = arg.sessions_max_age;
	ic.max_line = arg.max_line;
	ic.max_hosts = arg.host_label ? arg.hosts_max : 0;
	_cleanup_free_ char *err = NULL;
	r = ingest_new(&d->ingest, d->store, &ic, &err);
	if (r < 0) {
		log_error("%s", err ? err : "cannot set up the parser");
		return r;
	}
	PeersConfig pc = { .max_labelled = arg.peers_max, .max_tracked = arg.peers_track, .window_usec = arg.window,
			   .series_only = series_only, .huge_pages = to_end };
	r = peers_new(&d->peers, d->store, &pc);
	if (r < 0)
		return log_errno(LOG_LEVEL_ERROR, r, "peers");
	ingest_set_peers(d->ingest, d->peers);
	return 0;
}

static void daemon_done(Daemon *d)
{
	for (size_t i = 0; i < d->n_sources; i++)
		source_free(d->sources[i]);
	free(d->sources);
	free(d->pending);
	free(d->next_check);
	http_free(d->http);
	loop_free(d->loop);
	ingest_free(d->ingest);
	peers_free(d->peers);
	store_free(d->store);
	if (d->sigfd >= 0)
		close(d->sigfd);
}

/* read_source - drain one source to its current end */
static int read_source(Daemon *d, Source *s, bool progress, int64_t *next_progress)
{
	for (;;) {
		int r = s->ops->process(s, now_monotonic_usec() + 200 * USEC_PER_MSEC);
		if (r < 0)
			return log_errno(LOG_LEVEL_ERROR, r, "reading %s", s->name);
		if (progress && now_monotonic_usec() >= *next_progress) {
			fprintf(stderr, "\rread %llu lines from %s ", (unsigned long long)ingest_lines_read(d->ingest),
				s->name);
			*next_progress = now_monotonic_usec() + 500 * USEC_PER_MSEC;
		}
		if (r == 0)
			return 0;
	}
}

/* read_all - drain every source to its current end (--once, report).
 * Return: 0, -ENODATA when there was input (lines, or a damaged file) but
 * no Postfix line in it (each source is named), other -errno (logged). An
 * empty input (an empty file, a journal match that selects nothing) is 0. */
static int read_all(Daemon *d, bool progress)
{
	int64_t next_progress = now_monotonic_usec() + 500 * USEC_PER_MSEC;
	bool damaged = false;
	for (size_t i = 0; i < d->n_sources; i++) {
		uint64_t lines = ingest_lines_read(d->ingest), pf = ingest_postfix_lines(d->ingest);
		int r = read_source(d, d->sources[i], progress, &next_progress);
		if (r < 0)
			return r;
		/* /etc/passwd or dpkg.log read "successfully" would otherwise
		 * give an empty report and exit 0. */
		if (ingest_postfix_lines(d->ingest) == pf)
			log_warn("no Postfix lines found in %s (%llu lines read; Postfix lines are those of "
				 "smtpd, smtp, lmtp, tlsproxy or postscreen under --postfix.syslog-name)",
				 d->sources[i]->name, (unsigned long long)(ingest_lines_read(d->ingest) - lines));
		damaged |= d->sources[i]->damaged;
	}
	if (progress)
		fprintf(stderr, "\rread %llu lines%*s\n", (unsigned long long)ingest_lines_read(d->ingest), 40, "");
	if (ingest_postfix_lines(d->ingest) == 0 && (ingest_lines_read(d->ingest) > 0 || damaged)) {
		log_error("nothing usable was read: no Postfix lines in any source");
		return -ENODATA;
	}
	return 0;
}

/* read_all_piped - read_all(), counting in a second thread when
 * --source.pipeline allows (see ingest_pipeline_start()) */
static int read_all_piped(Daemon *d, bool progress)
{
	bool pipe = arg.pipeline && cpus_available() > 1;
	for (size_t i = 0; i < d->n_sources; i++)
		/* Not the journal: reading it costs four times what counting does,
		 * so a second thread gained 3% of the time for 45% more CPU (it
		 * waits for records); and its source counts entries in the store. */
		pipe &= !strcmp(d->sources[i]->ops->kind, "file");
	/* The second thread would get a malloc arena of its own: a few hundred
	 * KB more resident for what one arena does as well (it mallocs, the
	 * reading thread hardly does). */
	if (pipe)
		mallopt(M_ARENA_MAX, 1);
	if (pipe && ingest_pipeline_start(d->ingest, 0) < 0)
		log_debug("no second thread; parsing and counting in one");
	else if (pipe)
		log_debug("parsing in this thread, counting in a second thread");
	int r = read_all(d, progress);
	ingest_pipeline_stop(d->ingest);
	return r;
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

static int report_cb(void *userdata, ReportFormat fmt, int64_t window_usec, Buf *out)
{
	Daemon *d = userdata;
	/* The window ends at the newest log event, as the report subcommand's
	 * does: a replayed or idle log keeps its numbers instead of sliding out
	 * of a window that ends at the wall clock. */
	int r = report_render(d->peers, fmt, peers_newest_usec(d->peers) ? 0 : now_realtime_usec(), window_usec, out);
	if (r == -ERANGE) {
		long long sec = (long long)(peers_window_usec(d->peers) / 1000000);
		buf_clear(out);
		buf_printf(out, "window must be at most the configured --window=%lld%s: older hours are not kept\n",
			   sec % 86400 == 0 ? sec / 86400 : sec % 3600 == 0 ? sec / 3600 : sec,
			   sec % 86400 == 0 ? "d" : sec % 3600 == 0 ? "h" : "s");
	}
	return r;
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

/* serve_start - signals, HTTP, source watches, privileges; then ready */
static int serve_start(Daemon *d)
{
	/* now, while a missing library can still be named (dynlib.h) */
	for (DynLib lib = 0; lib < _DYNLIB_MAX; lib++)
		if (dynlib_load(lib) < 0)
			return -ELIBACC;
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
	HttpConfig hc = {
		.listen_addresses = arg.listen.v,
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
	char window[24];
	format_duration(arg.window, window, sizeof(window));
	http_set_ready(d->http, true);
	if (!ingest_jit(d->ingest))
		log_info("PCRE2 JIT unavailable (no executable memory, e.g. MemoryDenyWriteExecute=yes): "
			 "using the interpreter; counts are the same, ingest is slower");
	log_info("postfix_tls_exporter %s ready, reading %zu source(s); state directory: %s", PTE_VERSION,
		 d->n_sources, d->state_dir ? d->state_dir : "none (positions and the peer table are not saved)");
	log_info("limits: --source.max-line-length=%llu --sessions.max=%llu --store.max-series=%llu --peers.max=%llu "
		 "--peers.track=%llu --window=%s --web.max-connections=%llu --web.max-connections-per-ip=%llu",
		 (unsigned long long)arg.max_line, (unsigned long long)arg.sessions_max,
		 (unsigned long long)arg.store_max_series, (unsigned long long)arg.peers_max,
		 (unsigned long long)arg.peers_track, window, (unsigned long long)arg.max_connections,
		 (unsigned long long)arg.max_connections_per_ip);
	sd_notify(0, "READY=1\nSTATUS=Following the Postfix log");
	return 0;
}

/* serve_loop - read sources in slices, answer HTTP, save state, until SIGTERM */
static int serve_loop(Daemon *d)
{
	int r;
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
/* every flag table, in --help order: source types, shared source flags, ours */
static const Flag *flag_tables[8];

/* free_args - the flag lists live for the whole run; freed at exit so that
 * LeakSanitizer reports only real leaks. */
static void free_args(void)
{
	free(positional.v);
	flags_free(flag_tables);
}

static void flag_tables_init(bool backfill)
{
	size_t n = 0;
	if (backfill)
		flag_tables[n++] = backfill_flags;
	for (const SourceType *const *t = source_types; *t; t++) {
		if (n + 3 > ELEMENTSOF(flag_tables))
			abort(); /* more source types than flag_tables has room for */
		flag_tables[n++] = (*t)->flags;
	}
	flag_tables[n++] = source_flags;
	flag_tables[n++] = flags;
}

/* read_to_end - --once and report: open the sources and read them to their
 * current end. Return: 0, or the exit status */
static int read_to_end(Daemon *d, char **paths, bool series_only, bool progress)
{
	if (setup_core(d, series_only, true) < 0 || open_sources(d, paths, false) < 0)
		return EXIT_USAGE;
	return read_all_piped(d, progress) < 0 ? 1 : 0;
}

/* print_and_done - --once and report: out to stdout when all went well,
 * then tear down. Returns the exit status. */
static int print_and_done(Daemon *d, Buf *out, int r)
{
	if (r == 0 && out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
		r = 1;
	buf_deinit(out);
	daemon_done(d);
	return r;
}

/* run_report - the report subcommand: the FILE arguments (and any --source.*
 * flags) to their end, then the readiness report on stdout */
static int run_report(ReportFormat rfmt)
{
	Daemon d = { .sigfd = -1 };
	Buf out = BUF_NULL;
	int r = read_to_end(&d, positional.v, false, isatty(STDERR_FILENO));
	if (r == 0 && report_render(d.peers, rfmt, ingest_last_event_usec(d.ingest) ? ingest_last_event_usec(d.ingest)
										  : now_realtime_usec(), 0, &out) < 0)
		r = 1;
	return print_and_done(&d, &out, r);
}

static void on_clock(void *userdata, int64_t ts_usec)
{
	backfill_observe(userdata, ts_usec);
}

/* backfill_output - write the history to --output; returns the exit status */
static int backfill_output(Backfill *b)
{
	bool to_stdout = !strcmp(bf.output, "-");
	FILE *f = to_stdout ? stdout : fopen(bf.output, "we");
	if (!f) {
		log_error("--output=%s: %s", bf.output, strerror(errno));
		return 1;
	}
	_cleanup_free_ char *err = NULL;
	int64_t n = backfill_write(b, f, &err);
	int r = fflush(f) == 0 && !ferror(f) ? 0 : -EIO;
	if (!to_stdout && fclose(f) != 0)
		r = -EIO;
	if (n < 0) {
		log_error("backfill: %s", err ? err : strerror((int)-n));
		return 1;
	}
	if (r < 0) {
		log_error("--output=%s: write error", bf.output);
		return 1;
	}
	log_info("backfill: wrote %lld samples to %s", (long long)n, to_stdout ? "standard output" : bf.output);
	return 0;
}

/* run_backfill - the backfill subcommand: the FILE arguments to their end,
 * a snapshot at every --step of log time, then the timestamped history */
static int run_backfill(void)
{
	Daemon d = { .sigfd = -1 };
	Backfill *b = NULL;
	_cleanup_free_ char *err = NULL;
	int r = setup_core(&d, true, true) < 0 || open_sources(&d, positional.v, false) < 0 ? EXIT_USAGE : 0;
	BackfillConfig bc = { bf.step, (const char *const *)bf.labels.v, bf.labels.n, bf.max_samples };
	if (r == 0 && backfill_new(&b, d.store, &bc, &err) < 0) {
		log_error("%s", err ? err : "backfill: out of memory");
		r = EXIT_USAGE;
	}
	if (r == 0) {
		ingest_set_clock_hook(d.ingest, on_clock, b);
		r = read_all_piped(&d, isatty(STDERR_FILENO)) < 0 ? 1 : 0;
	}
	if (r == 0)
		r = backfill_output(b);
	backfill_free(b);
	daemon_done(&d);
	return r;
}

/* run_once - --once: the sources to their end, then the metrics on stdout */
static int run_once(void)
{
	Daemon d = { .sigfd = -1 };
	Buf out = BUF_NULL;
	int r = read_to_end(&d, NULL, true, false);
	if (r == 0 && expo_render(d.store, EXPO_TEXT, false, &out) < 0)
		r = 1;
	return print_and_done(&d, &out, r);
}

/* run_serve - the daemon: resume state, follow the sources, serve HTTP */
static int run_serve(void)
{
	Daemon d = { .sigfd = -1 };
	int r;
	d.state_dir = arg.state_directory ? arg.state_directory : statefile_dir_default();
	if (d.state_dir) {
		struct stat st;
		if (stat(d.state_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			log_error("--state.directory=%s: not a directory (create it, or unset the flag)", d.state_dir);
			return EXIT_USAGE;
		}
	}
	if ((r = setup_core(&d, false, false)) < 0) {
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
	if ((r = open_sources(&d, NULL, true)) < 0) {
		daemon_done(&d);
		return EXIT_USAGE;
	}
	r = serve_start(&d);
	if (r >= 0)
		r = serve_loop(&d);
	daemon_done(&d);
	if (r == -EINVAL || r == -EADDRINUSE || r == -EADDRNOTAVAIL || r == -EPERM || r == -ESRCH)
		return r == -EINVAL || r == -ESRCH || r == -EPERM ? EXIT_USAGE : 1;
	return r < 0 ? 1 : 0;
}

/* check_listen_addresses - refuse a bad --web.listen-address before any
 * source or state is touched, with the same message bind would give */
static int check_listen_addresses(void)
{
	for (size_t i = 0; i < arg.listen.n; i++) {
		char host[256], port[8];
		_cleanup_free_ char *err = NULL;
		int r = http_parse_listen_address(arg.listen.v[i], host, sizeof(host), port, sizeof(port), &err);
		if (r < 0) {
			fprintf(stderr, "postfix_tls_exporter: %s\n", err ? err : strerror(-r));
			return r;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool backfill = argc > 1 && !strcmp(argv[1], "backfill");
	bool report = backfill || (argc > 1 && !strcmp(argv[1], "report"));
	flag_tables_init(backfill);
	atexit(free_args);
	if (flags_parse(flag_tables, argc - 1 - report, argv + 1 + report, report, &positional) < 0)
		return EXIT_USAGE;
	if (arg.help) {
		usage(stdout, flag_tables, report);
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
	if (source_check_flags() < 0)
		return EXIT_USAGE;
	const ReportFormatInfo *rfmt = report_format_find(arg.report_format);
	if (!rfmt) {
		fprintf(stderr, "postfix_tls_exporter: --format must be %s\n", report_format_list());
		return EXIT_USAGE;
	}

	(void)rlimit_nofile_raise(); /* many journal files; issue 15 */
	if (!report && !arg.once && !arg.systemd_socket && check_listen_addresses() < 0)
		return EXIT_USAGE;
	if (backfill)
		return run_backfill();
	if (report)
		return run_report(rfmt->id);
	if (positional.n) {
		fprintf(stderr, "postfix_tls_exporter: unexpected argument '%s' (see --help)\n", positional.v[0]);
		return EXIT_USAGE;
	}
	return arg.once ? run_once() : run_serve();
}

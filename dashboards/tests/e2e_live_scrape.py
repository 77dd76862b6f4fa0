#!/usr/bin/env python3
"""End-to-end, live: a real Prometheus scrapes the running daemon every
second while the corpus is appended to the log file the daemon follows, in
four steps a few seconds apart.

Asserts:
  * the target is up, and Prometheus stored exactly the metric names that a
    `--once` run of the same corpus prints (plus its own up/scrape_* series):
    the names the dashboards and rules use are the names a real scrape gives;
  * at the end, the raw counters equal the corpus ground truth (319 inbound
    connections, 207 TLS sessions, 221 sessions with mail, 172 of them over
    TLS, 2267 lines);
  * every time series panel target of every dashboard (variables substituted,
    $__rate_interval = 5s for the 1 s scrape interval) returns data over the
    live window, and so does every recording rule expression (with its
    windows covering the run). Instant stat/table panels over $__range and
    the previous-period comparison are exact only on the backfilled timeline
    of e2e_prometheus.py and are checked there.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import promql  # noqa: E402
import e2e_prometheus as e2e  # noqa: E402  (fixture helpers, Prometheus wrapper)

JOB = "postfix_tls"


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if pred():
                return True
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("timed out waiting for " + what)


def main():
    if not e2e.BINARY:
        sys.exit("PTE_BINARY is not set")
    for tool in (e2e.PROMETHEUS,):
        if not os.access(tool, os.X_OK):
            print("SKIP: %s not installed (Debian package prometheus)" % tool)
            return 77
    with open(e2e.GROUND_TRUTH) as f:
        gt = json.load(f)
    ok = e2e.ok
    tmp = tempfile.mkdtemp(prefix="pte-dash-live-")
    daemon = prom = None
    try:
        log = os.path.join(tmp, "maillog.log")
        open(log, "w").close()
        # what a --once run of the whole corpus prints
        once = subprocess.run([e2e.BINARY, "--once", "--source.start=beginning", "--source.file=" + e2e.CORPUS],
                              check=True, capture_output=True, text=True).stdout
        once_names = {k[0] for k in e2e.parse_exposition(once)}

        port = e2e.free_port()
        env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT="1")
        daemon_log = open(os.path.join(tmp, "daemon.log"), "wb")
        daemon = subprocess.Popen([e2e.BINARY, "--source.file=" + log, "--source.start=beginning",
                                   "--web.listen-address=127.0.0.1:%d" % port],
                                  stdout=daemon_log, stderr=subprocess.STDOUT, env=env)
        target = "127.0.0.1:%d" % port

        def metrics():
            with urllib.request.urlopen("http://%s/metrics" % target, timeout=2) as r:
                return e2e.parse_exposition(r.read().decode())
        wait_for(lambda: daemon.poll() is None and metrics() is not None, 20, "the daemon's /metrics")

        prom = e2e.Prometheus(tmp, os.path.join(tmp, "data"))
        # reserve a different port for Prometheus than the daemon's
        with open(prom.cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: %s\n    static_configs:\n"
                    "      - targets: ['%s']\n" % (JOB, target))
        prom.start()
        t_start = time.time()
        wait_for(lambda: e2e.finite_values(prom.api("/api/v1/query", query='up{job="%s"}' % JOB)) == [1.0],
                 30, "the first successful scrape")

        with open(e2e.CORPUS, encoding="utf-8", errors="surrogateescape") as f:
            lines = f.read().splitlines(keepends=True)
        steps = 4
        for k in range(steps):
            chunk = lines[len(lines) * k // steps:len(lines) * (k + 1) // steps]
            with open(log, "a", encoding="utf-8", errors="surrogateescape") as f:
                f.write("".join(chunk))
            time.sleep(3)
        wait_for(lambda: metrics().get(("postfix_tls_exporter_lines_read_total", "")) == len(lines), 30,
                 "the daemon to read the whole corpus")
        time.sleep(3)           # a few more scrapes of the final state
        t_end = time.time()

        # ---- names and final values as Prometheus stored them
        resp = prom.get("/api/v1/label/__name__/values", **{"match[]": '{job="%s"}' % JOB})
        stored = set(resp.get("data") or [])
        own = {n for n in stored if n == "up" or n.startswith("scrape_")}
        ok(stored - own == once_names,
           "names stored from the live scrape differ from --once: only live %s, only --once %s"
           % (sorted(stored - own - once_names), sorted(once_names - stored)))
        final = {
            'sum(postfix_tls_inbound_connections_total)': gt["inbound_client_connections"],
            'sum(postfix_tls_inbound_sessions_total{encryption="tls"})': gt["tls_established_sessions"],
            'sum(postfix_tls_inbound_sessions_total{mail="true"})': gt["sessions_with_mail_accepted"],
            'sum(postfix_tls_inbound_sessions_total{encryption="tls",mail="true"})': gt["sessions_with_mail_accepted_tls"],
            'sum(postfix_tls_inbound_handshakes_total)': gt["tls_established_sessions"],
            'sum(postfix_tls_exporter_lines_read_total)': len(lines),
        }
        for q, want in final.items():
            vals = e2e.finite_values(prom.api("/api/v1/query", query=q, time=t_end))
            ok(vals == [float(want)], "live %s = %s, want %s" % (q, vals, want))

        # ---- every time series panel target over the live window
        subst = {"$__rate_interval": "5s", "$__interval": "1s", "$__range": "%ds" % int(t_end - t_start + 1),
                 "$job": JOB, "$instance": ".+", "$host": ".*", "$syslog_name": ".+"}
        n = 0
        for fname in sorted(os.listdir(os.path.join(e2e.DASH, "grafana"))):
            with open(os.path.join(e2e.DASH, "grafana", fname), encoding="utf-8") as f:
                d = json.load(f)
            for p in e2e.all_panels(d):
                for t in p.get("targets", []):
                    if t.get("instant") and not t.get("range"):
                        continue
                    expr = promql.substitute(t["expr"], subst)
                    n += 1
                    vals = e2e.finite_values(prom.api("/api/v1/query_range", query=expr,
                                                      start=t_start, end=t_end, step=1))
                    ok(vals, "%s panel %r target %s: no data from the live scrape:\n    %s"
                       % (d["uid"], p["title"], t["refId"], expr))
        # ---- recording rules: their windows (>= 15m) cover the whole run
        import yaml
        with open(os.path.join(e2e.DASH, "prometheus", "postfix-tls.rules.yml"), encoding="utf-8") as f:
            for g in yaml.safe_load(f)["groups"]:
                for rule in g["rules"]:
                    n += 1
                    vals = e2e.finite_values(prom.api("/api/v1/query", query=rule["expr"], time=t_end))
                    ok(vals, "recording rule %s: no data from the live scrape" % rule["record"])
        print("live: %d queries over %.0f s of 1 s scrapes of %s" % (n, t_end - t_start, target))
    finally:
        if prom:
            prom.stop()
        if daemon and daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        if e2e.results["failed"] == 0 and not os.environ.get("PTE_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    print("%d passed, %d failed" % (e2e.results["passed"], e2e.results["failed"]))
    return 1 if e2e.results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

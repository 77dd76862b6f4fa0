#!/usr/bin/env python3
"""End-to-end test: every dashboard query and every rule expression against a
real Prometheus holding a timeline produced by the real daemon.

Timeline (13 snapshots, one minute apart, for two exporter instances of job
"postfix_tls": mx1.example.test:10125 and mx2.example.test:10125):

  t0            the daemon on an empty log file
  t1 .. t6      pass 1: the corpus fed in 6 chunks (cumulative prefixes)
  t7 .. t12     pass 2: the whole corpus again, in 6 chunks
                (mx2 additionally reads two lines of a format the parser does
                not know at the start of pass 2)

Each snapshot is a `postfix_tls_exporter --once` run over the log file as it
stands at that step (the file grows like a followed log), converted to
OpenMetrics with the snapshot's timestamp and the target labels, and
backfilled with `promtool tsdb create-blocks-from openmetrics`.  The
recording rules are then backfilled from that data with `promtool tsdb
create-blocks-from rules`, and Prometheus is restarted on the result.

What a scrape would add, the fixture adds: up=1 at every snapshot; a counter
series written as 0 at the snapshots before it first appears (as if the
exporter pre-created it, which makes increase() over a window exact); the
process start time set to one minute before t0 and the CPU counter summed
over the runs (each --once run is a new process).

Then, with Grafana's variables substituted (job=postfix_tls; instance = all,
then mx1 only; syslog_name = all; $__rate_interval = 4m; $__interval = 1m;
$__range = 6m = pass 2, evaluated at t12):
  * every target of every panel returns data with a finite value (instant
    targets at t12, time series targets as range queries t0..t12);
  * stat panels return exactly one series (they aggregate the fleet), and
    {{instance}} legends return one series per selected instance;
  * the variables' label_values() queries return the expected values;
  * the headline panels return the exact corpus ground truth
    (analysis/ground-truth-counts.json and MANIFEST.md), doubled for the
    fleet of two;
  * every rule expression evaluates; every recording rule and every vector
    operand of every alert returns data; the recorded series exist; the
    recording rules' values are exact; exactly the expected alerts hold.
"""
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

try:
    import yaml
except ImportError:          # Debian: python3-yaml
    print("SKIP: the Python yaml module is not installed (Debian package python3-yaml)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import promql  # noqa: E402

ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
DASH = os.path.join(ROOT, "dashboards")
BINARY = os.environ.get("PTE_BINARY")
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")
CORPUS = os.path.join(ROOT, "tests", "data", "postfix-3.7-maillog.log")
GROUND_TRUTH = os.path.join(ROOT, "tests", "data", "ground-truth-counts.json")

STEP = 60
CHUNKS = 6
JOB = "postfix_tls"
MX1, MX2 = "mx1.example.test:10125", "mx2.example.test:10125"
NEW_FORMAT_LINES = (
    "Nov 28 15:50:58 mx1 postfix/smtpd[99999]: TLS connection established from "
    "foo.example[192.0.2.1] using QUIC\n"
    "Nov 28 15:50:59 mx1 postfix/smtpd[99999]: Anonymous TLS handshake completed from "
    "foo.example[192.0.2.1]: TLSv1.3\n")

results = {"passed": 0, "failed": 0}


def ok(cond, msg):
    if cond:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print("FAIL:", msg)
    return cond


# ------------------------------------------------------------------ fixture

def parse_exposition(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$", line)
        if not m:
            raise ValueError("unparsable line: %r" % line)
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def snapshots(tmp, instance, extra_at_pass2=""):
    with open(CORPUS, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines(keepends=True)
    n = len(lines)
    d = os.path.join(tmp, instance.split(".")[0])
    os.makedirs(d)
    path = os.path.join(d, "maillog.log")
    snaps = []
    for k in range(2 * CHUNKS + 1):
        if k <= CHUNKS:
            content = "".join(lines[:n * k // CHUNKS])
        else:
            content = "".join(lines) + extra_at_pass2 + "".join(lines[:n * (k - CHUNKS) // CHUNKS])
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(content)
        out = subprocess.run([BINARY, "--once", "--source.start=beginning", "--source.file=" + path],
                             check=True, capture_output=True, text=True).stdout
        snaps.append(parse_exposition(out))
    return snaps


def fixup(snaps, t0):
    """Apply the scrape-equivalent additions described in the module doc."""
    keys = set()
    for s in snaps:
        keys |= set(s)
    cpu = 0.0
    for k, s in enumerate(snaps):
        for key in keys:
            if key[0].endswith("_total") and key not in s and any(key in later for later in snaps[k:]):
                s[key] = 0.0
        cpu += s.get(("process_cpu_seconds_total", ""), 0.0)
        s[("process_cpu_seconds_total", "")] = cpu
        s[("process_start_time_seconds", "")] = float(t0 - 60)
        s[("up", "")] = 1.0
    # the fixture relies on monotonic counters across the growing log
    for k in range(1, len(snaps)):
        for key, v in snaps[k - 1].items():
            if key[0].endswith("_total"):
                ok(snaps[k].get(key, 0.0) >= v, "counter %s%s decreased at snapshot %d" % (key[0], key[1], k))
    return snaps


def with_target(labels, instance):
    inner = labels[1:-1] if labels else ""
    extra = 'job="%s",instance="%s"' % (JOB, instance)
    return "{%s%s}" % (extra, ("," + inner) if inner else "")


def write_openmetrics(path, per_instance, t0):
    series = {}
    for instance, snaps in per_instance.items():
        for k, s in enumerate(snaps):
            for (name, labels), v in s.items():
                series.setdefault((name, with_target(labels, instance)), []).append((t0 + k * STEP, v))
    with open(path, "w", encoding="utf-8") as f:
        for (name, labels) in sorted(series):
            for ts, v in sorted(series[(name, labels)]):
                f.write("%s%s %s %d\n" % (name, labels, repr(v), ts))
        f.write("# EOF\n")
    return len(series)


# ------------------------------------------------------------------ Prometheus

def free_port():
    for port in range(19900, 20000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port in 19900-19999")


class Prometheus:
    def __init__(self, tmp, datadir):
        self.tmp, self.datadir = tmp, datadir
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.proc = None
        self.cfg = os.path.join(tmp, "prometheus.yml")
        with open(self.cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n")

    def start(self):
        self.log = open(os.path.join(self.tmp, "prometheus.log"), "ab")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.cfg, "--storage.tsdb.path=" + self.datadir,
             "--storage.tsdb.retention.time=30d", "--web.listen-address=127.0.0.1:%d" % self.port,
             "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("prometheus exited: see %s/prometheus.log" % self.tmp)
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()

    def api(self, path, **params):
        data = urllib.parse.urlencode(params, doseq=True).encode()
        req = urllib.request.Request(self.url + path, data=data)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            return json.load(e)

    def get(self, path, **params):
        with urllib.request.urlopen(self.url + path + "?" + urllib.parse.urlencode(params, doseq=True),
                                    timeout=30) as r:
            return json.load(r)


# ------------------------------------------------------------------ evaluation

def finite_values(resp):
    """All finite sample values of a query response; None on error."""
    if resp.get("status") != "success":
        return None
    data = resp["data"]
    vals = []
    if data["resultType"] == "scalar":
        vals.append(float(data["result"][1]))
    elif data["resultType"] == "vector":
        vals += [float(r["value"][1]) for r in data["result"]]
    elif data["resultType"] == "matrix":
        vals += [float(v[1]) for r in data["result"] for v in r["values"]]
    return [v for v in vals if math.isfinite(v)]


def all_panels(d):
    for p in d.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def check_selectors(prom, where, expr, t0, t_end):
    """Each selector on its own must match series: an `or ... * 0` fallback
    or an outer aggregation must not hide a misspelt label value."""
    for sel in promql.selector_strings(expr):
        resp = prom.get("/api/v1/series", **{"match[]": sel, "start": t0, "end": t_end})
        ok(resp.get("status") == "success" and len(resp.get("data") or []) > 0,
           "%s: selector matches no series: %s" % (where, sel))


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def main():
    if not BINARY:
        sys.exit("PTE_BINARY is not set")
    for tool in (PROMTOOL, PROMETHEUS):
        if not os.access(tool, os.X_OK):
            print("SKIP: %s not installed (Debian package prometheus)" % tool)
            return 77
    with open(GROUND_TRUTH) as f:
        gt = json.load(f)

    # ground truth: every headline figure below comes from the corpus driver's
    # own record (client-observed), not from the daemon
    conn = gt["inbound_client_connections"]                      # 319
    tls = gt["tls_established_sessions"]                         # 207
    mail = gt["sessions_with_mail_accepted"]                     # 221
    tls_mail = gt["sessions_with_mail_accepted_tls"]             # 172
    plain_mail = gt["sessions_with_mail_accepted_plain"]         # 49
    failed = gt["tls_failed_sessions"]                           # 40
    plain = gt["plaintext_sessions_no_tls_attempt"]              # 72
    legacy = gt["tls_by_protocol"]["TLSv1"] + gt["tls_by_protocol"]["TLSv1.1"]   # 12
    out_first = gt["outbound_recipient_deliveries_first_attempt"]  # 70
    out_retry = gt["outbound_expected_retry_attempts"]           # 17
    out_attempts = out_first + out_retry                         # 87
    # MANIFEST.md: first attempt 17 deferred, retry pass 14 deferred again
    out_deferred = gt["outbound_expected_first_attempt"]["deferred"] + 14   # 31
    ok(conn == 319 and tls == 207 and mail == 221 and tls_mail == 172, "ground truth file changed")

    tmp = tempfile.mkdtemp(prefix="pte-dash-e2e-")
    prom = None
    try:
        now = int(time.time())
        t_end = (now // 60) * 60 - 5 * 60
        t0 = t_end - 2 * CHUNKS * STEP
        per_instance = {
            MX1: fixup(snapshots(tmp, MX1), t0),
            MX2: fixup(snapshots(tmp, MX2, NEW_FORMAT_LINES), t0),
        }
        om = os.path.join(tmp, "timeline.om")
        nseries = write_openmetrics(om, per_instance, t0)
        datadir = os.path.join(tmp, "data")
        r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", om, datadir],
                           capture_output=True, text=True)
        if not ok(r.returncode == 0, "backfill failed: " + r.stdout + r.stderr):
            return 1

        prom = Prometheus(tmp, datadir)
        prom.start()
        rule_files = sorted(os.path.join(DASH, "prometheus", f)
                            for f in os.listdir(os.path.join(DASH, "prometheus")) if f.endswith(".yml"))
        rules_out = os.path.join(tmp, "rules-blocks")
        r = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "rules",
                            "--start=%d" % t0, "--end=%d" % (t_end + STEP), "--eval-interval=60s",
                            "--url=" + prom.url, "--output-dir=" + rules_out,
                            os.path.join(DASH, "prometheus", "postfix-tls.rules.yml")],
                           capture_output=True, text=True)
        ok(r.returncode == 0, "rule backfill failed: " + r.stdout + r.stderr)
        prom.stop()
        for b in os.listdir(rules_out):
            if os.path.isdir(os.path.join(rules_out, b)):
                shutil.move(os.path.join(rules_out, b), os.path.join(datadir, b))
        prom.start()
        print("timeline: %d series, t0=%d, t_end=%d, prometheus on %s" % (nseries, t0, t_end, prom.url))

        common = {"$__rate_interval": "240s", "$__interval": "60s", "$__range": "360s", "$job": JOB,
                  "$host": ".*", "$syslog_name": ".+"}
        modes = {
            "fleet": dict(common, **{"$instance": ".+"}),
            "mx1": dict(common, **{"$instance": "mx1\\\\.example\\\\.test:10125"}),
        }
        mult = {"fleet": 2, "mx1": 1}

        # exact values of headline panels: (dashboard uid, panel title, refId) -> value per instance
        headline = {
            ("postfix-tls-overview", "TLS share of sessions with mail", "A"): ("ratio", tls_mail / mail),
            ("postfix-tls-overview", "Plaintext share of sessions with mail", "A"): ("ratio", plain_mail / mail),
            ("postfix-tls-overview", "TLS share of all sessions", "A"): ("ratio", tls / conn),
            ("postfix-tls-overview", "Inbound connections", "A"): ("count", conn),
            ("postfix-tls-overview", "TLS sessions", "A"): ("count", tls),
            ("postfix-tls-overview", "Sessions with mail", "A"): ("count", mail),
            ("postfix-tls-overview", "Mail sessions over TLS", "A"): ("count", tls_mail),
            ("postfix-tls-overview", "Failed STARTTLS sessions", "A"): ("count", failed),
            ("postfix-tls-overview", "Inbound TLS handshakes", "A"): ("count", tls),
            ("postfix-tls-overview", "Legacy protocol share (inbound)", "A"): ("ratio", legacy / tls),
            ("postfix-tls-overview", "Legacy inbound handshakes", "A"): ("count", legacy),
            ("postfix-tls-overview", "TLS 1.3 share (inbound)", "A"): ("ratio", gt["tls_by_protocol"]["TLSv1.3"] / tls),
            ("postfix-tls-overview", "Outbound delivery attempts", "A"): ("count", out_attempts),
            ("postfix-tls-overview", "Deferred outbound attempts", "A"): ("count", out_deferred),
            ("postfix-tls-peers", "Plaintext share of mail sessions (all peers)", "A"): ("ratio", plain_mail / mail),
            ("postfix-tls-peers", "Plaintext mail sessions", "A"): ("count", plain_mail),
            ("postfix-tls-peers", "Legacy inbound handshakes", "A"): ("count", legacy),
            ("postfix-tls-exporter", "Lines read", "A"): ("lines", 2267),
        }
        seen_headline = set()
        expected_vars = {
            "job": {JOB},
            "instance": {MX1, MX2},
            "host": set(),  # single-MTA exporters: no host label, "All" (.*) matches their series
            "syslog_name": {"postfix", "postfix/smtps", "postfix/submission"},
        }
        n_queries = 0
        for fname in sorted(os.listdir(os.path.join(DASH, "grafana"))):
            with open(os.path.join(DASH, "grafana", fname), encoding="utf-8") as f:
                d = json.load(f)
            uid = d["uid"]
            for mode, subst in modes.items():
                # template variables
                for v in d["templating"]["list"]:
                    if v.get("type") != "query":
                        continue
                    q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                    m = re.fullmatch(r"label_values\((.*),\s*([a-zA-Z_]+)\)", q, re.S)
                    if not ok(m is not None, "%s: variable %s: unexpected query %r" % (uid, v["name"], q)):
                        continue
                    sel, label = promql.substitute(m.group(1), subst), m.group(2)
                    resp = prom.get("/api/v1/label/%s/values" % label, **{"match[]": sel, "start": t0, "end": t_end})
                    got = set(resp.get("data") or [])
                    want = expected_vars[v["name"]]
                    if mode == "mx1" and v["name"] == "instance":
                        want = {MX1, MX2}      # the instance variable lists all instances of the job
                    ok(got == want, "%s [%s]: variable %s = %s, want %s" % (uid, mode, v["name"], sorted(got), sorted(want)))
                for p in all_panels(d):
                    if p.get("type") == "row":
                        continue
                    for t in p.get("targets", []):
                        where = "%s [%s] panel %r target %s" % (uid, mode, p["title"], t["refId"])
                        expr = promql.substitute(t["expr"], subst)
                        if mode == "fleet":
                            check_selectors(prom, where, expr, t0, t_end)
                        n_queries += 1
                        if t.get("instant") and not t.get("range"):
                            resp = prom.api("/api/v1/query", query=expr, time=t_end)
                        else:
                            resp = prom.api("/api/v1/query_range", query=expr, start=t0, end=t_end, step=STEP)
                        vals = finite_values(resp)
                        if not ok(vals is not None, "%s: query failed: %s" % (where, resp.get("error"))):
                            continue
                        if not ok(len(vals) > 0, "%s: returned no data:\n    %s" % (where, expr)):
                            continue
                        res = resp["data"]["result"]
                        if p["type"] == "stat":
                            ok(resp["data"]["resultType"] == "scalar" or len(res) == 1,
                               "%s: a stat must reduce to one series, got %d" % (where, len(res)))
                        if "{{instance}}" in t.get("legendFormat", ""):
                            insts = {r["metric"].get("instance") for r in res}
                            want = {MX1, MX2} if mode == "fleet" else {MX1}
                            ok(insts == want, "%s: per-instance series %s, want %s" % (where, sorted(insts), sorted(want)))
                        key = (uid, p["title"], t["refId"])
                        if key in headline:
                            seen_headline.add(key)
                            kind, per = headline[key]
                            want = per * mult[mode] if kind == "count" else per
                            if kind == "lines":   # mx2 read the extra lines too
                                want = per * mult[mode] + (NEW_FORMAT_LINES.count("\n") if mode == "fleet" else 0)
                            ok(len(vals) == 1 and close(vals[0], want),
                               "%s: value %s, want %s" % (where, vals, want))
                        if p["title"] == "Top plaintext peers (inbound mail)" and t["refId"] == "D":
                            # pass 1 and pass 2 carry the same traffic: no change
                            ok(all(abs(v) < 1e-12 for v in vals), "%s: share change %s, want 0" % (where, vals))
        for key in headline:
            ok(key in seen_headline, "headline panel %s not found in the dashboards" % (key,))

        # ------------------------------------------------------------ rules
        n_rules = 0
        firing = set()
        exact_rules = {
            "postfix_tls:inbound_plaintext_mail_sessions:ratio_rate1h": plain_mail / mail,
            "postfix_tls:inbound_plaintext_mail_sessions:ratio_rate7d": plain_mail / mail,
            "postfix_tls:inbound_tls_mail_sessions:ratio_rate1h": tls_mail / mail,
            "postfix_tls:inbound_tls_sessions:ratio_rate1h": tls / conn,
            "postfix_tls:inbound_plaintext_sessions:ratio_rate1h": plain / conn,
            "postfix_tls:inbound_mail_sessions:rate1h": 2 * mail / 3600.0,
            "postfix_tls:inbound_sessions:rate1h": 2 * conn / 3600.0,
            "postfix_tls:inbound_handshakes:rate1h": 2 * tls / 3600.0,
            "postfix_tls:inbound_legacy_tls_handshakes:ratio_rate1h": legacy / tls,
            "postfix_tls:inbound_legacy_tls_handshakes:ratio_rate7d": legacy / tls,
            "postfix_tls:inbound_starttls_failed_sessions:ratio_rate15m": failed / (tls + failed),
            "postfix_tls:inbound_starttls_failed_sessions:ratio_rate1d": failed / (tls + failed),
            "postfix_tls:inbound_starttls_attempts:rate15m": 2 * (tls + failed) / 900.0,
            "postfix_tls:outbound_deliveries:rate1h": 2 * out_attempts / 3600.0,
        }
        for rf in rule_files:
            with open(rf, encoding="utf-8") as f:
                groups = yaml.safe_load(f)["groups"]
            for g in groups:
                for rule in g["rules"]:
                    n_rules += 1
                    name = rule.get("record") or rule.get("alert")
                    check_selectors(prom, "rule %s" % name, rule["expr"], t0, t_end)
                    resp = prom.api("/api/v1/query", query=rule["expr"], time=t_end)
                    if not ok(resp.get("status") == "success", "rule %s: %s" % (name, resp.get("error"))):
                        continue
                    res = resp["data"]["result"]
                    if "record" in rule:
                        ok(len(res) == 2, "recording rule %s: %d series, want one per instance" % (name, len(res)))
                        if name in exact_rules:
                            for r in res:
                                ok(close(float(r["value"][1]), exact_rules[name]),
                                   "recording rule %s{instance=%s} = %s, want %s"
                                   % (name, r["metric"].get("instance"), r["value"][1], exact_rules[name]))
                        rec = prom.api("/api/v1/query", query=name, time=t_end)
                        ok(rec.get("status") == "success" and len(rec["data"]["result"]) == 2,
                           "recorded series %s missing from the backfilled rule blocks" % name)
                    else:
                        for r in res:
                            firing.add((name, r["metric"].get("instance")))
                        for operand in promql.vector_operands(rule["expr"]):
                            vals = finite_values(prom.api("/api/v1/query", query=operand, time=t_end))
                            ok(vals, "alert %s: operand returned no data:\n    %s" % (name, operand))
        # On this timeline: 22% of mail sessions plaintext (> 20%), outbound TLS
        # failures of every reason >= 5 per hour, deferred deliveries to
        # example.test, and mx2's two unrecognised lines. Baselines equal the
        # short windows (steady traffic), up=1, no source down, no drops, no
        # malformed lines, no expired sessions, uptime below 1 hour.
        want = {(a, i) for a in ("PostfixTLSPlaintextMailShareHigh", "PostfixTLSOutboundTLSFailures",
                                 "PostfixTLSOutboundDestinationTLSDeferred") for i in (MX1, MX2)}
        want.add(("PostfixTLSUnrecognizedLines", MX2))
        ok(firing == want, "alert conditions holding at t_end: %s\n    want %s" % (sorted(firing), sorted(want)))
        print("evaluated %d panel queries and %d rule expressions" % (n_queries, n_rules))
    finally:
        if prom:
            prom.stop()
        if results["failed"] == 0 and not os.environ.get("PTE_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("kept", tmp)
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

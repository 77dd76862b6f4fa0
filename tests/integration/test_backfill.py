#!/usr/bin/env python3
"""backfill: a month of history into a real Prometheus, exactly.

1. A 30-day log made from the corpus: day N is tests/data/postfix-3.7-maillog.log
   with its date changed to Oct 30 + N, so every day holds the corpus' sessions.
2. `backfill --step=5m --label=instance=... --label=job=...`: the output ends with
   "# EOF", every family is one block, every series is in time order, and the
   last sample of every series equals `--once` on the same log (every
   postfix_tls_* series, exact).
3. `promtool tsdb create-blocks-from openmetrics`, then Prometheus started on
   the blocks (127.0.0.1:19591).
4. Through the HTTP API, for every day of `report --format=json --window=60d`:
   the day's sessions, plaintext sessions, mail sessions and plaintext mail
   sessions, as a dashboard asks for them (increase(...[1d]) at midnight, and
   the exact difference of the counters over the day), equal the report's.

Usage: test_backfill.py EXPORTER CORPUS_LOG
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

PROM_PORT = 19591
LABELS = ['--label=instance=mx1.example.test:10125', '--label=job=postfix_tls']
failures = []
checks = 0


def check(cond, what, count=True):
    global checks
    checks += count
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def month_log(corpus, path):
    lines = open(corpus).read().splitlines(keepends=True)
    months = ["Oct 30", "Oct 31"] + [f"Nov {d:2d}" for d in range(1, 29)]
    with open(path, "w") as f:
        for day in months:
            for line in lines:
                f.write(day + line[6:])
    return len(months)


def series_key(name, labels):
    return name + "{" + ",".join(sorted(labels)) + "}"


def parse_om(text):
    """{series: [(ts, value)]}, checking the OpenMetrics shape on the way."""
    out, seen_families, family = {}, set(), None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            family = line.split()[2]
            check(family not in seen_families, f"family {family} in one block", False)
            seen_families.add(family)
            continue
        if line.startswith("#"):
            continue
        m = re.match(r'^([a-z_:]+)\{(.*)\} (\S+) (\d+)$', line)
        check(m is not None, f"sample line with a timestamp: {line[:120]}", False)
        if not m:
            continue
        labels = re.findall(r'[a-z_]+="(?:[^"\\]|\\.)*"', m.group(2))
        key = series_key(m.group(1), [l for l in labels if not l.startswith(("instance=", "job="))])
        pts = out.setdefault(key, [])
        if pts:
            check(int(m.group(4)) > pts[-1][0], f"{key}: timestamps increase", False)
        pts.append((int(m.group(4)), float(m.group(3))))
    return out


def parse_prom(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith("postfix_tls_") or line.startswith("postfix_tls_exporter_"):
            continue
        m = re.match(r'^([a-z_:]+)(?:\{(.*)\})? (\S+)$', line)
        labels = re.findall(r'[a-z_]+="(?:[^"\\]|\\.)*"', m.group(2) or "")
        out[series_key(m.group(1), labels)] = float(m.group(3))
    return out


def api(path, **params):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/{path}?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def scalar(expr, t):
    res = api("query", query=expr, time=str(t))["data"]["result"]
    return float(res[0]["value"][1]) if res else 0.0


def start_prometheus(tmp, data, rule_files=()):
    """Prometheus on the blocks in data, listening on PROM_PORT, answering
    queries when this returns (test_backfill_fleet.py uses another port)."""
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
        if rule_files:
            f.write("rule_files:\n" + "".join(f"  - {p}\n" for p in rule_files))
    prom = subprocess.Popen(["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={data}",
                             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{PROM_PORT}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(150):
        try:
            if api("query", query="1")["status"] == "success":
                break
        except OSError:
            time.sleep(0.2)
    else:
        prom.kill()
        sys.exit(f"FAIL: prometheus did not answer on 127.0.0.1:{PROM_PORT} (port busy?): "
                 + prom.communicate()[1][-500:])
    return prom


def cleanup(prom, tmp):
    """Stop Prometheus (if it was started) and remove the work directory."""
    if prom:
        prom.terminate()
        prom.wait(timeout=20)
    shutil.rmtree(tmp, ignore_errors=True)


def summary():
    """Print the count line; the exit status."""
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def missing_tools():
    """True (after saying which) when promtool or prometheus is absent."""
    for tool in ("promtool", "prometheus"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not installed (Debian package 'prometheus')")
            return True
    return False


def main():
    exe, corpus = sys.argv[1], sys.argv[2]
    if missing_tools():
        return 77
    tmp = tempfile.mkdtemp(prefix="pte-backfill-")
    prom = None
    try:
        log = os.path.join(tmp, "mail.log")
        n_days = month_log(corpus, log)
        om = os.path.join(tmp, "history.om")
        t0 = time.monotonic()
        r = subprocess.run([exe, "backfill", "--step=5m", *LABELS, f"--output={om}", log],
                           capture_output=True, text=True)
        t_backfill = time.monotonic() - t0
        check(r.returncode == 0, f"backfill exit status {r.returncode}: {r.stderr[-300:]}")
        text = open(om).read()
        check(text.endswith("# EOF\n"), "output ends with # EOF")
        hist = parse_om(text)
        t0 = time.monotonic()
        once = subprocess.run([exe, "--once", f"--source.file={log}"], capture_output=True, text=True)
        t_once = time.monotonic() - t0
        live = parse_prom(once.stdout)
        last = {k: v[-1][1] for k, v in hist.items()}
        check(len(live) > 20, f"--once has the Postfix families ({len(live)} series)")
        check(last == live, "last sample of every series equals --once: "
              + str({k: (last.get(k), live.get(k)) for k in set(last) | set(live) if last.get(k) != live.get(k)})[:400])
        m = re.search(r"wrote (\d+) samples", r.stderr)
        check(m and int(m.group(1)) == sum(len(v) for v in hist.values()), "the sample count logged is the one written")

        data = os.path.join(tmp, "data")
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=744h", om, data],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"promtool create-blocks-from openmetrics: {r.stderr[-300:]}")
        prom = start_prometheus(tmp, data)
        rep = json.loads(subprocess.run([exe, "report", "--format=json", "--window=60d", log],
                                        capture_output=True, text=True).stdout)
        days = [d for d in rep["inbound"]["days"] if d["sessions"]]
        t_last = max(p[-1][0] for p in hist.values())
        check(len(days) == n_days, f"the report has {n_days} days with sessions ({len(days)})")
        sel = {"sessions": "", "plaintext": 'encryption="plaintext"', "mail_sessions": 'mail="true"',
               "plaintext_mail": 'encryption="plaintext",mail="true"'}
        for i, d in enumerate(days):
            # midnight after the day, or the last sample (the history ends
            # with the log; the live exporter carries on from there)
            start = int(time.mktime(time.strptime(d["day"], "%Y-%m-%d"))) - time.timezone
            end = min(start + 86400, t_last)
            for field, s in sel.items():
                x = f"postfix_tls_inbound_sessions_total{{{s}}}"
                diff = scalar(f"(sum({x}) or vector(0)) - (sum({x} @ {start}) or vector(0))", end)
                check(diff == d[field], f"{d['day']} {field}: counter difference {diff} == report {d[field]}")
                if i > 0:  # a whole day of samples: increase() has nothing to extrapolate
                    inc = scalar(f"sum(increase({x}[1d]))", end)
                    check(abs(inc - d[field]) < 1e-9, f"{d['day']} {field}: increase[1d] {inc} == report {d[field]}")
        print(f"backfill: {n_days} days, {sum(len(v) for v in hist.values())} samples, {len(hist)} series; "
              f"backfill {t_backfill:.2f}s vs --once {t_once:.2f}s")
    finally:
        cleanup(prom, tmp)
    return summary()


if __name__ == "__main__":
    sys.exit(main())

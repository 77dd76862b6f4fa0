#!/usr/bin/env python3
"""The lint must catch what it claims to: apply one defect at a time to a
copy of dashboards/ and assert that lint_dashboards.py fails with the
matching message."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
OVERVIEW = "postfix-tls-overview.json"


def first(d, ptype):
    return next(p for p in d["panels"] if p["type"] == ptype)


def m_description(d):
    first(d, "timeseries")["description"] = ""


def m_rate_interval(d):
    t = first(d, "timeseries")["targets"][0]
    t["expr"] = t["expr"].replace("[$__rate_interval]", "[5m]", 1)


def m_unknown_metric(d):
    t = first(d, "timeseries")["targets"][0]
    t["expr"] = t["expr"].replace("postfix_tls_inbound_sessions_total", "postfix_tls_inbound_session_total", 1)


def m_duplicate_id(d):
    d["panels"][2]["id"] = d["panels"][1]["id"]


def m_datasource(d):
    first(d, "stat")["datasource"] = {"type": "prometheus", "uid": "PBFA97CFB590B2093"}


def m_uid(d):
    d["uid"] = "something-else"


def m_unit(d):
    del first(d, "table")["fieldConfig"]["defaults"]["unit"]


def m_syslog_matcher(d):
    t = first(d, "timeseries")["targets"][0]
    t["expr"] = t["expr"].replace(',syslog_name=~"$syslog_name"', "", 1)


def m_parse(d):
    t = first(d, "timeseries")["targets"][0]
    t["expr"] = t["expr"] + ")"


def m_counter_raw(d):
    first(d, "stat")["targets"][0]["expr"] = 'sum(postfix_tls_inbound_connections_total{job=~"$job",instance=~"$instance",syslog_name=~"$syslog_name"})'


def m_range_in_timeseries(d):
    t = first(d, "timeseries")["targets"][0]
    t["expr"] = t["expr"].replace("rate(", "increase(", 1).replace("[$__rate_interval]", "[$__range]", 1)


def m_ds_placeholder(d):
    first(d, "stat")["datasource"] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


MUTATIONS = [
    (m_description, "needs a description"),
    (m_rate_interval, "must use [$__rate_interval]"),
    (m_unknown_metric, "is not exported by the daemon"),
    (m_duplicate_id, "panel ids must be unique"),
    (m_datasource, "datasource must be ${datasource}"),
    (m_uid, "must equal the file name"),
    (m_unit, "is missing or not a known Grafana unit"),
    (m_syslog_matcher, "lacks syslog_name"),
    (m_parse, "do not parse"),
    (m_counter_raw, "used outside rate/irate/increase"),
    (m_range_in_timeseries, "(or [$__range] in an instant query)"),
    (m_ds_placeholder, "placeholders break file provisioning"),
    (None, "invalid JSON"),
]


def main():
    passed = failed = 0
    for fn, expect in MUTATIONS:
        tmp = tempfile.mkdtemp(prefix="pte-lint-selftest-")
        try:
            shutil.copytree(os.path.join(ROOT, "dashboards"), os.path.join(tmp, "dashboards"),
                            ignore=shutil.ignore_patterns("node_modules", "__pycache__"))
            os.mkdir(os.path.join(tmp, "tests"))  # the lint scrapes the corpus in tests/data
            os.symlink(os.path.join(ROOT, "tests", "data"), os.path.join(tmp, "tests", "data"))
            path = os.path.join(tmp, "dashboards", "grafana", OVERVIEW)
            if fn is None:
                with open(path, "a", encoding="utf-8") as f:
                    f.write("}")
            else:
                with open(path, encoding="utf-8") as f:
                    d = json.load(f)
                fn(d)
                with open(path, "w", encoding="utf-8") as f:
                    json.dump(d, f, indent=2)
            env = dict(os.environ, PTE_SOURCE_ROOT=tmp)
            r = subprocess.run([sys.executable, os.path.join(HERE, "lint_dashboards.py")], env=env,
                               capture_output=True, text=True)
            if r.returncode == 77:
                print("SKIP: lint skipped (promtool missing)")
                return 77
            name = fn.__name__ if fn else "invalid_json"
            if r.returncode != 0 and expect in r.stdout:
                passed += 1
            else:
                failed += 1
                print("FAIL: %s: lint exit %d, expected a failure mentioning %r\n%s"
                      % (name, r.returncode, expect, r.stdout[-2000:] + r.stderr[-2000:]))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

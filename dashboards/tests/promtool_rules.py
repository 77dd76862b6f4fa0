#!/usr/bin/env python3
"""promtool check rules + promtool test rules for dashboards/prometheus/.

Also asserts coverage: every alert in the rule files has at least one
alert_rule_test in which it fires (non-empty exp_alerts) and one in which it
must stay quiet (exp_alerts: []), and every recording rule is checked by at
least one promql_expr_test.
"""
import glob
import os
import subprocess
import sys

try:
    import yaml
except ImportError:          # Debian: python3-yaml
    print("SKIP: the Python yaml module is not installed (Debian package python3-yaml)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
PROM = os.path.join(ROOT, "dashboards", "prometheus")
PROMTOOL = os.environ.get("PROMTOOL", "promtool")

passed = failed = 0


def ok(cond, msg):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", msg)


def main():
    try:
        subprocess.run([PROMTOOL, "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("SKIP: promtool not installed (Debian package prometheus)")
        return 77
    rule_files = sorted(glob.glob(os.path.join(PROM, "*.yml")))
    test_files = sorted(glob.glob(os.path.join(PROM, "tests", "*.test.yml")))
    r = subprocess.run([PROMTOOL, "check", "rules"] + rule_files, capture_output=True, text=True)
    print(r.stdout.strip())
    ok(r.returncode == 0, "promtool check rules:\n" + r.stderr)
    for t in test_files:
        r = subprocess.run([PROMTOOL, "test", "rules", os.path.basename(t)], cwd=os.path.dirname(t),
                           capture_output=True, text=True)
        print(r.stdout.strip())
        ok(r.returncode == 0, "promtool test rules %s:\n%s%s" % (t, r.stdout, r.stderr))

    alerts, records = set(), set()
    for f in rule_files:
        with open(f, encoding="utf-8") as fh:
            for g in yaml.safe_load(fh)["groups"]:
                for rule in g["rules"]:
                    (alerts if "alert" in rule else records).add(rule.get("alert") or rule.get("record"))
    fires, quiet, exprs = set(), set(), ""
    for t in test_files:
        with open(t, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        for case in doc["tests"]:
            for a in case.get("alert_rule_test", []):
                (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
            for e in case.get("promql_expr_test", []):
                exprs += e["expr"] + "\n"
    for a in sorted(alerts):
        ok(a in fires, "alert %s has no test in which it fires" % a)
        ok(a in quiet, "alert %s has no test in which it stays quiet" % a)
    for r in sorted(records):
        ok(r in exprs, "recording rule %s is not checked by a promql_expr_test" % r)
    print("%d alerts, %d recording rules, %d test files" % (len(alerts), len(records), len(test_files)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Render dashboards/mixin.libsonnet with jsonnet and check that it exposes
exactly the dashboards in dashboards/grafana/ and the rule files in
dashboards/prometheus/, unchanged. Exit 77 when jsonnet is not installed.

The rule files use YAML block scalars (`expr: |`). std.parseYaml of the C++
jsonnet 0.18 (Debian 12) aborts on any string containing a newline (fixed
in 0.19; go-jsonnet is not affected), so with that jsonnet the two rule
checks are reported as skipped and only the dashboards are compared."""
import glob
import json
import os
import shutil
import subprocess
import sys

try:
    import yaml
except ImportError:          # Debian: python3-yaml
    print("SKIP: the Python yaml module is not installed (Debian package python3-yaml)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
DASH = os.path.join(ROOT, "dashboards")


def render(field):
    out = subprocess.run(["jsonnet", "-J", DASH, "-e", "(import 'mixin.libsonnet').%s" % field],
                         check=True, capture_output=True, text=True, cwd=DASH).stdout
    return json.loads(out)


def main():
    if shutil.which("jsonnet") is None:
        print("SKIP: jsonnet not installed (Debian package jsonnet)")
        return 77
    passed = failed = 0

    def ok(cond, msg):
        nonlocal passed, failed
        passed += bool(cond)
        failed += not cond
        if not cond:
            print("FAIL:", msg)

    dashboards = render("grafanaDashboards")
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DASH, "grafana", "*.json")))
    ok(sorted(dashboards) == files, "mixin dashboards %s != files %s" % (sorted(dashboards), files))
    for name in files:
        with open(os.path.join(DASH, "grafana", name), encoding="utf-8") as f:
            ok(dashboards.get(name) == json.load(f), "mixin dashboard %s differs from the file" % name)
    probe = subprocess.run(["jsonnet", "-e", 'std.parseYaml("a: |\\n  x\\n")'], capture_output=True, text=True)
    skipped = 0
    for field, fname in (("prometheusRules", "postfix-tls.rules.yml"), ("prometheusAlerts", "postfix-tls.alerts.yml")):
        if probe.returncode != 0:
            print("SKIP: %s: this jsonnet's std.parseYaml cannot read block scalars (needs >= 0.19)" % field)
            skipped += 1
            continue
        with open(os.path.join(DASH, "prometheus", fname), encoding="utf-8") as f:
            ok(render(field) == yaml.safe_load(f), "mixin %s differs from %s" % (field, fname))
    rule_files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DASH, "prometheus", "*.yml")))
    ok(rule_files == ["postfix-tls.alerts.yml", "postfix-tls.rules.yml"],
       "rule files %s are not all exposed by the mixin" % rule_files)
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

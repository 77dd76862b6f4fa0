#!/usr/bin/env python3
"""Type-check the dashboards against Grafana's published schema types.

Installs @grafana/schema and typescript (versions pinned in
tests/schema/package-lock.json) with `npm ci` into
$PTE_BUILD_ROOT/dashboards-schema (never into the source tree), writes a
TypeScript file in which
  * every dashboard is an object literal of type Dashboard (classic model:
    top-level fields, templating variables, annotations, links, gridPos, ...);
  * every panel is checked again with its plugin's own types: the options and
    fieldConfig.custom of timeseries, stat, table and state-timeline panels
    (@grafana/schema/.../panelcfg), and every target as a PrometheusDataQuery;
and runs `tsc --strict --noEmit`.  Object literals get TypeScript's excess
property check, so misspelt or unknown keys fail as well as wrong types.
The JSON carries enum values as strings ("table", "bottom"); the Lit<> type
below maps the schema's string enums to their literal values for that.

Exit 77 (skip) when npm is not installed.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("PTE_BUILD_ROOT") or os.path.join(ROOT, "build")
SCHEMA_SRC = os.path.join(HERE, "schema")
WORK = os.path.join(BUILD, "dashboards-schema")
RAW = "@grafana/schema/dist/esm/raw/composable"

PANEL_TYPES = {
    "timeseries": ("TimeSeries", "timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen", True),
    "stat": ("Stat", "stat/panelcfg/x/StatPanelCfg_types.gen", False),
    "table": ("Table", "table/panelcfg/x/TablePanelCfg_types.gen", True),
    "state-timeline": ("StateTimeline", "statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen", True),
}

PRELUDE = """\
import type { Dashboard, Panel, RowPanel, FieldConfig, FieldConfigSource } from '@grafana/schema';
import type { PrometheusDataQuery } from '%(raw)s/prometheus/dataquery/x/PrometheusDataQuery_types.gen';
%(imports)s

// String enums of the schema as the literal strings the JSON model stores.
type Lit<T> =
  T extends string ? `${T}` :
  T extends number | boolean | null | undefined ? T :
  T extends Array<infer U> ? Array<Lit<U>> :
  T extends object ? { [K in keyof T]: Lit<T[K]> } :
  T;

type Defaults<C> = Omit<Lit<FieldConfig>, 'custom'> & (C extends null ? {} : { custom: Lit<C> });
type CheckedPanel<O, C> = Omit<Lit<Panel>, 'options' | 'fieldConfig' | 'targets'> & {
  options: Lit<O>;
  fieldConfig: { defaults: Defaults<C>; overrides: Lit<FieldConfigSource['overrides']> };
  targets: Array<Lit<PrometheusDataQuery>>;
};
type CheckedRow = Lit<Omit<RowPanel, 'panels'>> & { panels: [] };

"""


def ts_literal(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False)


def generate(dashboards):
    imports = "\n".join("import type * as %s from '%s/%s';" % (ns, RAW, path)
                        for ns, path, _ in PANEL_TYPES.values())
    out = [PRELUDE % {"raw": RAW, "imports": imports}]
    unknown = []
    for di, (name, d) in enumerate(dashboards):
        out.append("// %s\nexport const dashboard_%d: Lit<Dashboard> = %s;\n" % (name, di, ts_literal(d)))
        for p in d.get("panels", []):
            const = "panel_%d_%d" % (di, p.get("id", 0))
            if p.get("type") == "row":
                out.append("// %s: row %r\nexport const %s: CheckedRow = %s;\n"
                           % (name, p.get("title"), const, ts_literal(p)))
                continue
            if p.get("type") not in PANEL_TYPES:
                unknown.append("%s: panel %r has type %r without a schema here" % (name, p.get("title"), p.get("type")))
                continue
            ns, _, has_custom = PANEL_TYPES[p["type"]]
            ctype = "%s.FieldConfig" % ns if has_custom else "null"
            out.append("// %s: %s %r\nexport const %s: CheckedPanel<%s.Options, %s> = %s;\n"
                       % (name, p["type"], p.get("title"), const, ns, ctype, ts_literal(p)))
    return "\n".join(out), unknown


def main():
    npm = shutil.which("npm")
    if not npm:
        print("SKIP: npm not installed")
        return 77
    os.makedirs(WORK, exist_ok=True)
    lock_src = os.path.join(SCHEMA_SRC, "package-lock.json")
    stamp = os.path.join(WORK, "node_modules", ".installed-lock.json")
    with open(lock_src, encoding="utf-8") as f:
        lock = f.read()
    installed = os.path.exists(stamp) and open(stamp, encoding="utf-8").read() == lock
    for f in ("package.json", "package-lock.json", "tsconfig.json"):
        shutil.copy(os.path.join(SCHEMA_SRC, f), os.path.join(WORK, f))
    if not installed:
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=WORK,
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: npm ci:\n" + r.stdout + r.stderr)
            return 1
        with open(stamp, "w", encoding="utf-8") as f:
            f.write(lock)
    dashboards = []
    gdir = os.path.join(ROOT, "dashboards", "grafana")
    for name in sorted(os.listdir(gdir)):
        if name.endswith(".json"):
            with open(os.path.join(gdir, name), encoding="utf-8") as f:
                dashboards.append((name, json.load(f)))
    text, unknown = generate(dashboards)
    with open(os.path.join(WORK, "check.ts"), "w", encoding="utf-8") as f:
        f.write(text)
    tsc = os.path.join(WORK, "node_modules", ".bin", "tsc")
    r = subprocess.run([tsc, "-p", "tsconfig.json"], cwd=WORK, capture_output=True, text=True)
    out = (r.stdout + r.stderr).strip()
    nerr = out.count("error TS")
    for u in unknown:
        print("FAIL:", u)
    if r.returncode != 0:
        print(out)
        print("(line numbers refer to %s)" % os.path.join(WORK, "check.ts"))
    npanels = sum(len(d.get("panels", [])) for _, d in dashboards)
    print("type-checked %d dashboards and %d panels against @grafana/schema" % (len(dashboards), npanels))
    failed = (1 if r.returncode != 0 else 0) + len(unknown)
    print("%d passed, %d failed" % (len(dashboards) + npanels - failed if not failed else 0, max(failed, nerr)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

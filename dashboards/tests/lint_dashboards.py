#!/usr/bin/env python3
"""Lint the Grafana dashboards and Prometheus rules in dashboards/.

Dashboards (dashboards/grafana/*.json):
  * valid JSON; the file is what tools/gen_dashboards.py generates;
  * stable uid (the file name without .json, at most 40 characters), id null,
    title, description, tags including "postfix-tls", editable false;
  * exactly one datasource variable, named "datasource", of type prometheus;
    job / instance / syslog_name query variables that use it, are multi-value
    with "All" = ".+" and refresh on time-range change;
  * every panel has a unique id, a title, a description and a unit; every
    non-row panel has targets; panels and targets use ${datasource};
  * rate()/irate() use [$__rate_interval]; increase() uses [$__rate_interval],
    or [$__range] in instant queries only; *_total counters only inside
    rate/irate/increase; every selector filters job and instance, and
    syslog_name where the family has that label;
  * every metric name is exported by the daemon (cross-checked against a real
    --once scrape of the corpus) or is Prometheus' own "up";
  * every expression, with the variables substituted, parses
    (promtool check rules on a generated rule file);
  * panels do not overlap and fit the 24-column grid;
  * units are Grafana unit ids from a known list.
Rules (dashboards/prometheus/*.yml):
  * promtool check rules passes; every alert has for:, a severity of
    critical|warning|info, summary and description; recording rule names
    follow level:metric:operations; metric names are exported by the daemon,
    recorded by the rules, or "up".

Environment: PTE_BINARY (daemon), PTE_SOURCE_ROOT (repository,
with the corpus in tests/data). Exit status 0 when everything passes.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
PROMTOOL = os.environ.get("PROMTOOL", "promtool")

DS = {"type": "prometheus", "uid": "${datasource}"}
# Grafana unit ids (packages/grafana-data/src/valueFormats/categories.ts);
# only ids that exist there may be added.
KNOWN_UNITS = {
    "none", "short", "percent", "percentunit", "s", "ms", "m", "h", "d",
    "dtdurations", "dtdurationms", "bytes", "decbytes", "bits", "cps", "ops",
    "reqps", "rps", "wps", "iops", "opm", "rpm", "cpm", "dateTimeAsIso",
    "dateTimeFromNow", "bool", "locale", "sci", "string",
}
ALLOWED_FOREIGN = {"up"}          # written by Prometheus for every target

failures = []
checks = 0


def check(cond, msg):
    global checks
    checks += 1
    if not cond:
        failures.append(msg)
    return cond


# ---------------------------------------------------------------- the scrape

# A line the parser is not meant to recognise; families whose series only
# appear on such input (postfix_tls_exporter_unrecognized_lines_total{daemon})
# are absent from the plain corpus scrape.
NEW_FORMAT_LINE = ("Nov 28 15:50:59 mx1 postfix/smtpd[99999]: TLS connection established "
                   "from foo.example[192.0.2.1] using QUIC\n")


def scrape():
    """Families and label names the daemon exports: a real --once scrape of
    the corpus, plus one of the corpus followed by a line of a new format."""
    if not BINARY:
        sys.exit("PTE_BINARY is not set (run through meson test, or export it)")
    corpus = os.path.join(ROOT, "tests", "data", "postfix-3.7-maillog.log")
    out = subprocess.run([BINARY, "--once", "--source.start=beginning", "--source.file=" + corpus],
                         check=True, capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory() as tmp:
        extra = os.path.join(tmp, "maillog.log")
        with open(corpus, encoding="utf-8", errors="surrogateescape") as src, \
                open(extra, "w", encoding="utf-8", errors="surrogateescape") as dst:
            dst.write(src.read() + NEW_FORMAT_LINE)
        out += subprocess.run([BINARY, "--once", "--source.start=beginning", "--source.file=" + extra],
                              check=True, capture_output=True, text=True).stdout
    families, labels = set(), {}
    for line in out.splitlines():
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
        elif line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            families.add(name)
            labels.setdefault(name, set()).update(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', line))
    return families, labels


# ---------------------------------------------------------------- dashboards

def all_panels(d):
    for p in d.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def lint_expr(where, expr, instant, families, labels, log_families):
    check(expr.strip() != "", "%s: empty expression" % where)
    for fn in ("rate", "irate"):
        for arg in promql.range_args(expr, fn):
            check(arg == "$__rate_interval", "%s: %s() must use [$__rate_interval], has [%s]" % (where, fn, arg))
    # [$__range] @ end() selects a stable top-N over the whole period inside a
    # time series query; any other [$__range] belongs to instant queries.
    pinned = expr.count("[$__range] @ end()")
    for arg in promql.range_args(expr, "increase"):
        ok = arg == "$__rate_interval" or (arg == "$__range" and (instant or pinned > 0))
        if arg == "$__range" and not instant:
            pinned -= 1
        check(ok, "%s: increase() must use [$__rate_interval] (or [$__range] in an instant query), has [%s]"
              % (where, arg))
    names = promql.metric_names(expr)
    for n in names:
        check(n in families or n in ALLOWED_FOREIGN,
              "%s: metric %s is not exported by the daemon" % (where, n))
    # counters only inside rate/irate/increase
    for m in re.finditer(r"([a-zA-Z_:][a-zA-Z0-9_:]*_total)\s*\{", expr):
        before = expr[:m.start()]
        check(re.search(r"\b(rate|irate|increase)\s*\(\s*$", before) is not None,
              "%s: counter %s used outside rate/irate/increase" % (where, m.group(1)))
    for name, matchers in promql.selectors(expr):
        if name in (None, "") and "__name__" not in matchers:
            continue
        check('job=~"$job"' in matchers and 'instance=~"$instance"' in matchers,
              "%s: selector %s{%s} lacks job/instance matchers" % (where, name, matchers))
        if name in log_families:
            check('syslog_name=~"$syslog_name"' in matchers,
                  "%s: selector %s lacks syslog_name=~\"$syslog_name\"" % (where, name))


def lint_dashboard(path, families, labels, log_families, exprs_out):
    base = os.path.basename(path)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except ValueError as e:
        check(False, "%s: invalid JSON: %s" % (base, e))
        return
    uid = d.get("uid")
    check(uid == base[:-5], "%s: uid %r must equal the file name" % (base, uid))
    check(isinstance(uid, str) and 0 < len(uid) <= 40 and re.fullmatch(r"[a-zA-Z0-9_-]+", uid or ""),
          "%s: uid must be 1-40 characters [a-zA-Z0-9_-]" % base)
    check(d.get("id") is None, "%s: id must be null" % base)
    for k in ("title", "description"):
        check(isinstance(d.get(k), str) and d[k].strip(), "%s: missing %s" % (base, k))
    check("postfix-tls" in d.get("tags", []), "%s: tags must include postfix-tls" % base)
    check(d.get("editable") is False, "%s: editable must be false" % base)
    check(isinstance(d.get("schemaVersion"), int) and d["schemaVersion"] >= 36,
          "%s: schemaVersion must be >= 36 (Grafana 9/10)" % base)
    check(all("DS_" not in json.dumps(x) for x in (d.get("panels"), d.get("templating"))),
          "%s: ${DS_...} import placeholders break file provisioning" % base)
    check("__inputs" not in d, "%s: __inputs is for grafana.com imports only" % base)

    tvars = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    dsv = [v for v in tvars.values() if v.get("type") == "datasource"]
    check(len(dsv) == 1 and dsv[0].get("name") == "datasource" and dsv[0].get("query") == "prometheus"
          and dsv[0].get("label") == "Data source",
          "%s: need exactly one datasource variable 'datasource' (Data source) of type prometheus" % base)
    for name in ("job", "instance", "syslog_name"):
        v = tvars.get(name)
        if not check(v is not None, "%s: missing variable %s" % (base, name)):
            continue
        q = v.get("query")
        qtext = q.get("query") if isinstance(q, dict) else q
        check(v.get("type") == "query" and v.get("datasource") == DS,
              "%s: variable %s must be a query on ${datasource}" % (base, name))
        check(v.get("multi") is True and v.get("includeAll") is True and v.get("allValue") == ".+",
              "%s: variable %s must be multi-value with All = .+" % (base, name))
        check(v.get("refresh") == 2, "%s: variable %s must refresh on time range change" % (base, name))
        check(isinstance(qtext, str) and qtext.startswith("label_values("),
              "%s: variable %s: query must be label_values()" % (base, name))
        if isinstance(qtext, str):
            inner = qtext[len("label_values("):-1].rsplit(",", 1)[0]
            for n in promql.metric_names(inner):
                check(n in families, "%s: variable %s uses unknown metric %s" % (base, name, n))
            exprs_out.append(("%s variable %s" % (base, name), inner, True))

    ids = []
    cells = {}
    for p in all_panels(d):
        title = p.get("title", "?")
        where = "%s: panel %r" % (base, title)
        ids.append(p.get("id"))
        check(isinstance(p.get("title"), str) and p["title"].strip(), "%s: panel without title" % base)
        gp = p.get("gridPos", {})
        check(all(isinstance(gp.get(k), int) for k in "hwxy") and gp["x"] + gp["w"] <= 24,
              "%s: bad gridPos %r" % (where, gp))
        if all(isinstance(gp.get(k), int) for k in "hwxy"):
            for xx in range(gp["x"], gp["x"] + gp["w"]):
                for yy in range(gp["y"], gp["y"] + gp["h"]):
                    check((xx, yy) not in cells, "%s overlaps %s" % (where, cells.get((xx, yy))))
                    cells[(xx, yy)] = title
        if p.get("type") == "row":
            continue
        check(p.get("type") not in ("graph", "singlestat", "table-old"), "%s: deprecated panel type" % where)
        check(isinstance(p.get("description"), str) and len(p["description"].strip()) >= 20,
              "%s: needs a description" % where)
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        check(unit in KNOWN_UNITS, "%s: unit %r is missing or not a known Grafana unit" % (where, unit))
        for o in p.get("fieldConfig", {}).get("overrides", []):
            for prop in o.get("properties", []):
                if prop.get("id") == "unit":
                    check(prop.get("value") in KNOWN_UNITS, "%s: override unit %r unknown" % (where, prop.get("value")))
        check(p.get("datasource") == DS, "%s: panel datasource must be ${datasource}" % where)
        targets = p.get("targets") or []
        check(len(targets) > 0, "%s: no targets" % where)
        refs = [t.get("refId") for t in targets]
        check(len(refs) == len(set(refs)), "%s: duplicate refIds" % where)
        for t in targets:
            check(t.get("datasource") == DS, "%s: target %s datasource must be ${datasource}" % (where, t.get("refId")))
            instant = bool(t.get("instant")) and not t.get("range")
            lint_expr("%s target %s" % (where, t.get("refId")), t.get("expr", ""), instant,
                      families, labels, log_families)
            exprs_out.append(("%s target %s" % (where, t.get("refId")), t.get("expr", ""), instant))
        if p.get("type") == "stat":
            check(all(t.get("instant") for t in targets), "%s: stat panels use instant queries" % where)
    check(len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids),
          "%s: panel ids must be unique integers: %r" % (base, ids))


# ---------------------------------------------------------------- rules

def lint_rules(families, exprs_out):
    files = sorted(glob.glob(os.path.join(DASH, "prometheus", "*.yml")))
    check(len(files) >= 2, "expected recording and alerting rule files")
    r = subprocess.run([PROMTOOL, "check", "rules"] + files, capture_output=True, text=True)
    check(r.returncode == 0, "promtool check rules failed:\n" + r.stdout + r.stderr)
    recorded = set()
    rules = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for g in yaml.safe_load(fh)["groups"]:
                for rule in g["rules"]:
                    rules.append((os.path.basename(f), rule))
                    if "record" in rule:
                        recorded.add(rule["record"])
    for f, rule in rules:
        name = rule.get("record") or rule.get("alert")
        where = "%s: %s" % (f, name)
        if "record" in rule:
            check(re.fullmatch(r"[a-z_]+:[a-z_]+:[a-z0-9_]+", name) is not None,
                  "%s: recording rule name must be level:metric:operations" % where)
        else:
            check(re.fullmatch(r"PostfixTLS[A-Z][A-Za-z0-9]+", name) is not None,
                  "%s: alert names are CamelCase with prefix PostfixTLS" % where)
            check("for" in rule, "%s: alert needs for:" % where)
            check(rule.get("labels", {}).get("severity") in ("critical", "warning", "info"),
                  "%s: severity must be critical|warning|info" % where)
            ann = rule.get("annotations", {})
            check(ann.get("summary", "").endswith(".") and ann["summary"][:1].isupper(),
                  "%s: summary must be a sentence" % where)
            check("{{ $labels.instance }}" in ann.get("description", ""),
                  "%s: description must name the instance" % where)
        for n in promql.metric_names(rule["expr"]):
            check(n in families or n in recorded or n in ALLOWED_FOREIGN,
                  "%s: metric %s is neither exported nor recorded" % (where, n))
        for fn in ("rate", "increase"):
            for arg in promql.range_args(rule["expr"], fn):
                check(arg is not None and "$" not in arg, "%s: %s() needs a literal range" % (where, fn))


# ---------------------------------------------------------------- parse check

SUBST = {"$__rate_interval": "4m", "$__range": "6h", "$__interval": "1m",
         "$job": "postfix_tls", "$instance": ".+", "$syslog_name": ".+"}


def parse_check(exprs):
    """Every dashboard expression must parse: write them as recording rules
    and let promtool check them."""
    rules = [{"record": "lint:expr_%d:check" % i, "expr": promql.substitute(e, SUBST)}
             for i, (_, e, _) in enumerate(exprs)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "lint", "rules": rules}]}, f)
        path = f.name
    try:
        r = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True)
        if r.returncode != 0:
            out = r.stdout + r.stderr
            for i, (where, e, _) in enumerate(exprs):
                if "lint:expr_%d:check" % i in out or ("%d:" % (i + 1)) in out:
                    pass
            check(False, "dashboard expressions do not parse:\n%s" % out)
        else:
            check(True, "")
    finally:
        os.unlink(path)


def main():
    if shutil.which(PROMTOOL) is None:
        print("SKIP: promtool not installed (Debian package prometheus)")
        return 77
    families, labels = scrape()
    check(len(families) >= 20, "the daemon's scrape lists only %d families" % len(families))
    log_families = {n for n, ls in labels.items() if "syslog_name" in ls}
    gen = subprocess.run([sys.executable, os.path.join(DASH, "tools", "gen_dashboards.py"), "--check"],
                         capture_output=True, text=True)
    check(gen.returncode == 0, "generated dashboards are out of date:\n" + gen.stdout + gen.stderr)
    exprs = []
    paths = sorted(glob.glob(os.path.join(DASH, "grafana", "*.json")))
    check(len(paths) == 3, "expected 3 dashboards, found %d" % len(paths))
    uids = []
    for path in paths:
        lint_dashboard(path, families, labels, log_families, exprs)
        with open(path, encoding="utf-8") as f:
            try:
                uids.append(json.load(f).get("uid"))
            except ValueError:
                pass
    check(len(uids) == len(set(uids)), "dashboard uids must be unique")
    parse_check(exprs)
    lint_rules(families, exprs)
    used = set()
    for _, e, _ in exprs:
        used |= promql.metric_names(e)
    for f in failures:
        print("FAIL:", f)
    print("lint: %d dashboards, %d expressions, %d metric names used, %d checks" %
          (len(paths), len(exprs), len(used), checks))
    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

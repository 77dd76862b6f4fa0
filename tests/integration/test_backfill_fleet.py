#!/usr/bin/env python3
"""backfill-fleet: a central exporter for two MTAs next to two single-MTA
exporters, in one real Prometheus with the project's rules (issue 12 item 5).

1. Three logs made from the corpus (host mx1), one day:
     central   mx1 and mx2 interleaved line by line (same PIDs and queue IDs,
               tests/fleet/check_fleet.py host_log), backfilled with
               --postfix.host-label --label=instance=loghost:10125
     mx3, mx4  the corpus as host mx3 / mx4, backfilled without the host
               label, --label=instance=mx3:10125 / mx4:10125
   all with --label=job=postfix_tls.  The expected numbers come from --once
   (same flags) per MTA, cross-checked with `report --format=json` on each
   log and on the corpus itself (the fleet is 4 x the corpus).
2. `promtool tsdb create-blocks-from openmetrics` of the three outputs into
   one data directory; Prometheus (127.0.0.1:19592) on it with
   dashboards/prometheus/*.yml loaded; `promtool tsdb create-blocks-from
   rules` with the real recording rules file over the backfilled range;
   Prometheus restarted on the result.
3. Through the HTTP API, at the last backfilled sample (every series starts
   at 0 one step before its first increment, so rate() there is exact):
   the raw counters per MTA (instance, host) and for the fleet; every
   recording rule one series per MTA, `host` kept where it exists and absent
   where it does not, with exact values; the fleet shares from the recorded
   series; the plaintext-share alert's expression per MTA; the dashboards'
   `host` variable lists mx1 and mx2, is empty (not an error) for a
   single-MTA instance, and its "All" value still selects the single-MTA
   series.

Usage: test_backfill_fleet.py EXPORTER CORPUS_LOG
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("PTE_SOURCE_ROOT") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "fleet"))
import check_fleet  # noqa: E402  (host_log, run: --once parsed)
import test_backfill as tb  # noqa: E402  (check, api, start_prometheus, missing_tools, cleanup, summary)

tb.PROM_PORT = 19592
JOB = "postfix_tls"
CENTRAL = "loghost:10125"
# field -> label matchers of postfix_tls_inbound_sessions_total
FIELDS = {"sessions": {}, "plaintext": {"encryption": "plaintext"}, "tls": {"encryption": "tls"},
          "mail_sessions": {"mail": "true"}, "plaintext_mail": {"encryption": "plaintext", "mail": "true"},
          "tls_mail": {"encryption": "tls", "mail": "true"}}
REPORT_FIELDS = ("sessions", "plaintext", "mail_sessions", "plaintext_mail")
# Recording rules: ratios are exact at any evaluation time (numerator and
# denominator series have the same samples, so rate()'s extrapolation
# cancels): rule -> its value per MTA from the fields.
RATIOS = {
    "postfix_tls:inbound_tls_sessions:ratio_rate1h": ("tls", "sessions"),
    "postfix_tls:inbound_plaintext_sessions:ratio_rate1h": ("plaintext", "sessions"),
    "postfix_tls:inbound_tls_mail_sessions:ratio_rate1h": ("tls_mail", "mail_sessions"),
    "postfix_tls:inbound_plaintext_mail_sessions:ratio_rate1h": ("plaintext_mail", "mail_sessions"),
    "postfix_tls:inbound_plaintext_mail_sessions:ratio_rate7d": ("plaintext_mail", "mail_sessions"),
}
# Rates are extrapolated from the last sample to the rule's evaluation time
# (aligned to the group's offset, not to the samples): what is exact is each
# MTA's share of the fleet's rate and the ratio of two rates.
RATES = {"postfix_tls:inbound_sessions:rate1h": "sessions",
         "postfix_tls:inbound_mail_sessions:rate1h": "mail_sessions"}


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def selector(matchers):
    return "{" + ",".join([f'job="{JOB}"'] + [f'{k}="{v}"' for k, v in matchers.items()]) + "}"


def once_fields(exe, path, flags, instance):
    """{(instance, host or None): {field: value}} from --once."""
    out = {}
    for labels, v in check_fleet.run(exe, path, *flags)["postfix_tls_inbound_sessions_total"].items():
        labels = dict(labels)
        f = out.setdefault((instance, labels.get("host")), dict.fromkeys(FIELDS, 0))
        for field, m in FIELDS.items():
            if all(labels.get(k) == val for k, val in m.items()):
                f[field] += v
    return out


def report_day(exe, path, *flags):
    rep = json.loads(subprocess.run([exe, "report", "--format=json", "--window=60d", *flags, path],
                                    capture_output=True, text=True, check=True).stdout)
    days = [d for d in rep["inbound"]["days"] if d["sessions"]]
    tb.check(len(days) == 1, f"report on {os.path.basename(path)}: {len(days)} days with sessions, want 1")
    return rep, (days or [{}])[0]


def per_mta(res):
    """{(instance, host or None): value} of an API result; at most one per MTA."""
    out = {}
    for r in res:
        key = (r["metric"].get("instance"), r["metric"].get("host"))
        tb.check(key not in out, f"two series for MTA {key}: {r['metric']}")
        out[key] = float(r["value"][1])
    return out


def query(expr, t):
    resp = tb.api("query", query=expr, time=str(t))
    tb.check(resp.get("status") == "success", f"query failed: {expr}: {resp.get('error')}")
    return resp["data"]["result"] if resp.get("status") == "success" else []


def make_inputs(exe, corpus, tmp):
    """[(name, log, backfill flags)] and the expected {MTA: fields}."""
    central = os.path.join(tmp, "loghost.log")
    check_fleet.host_log(corpus, central, ["mx1", "mx2"])
    inputs = [("loghost", central, ["--postfix.host-label"], CENTRAL)]
    for h in ("mx3", "mx4"):
        path = os.path.join(tmp, h + ".log")
        check_fleet.host_log(corpus, path, [h])
        inputs.append((h, path, [], f"{h}:10125"))
    want = {}
    _, single = report_day(exe, corpus)
    tb.check([single.get(f) for f in REPORT_FIELDS] == [319, 72, 221, 49],
             f"the corpus' report day: {single}")
    for name, path, flags, instance in inputs:
        mtas = once_fields(exe, path, flags, instance)
        rep, day = report_day(exe, path, *flags)
        for f in REPORT_FIELDS:
            got = sum(m[f] for m in mtas.values())
            tb.check(got == day.get(f), f"{name}: --once {f} {got} != report {day.get(f)}")
            for mta, m in mtas.items():
                tb.check(m[f] == single[f], f"{name}: {mta} {f} = {m[f]}, the corpus has {single[f]}")
        for h in rep.get("hosts", []):
            m = mtas.get((instance, h["host"]), {})
            tb.check((m.get("mail_sessions"), m.get("plaintext_mail")) == (h["mail_sessions"], h["plaintext_mail"]),
                     f"{name}: report hosts[] {h['host']} {h['mail_sessions']}/{h['plaintext_mail']} != --once {m}")
        want.update(mtas)
    tb.check(sorted(want, key=str) == sorted([(CENTRAL, "mx1"), (CENTRAL, "mx2"), ("mx3:10125", None),
                                              ("mx4:10125", None)], key=str), f"MTAs: {sorted(want, key=str)}")
    return inputs, want, single


def backfill(exe, inputs, tmp, data):
    ts = []
    for name, path, flags, instance in inputs:
        om = os.path.join(tmp, name + ".om")
        r = subprocess.run([exe, "backfill", "--step=5m", *flags, f"--label=instance={instance}",
                            f"--label=job={JOB}", f"--output={om}", path], capture_output=True, text=True)
        tb.check(r.returncode == 0, f"{name}: backfill exit status {r.returncode}: {r.stderr[-300:]}")
        ts += [int(line.rsplit(" ", 1)[1]) for line in open(om) if not line.startswith("#")]
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, data],
                           capture_output=True, text=True)
        tb.check(r.returncode == 0, f"{name}: promtool create-blocks-from openmetrics: {r.stderr[-300:]}")
    return min(ts), max(ts)


def check_counters(want, single, t):
    for field, m in FIELDS.items():
        x = "postfix_tls_inbound_sessions_total" + selector(m)
        got = per_mta(query(f"sum by (instance, host) ({x})", t))
        exp = {mta: f[field] for mta, f in want.items()}
        tb.check(got == exp, f"{field} per MTA: Prometheus {got} != --once {exp}")
        fleet = sum(exp.values())
        if field in REPORT_FIELDS:
            tb.check(fleet == 4 * single[field], f"{field}: fleet {fleet} != 4 x the corpus' {single[field]}")
        got = sum(float(r["value"][1]) for r in query(f"sum({x})", t))
        tb.check(got == fleet, f"{field} fleet: Prometheus {got} != {fleet}")
        got = sum(float(r["value"][1]) for r in query(f"sum(increase({x}[1h]))", t))
        tb.check(close(got, fleet), f"{field} fleet: increase[1h] {got} != {fleet}")


def check_rules(want, single, t):
    groups = tb.api("rules")["data"]["groups"]
    rules = {r["name"]: r for g in groups for r in g["rules"]}
    tb.check(all(r["health"] != "err" for r in rules.values()),
             f"rules failing: {[(n, r.get('lastError')) for n, r in rules.items() if r['health'] == 'err']}")
    recorded = {n: r["query"] for n, r in rules.items() if r["type"] == "recording"}
    got = {}
    for name, expr in recorded.items():
        got[name] = per_mta(query(name, t))
        tb.check(set(got[name]) == set(want), f"{name}: series {sorted(got[name], key=str)}, want one per MTA "
                 "(host kept on the central exporter's, absent on the single-MTA ones)")
        # the backfilled samples are the rule's expression at their timestamp
        ts = {float(r["value"][1]) for r in query(f"timestamp({name})", t)}
        tb.check(len(ts) == 1 and t - 60 < min(ts) <= t, f"{name}: last evaluated at {ts}, want one time in ({t - 60}, {t}]")
        raw = per_mta(query(expr, min(ts))) if ts else {}
        tb.check(set(raw) == set(got[name]) and all(close(got[name][m], raw[m]) for m in raw),
                 f"{name}: recorded {got[name]} != its expression at {ts}: {raw}")
    for name, (num, den) in RATIOS.items():
        for mta, f in want.items():
            v = got.get(name, {}).get(mta)
            tb.check(v is not None and close(v, f[num] / f[den]), f"{name} {mta} = {v}, want {f[num]}/{f[den]}")
    for name, field in RATES.items():
        g = got.get(name, {})
        fleet = sum(f[field] for f in want.values())
        for mta, f in want.items():
            v = g.get(mta)
            tb.check(v is not None and close(v / sum(g.values()), f[field] / fleet),
                     f"{name} {mta}: {v} of the fleet's {sum(g.values())}, want {f[field]} of {fleet}")
    for mta, f in want.items():
        s, m = (got.get(n, {}).get(mta) for n in RATES)
        tb.check(s and m and close(m / s, f["mail_sessions"] / f["sessions"]),
                 f"{mta}: mail_sessions:rate1h / sessions:rate1h = {m}/{s}, want {f['mail_sessions']}/{f['sessions']}")
    for name in list(RATIOS) + list(RATES):
        tb.check(name in recorded, f"recording rule {name} not in the rules file")
    # the fleet, one `sum without (host, instance)` away from the recorded series
    fleet = {f: 4 * single[f] for f in REPORT_FIELDS}
    mx3 = ("mx3:10125", None)
    for expr, exp in (
            ("sum without (host, instance) (postfix_tls:inbound_sessions:rate1h)",
             4 * got.get("postfix_tls:inbound_sessions:rate1h", {}).get(mx3, 0)),
            ("sum without (host, instance) (postfix_tls:inbound_plaintext_mail_sessions:ratio_rate1h"
             " * postfix_tls:inbound_mail_sessions:rate1h)"
             " / sum without (host, instance) (postfix_tls:inbound_mail_sessions:rate1h)",
             fleet["plaintext_mail"] / fleet["mail_sessions"]),
            ("sum without (host, instance) (postfix_tls:inbound_plaintext_sessions:ratio_rate1h"
             " * postfix_tls:inbound_sessions:rate1h)"
             " / sum without (host, instance) (postfix_tls:inbound_sessions:rate1h)",
             fleet["plaintext"] / fleet["sessions"])):
        res = query(expr, t)
        tb.check(len(res) == 1 and res[0]["metric"] == {"job": JOB} and close(float(res[0]["value"][1]), exp),
                 f"fleet: {expr} = {[(r['metric'], r['value'][1]) for r in res]}, want {{job={JOB}}} {exp}")
    # 22.2 % of at least 20 mail sessions in the hour: the alert's condition
    # holds for every MTA, one series each, `host` kept.
    alert = rules.get("PostfixTLSPlaintextMailShareHigh", {}).get("query", "absent")
    firing = per_mta(query(alert, t))
    tb.check(set(firing) == set(want), f"PostfixTLSPlaintextMailShareHigh: condition holds for {sorted(firing, key=str)}")


def check_host_variable(single, t0, t):
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "dashboards", "grafana", "*.json"))):
        for v in json.load(open(path))["templating"]["list"]:
            if v["name"] != "host":
                continue
            n += 1
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            sel = q[len("label_values("):q.rindex(",")].replace("$job", JOB)
            tb.check(q.startswith("label_values(") and q.endswith(", host)"), f"{path}: host variable query {q}")
            for instance, exp in ((".+", ["mx1", "mx2"]), ("mx3:10125", [])):
                resp = tb.api("label/host/values", **{"match[]": sel.replace("$instance", instance),
                                                     "start": t0, "end": t})
                tb.check(resp.get("status") == "success" and resp.get("data") == exp,
                         f"{os.path.basename(path)}: host variable with instance {instance}: {resp}, want {exp}")
            # "All" (allValue) in a panel selector still matches the single-MTA series
            for host, exp in ((v["allValue"], 4 * single["sessions"]), ("mx1", single["sessions"])):
                x = f'postfix_tls_inbound_sessions_total{{job=~"{JOB}",instance=~".+",host=~"{host}"}}'
                got = per_mta(query(f"sum({x})", t)).get((None, None))
                tb.check(got == exp, f"{os.path.basename(path)}: host=~{host!r} selects {got} sessions, want {exp}")
    tb.check(n >= 1, "no dashboard has a host variable")


def main():
    exe, corpus = sys.argv[1], sys.argv[2]
    if tb.missing_tools():
        return 77
    tmp = tempfile.mkdtemp(prefix="pte-backfill-fleet-")
    prom = None
    rules = os.path.join(ROOT, "dashboards", "prometheus", "postfix-tls.rules.yml")
    rule_files = [rules, os.path.join(ROOT, "dashboards", "prometheus", "postfix-tls.alerts.yml")]
    try:
        inputs, want, single = make_inputs(exe, corpus, tmp)
        data = os.path.join(tmp, "data")
        t0, t = backfill(exe, inputs, tmp, data)
        prom = tb.start_prometheus(tmp, data, rule_files)
        out = os.path.join(tmp, "rules-blocks")
        r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules", f"--start={t0}", f"--end={t}",
                            "--eval-interval=60s", f"--url=http://127.0.0.1:{tb.PROM_PORT}",
                            f"--output-dir={out}", rules], capture_output=True, text=True)
        tb.check(r.returncode == 0, f"promtool create-blocks-from rules: {r.stdout[-300:]}{r.stderr[-300:]}")
        prom.terminate()
        prom.wait(timeout=20)
        for b in os.listdir(out):
            if os.path.isdir(os.path.join(out, b)):
                shutil.move(os.path.join(out, b), os.path.join(data, b))
        prom = tb.start_prometheus(tmp, data, rule_files)
        check_counters(want, single, t)
        check_rules(want, single, t)
        check_host_variable(single, t0, t)
        print(f"backfill-fleet: 4 MTAs ({CENTRAL} hosts mx1 mx2, mx3:10125, mx4:10125), "
              f"{t0}..{t}, per MTA {[single[f] for f in REPORT_FIELDS]} (sessions, plaintext, mail, plaintext mail)")
    finally:
        tb.cleanup(prom, tmp)
    return tb.summary()


if __name__ == "__main__":
    sys.exit(main())

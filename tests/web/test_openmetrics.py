"""web-openmetrics: content negotiation and a strict check of both formats.

Asserts: without Accept (and for Accept: application/json, */*) the body is
Prometheus text 0.0.4 with Content-Type exactly 'text/plain;
version=0.0.4; charset=utf-8' and passes the strict 0.0.4 parser; with
'Accept: application/openmetrics-text;version=1.0.0', with Prometheus 2.42's
and with Prometheus 3's default Accept headers the body is OpenMetrics 1.0.0
with Content-Type exactly 'application/openmetrics-text; version=1.0.0;
charset=utf-8', passes the strict OpenMetrics parser (omparse.py), ends in
'# EOF\n', declares counters by family name (TYPE without _total), has no
_created samples, and carries the same values as the 0.0.4 body; a q-value
preferring text over OpenMetrics is honoured. With
--web.openmetrics-created every counter series gets a _created sample (a
plausible Unix time) in OpenMetrics, none in 0.0.4.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import omparse  # noqa: E402
from webtest import (OM_CT, TEXT_CT, Daemon, check, check_expected_values, curl, main, require_tools,
                     soft_check)  # noqa: E402

PORT = 19840
PROM2_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                "text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
PROM3_ACCEPT = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
                "text/plain;version=0.0.4;q=0.2,*/*;q=0.1")


def comparable(families):
    """Series values without the process_* self-metrics, which move between scrapes."""
    return {k: v for k, v in omparse.series_values(families).items() if not k[0].startswith("process_")}


def parse(kind, r):
    try:
        return (omparse.parse_openmetrics if kind == "om" else omparse.parse_text004)(r.text)
    except omparse.ParseError as e:
        check(False, f"strict {kind} parse: {e}")


def run():
    require_tools("curl")
    daemon = Daemon(PORT, name="openmetrics")
    daemon.wait_ingested()
    url = f"http://127.0.0.1:{PORT}/metrics"

    text = None
    for what, args in (("no Accept", []), ("Accept: application/json", ["-H", "Accept: application/json"]),
                       ("Accept: */*", ["-H", "Accept: */*"]),
                       ("q prefers text", ["-H", "Accept: application/openmetrics-text;version=1.0.0;q=0.1,"
                                                 "text/plain;version=0.0.4;q=0.9"])):
        r = curl(url, *args)
        if not soft_check(r.status == 200 and r.header("content-type") == TEXT_CT,
                          f"{what}: Content-Type '{TEXT_CT}' (got {r.header('content-type')!r})"):
            continue
        fams = parse("text", r)
        check("# EOF" not in r.text, f"{what}: no '# EOF' in 0.0.4")
        if text is None:
            text = fams
            check_expected_values(r.text, "0.0.4")
            check(not any(n.endswith("_created") for f in fams.values() for n, *_ in f.samples),
                  "0.0.4 has no _created samples")

    for what, accept in (("OpenMetrics 1.0.0", "application/openmetrics-text;version=1.0.0"),
                         ("Prometheus 2.42 Accept", PROM2_ACCEPT), ("Prometheus 3 Accept", PROM3_ACCEPT)):
        r = curl(url, "-H", f"Accept: {accept}")
        check(r.status == 200 and r.header("content-type") == OM_CT,
              f"{what}: Content-Type '{OM_CT}' (got {r.header('content-type')!r})")
        check(r.text.endswith("# EOF\n"), f"{what}: ends with '# EOF\\n'")
        om = parse("om", r)
        check(True, f"{what}: passes the strict OpenMetrics parser ({len(om)} families)")
        counters = [f for f in om.values() if f.type == "counter"]
        check(counters and all(not f.name.endswith("_total") for f in counters),
              f"{what}: counters are declared by family name ({len(counters)} counter families)")
        check(all(n.endswith("_total") for f in counters for n, *_ in f.samples), f"{what}: counter samples end in _total")
        check(not any(n.endswith("_created") for f in om.values() for n, *_ in f.samples), f"{what}: no _created by default")
        check(comparable(om) == comparable(text), f"{what}: same series and values as the 0.0.4 body")
    daemon.stop()

    daemon = Daemon(PORT + 1, args=["--web.openmetrics-created"], name="openmetrics-created")
    daemon.wait_ingested()
    url = f"http://127.0.0.1:{PORT + 1}/metrics"
    r = curl(url, "-H", "Accept: application/openmetrics-text;version=1.0.0")
    om = parse("om", r)
    counters = [f for f in om.values() if f.type == "counter"]
    missing = []
    for f in counters:
        totals = {omparse._label_key(l) for n, l, *_ in f.samples if n == f.name + "_total"}
        created = {omparse._label_key(l): v for n, l, v, *_ in f.samples if n == f.name + "_created"}
        missing += [(f.name, k) for k in totals if k not in created]
        for v in created.values():
            if not (1e9 < v <= time.time() + 1):
                check(False, f"--web.openmetrics-created: {f.name}_created {v} is a Unix time")
    soft_check(not missing, f"--web.openmetrics-created: every counter series has _created (missing {missing[:3]})")
    r = curl(url)
    check("_created" not in r.text, "--web.openmetrics-created: still no _created in 0.0.4")


main(run)

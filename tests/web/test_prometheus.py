"""web-prometheus: a real Prometheus scrapes the daemon over HTTPS with basic auth.

Starts /usr/bin/prometheus (Debian package 'prometheus') on 127.0.0.1:19869
with a temporary config and TSDB directory, two jobs against the daemon on
127.0.0.1:19860: 'postfix' with the test CA and the right password, and
'postfix-badauth' with a wrong password.

Asserts through Prometheus' HTTP API: up{job="postfix"} == 1; the target's
scrape is healthy; the TSDB holds exactly the corpus values
(submission 19, smtps 7, lines read 2267) and three series of
postfix_tls_inbound_connections_total; up{job="postfix-badauth"} == 0 with
a 401 in the target's lastError.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import EXPECTED, Daemon, Pki, bcrypt, check, main, port_free, require_tools, web_config, workdir, write  # noqa: E402

PORT = 19860
PROM_PORT = 19869
PROMETHEUS = os.environ.get("PTE_PROMETHEUS", "/usr/bin/prometheus")


def api(path, **params):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def query(expr):
    res = api("query", query=expr)["data"]["result"]
    return {json.dumps(s["metric"], sort_keys=True): float(s["value"][1]) for s in res}


def run():
    require_tools("curl", "openssl")
    if not os.access(PROMETHEUS, os.X_OK):
        print(f"SKIP: {PROMETHEUS} not installed (Debian package 'prometheus')")
        sys.exit(77)
    d = workdir("prometheus")
    pki = Pki(d)
    cfg = write(os.path.join(d, "web.yml"), web_config(pki, {"prometheus": bcrypt("scrape-secret", cost=10)}))
    daemon = Daemon(PORT, cfg, name="prometheus")
    daemon.wait_ingested(["--cacert", pki.ca, "-u", "prometheus:scrape-secret"], scheme="https")

    prom_dir = os.path.join(d, "prom")
    os.makedirs(os.path.join(prom_dir, "data"))
    job = """
  - job_name: {name}
    scheme: https
    scrape_interval: 1s
    scrape_timeout: 1s
    tls_config:
      ca_file: {ca}
    basic_auth:
      username: prometheus
      password: {pw}
    static_configs:
      - targets: ['127.0.0.1:{port}']
"""
    write(os.path.join(prom_dir, "prometheus.yml"),
          "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:" +
          job.format(name="postfix", ca=pki.ca, pw="scrape-secret", port=PORT) +
          job.format(name="postfix-badauth", ca=pki.ca, pw="wrong", port=PORT))
    if not port_free(PROM_PORT):
        check(False, f"port {PROM_PORT} free for Prometheus")
    log = open(os.path.join(prom_dir, "prometheus.log"), "w")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={prom_dir}/prometheus.yml",
                             f"--storage.tsdb.path={prom_dir}/data", f"--web.listen-address=127.0.0.1:{PROM_PORT}",
                             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        up = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                up = {json.loads(k)["job"]: v for k, v in query("up").items()}
                if up.get("postfix") == 1 and "postfix-badauth" in up:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        check(up.get("postfix") == 1, f'up{{job="postfix"}} == 1 (got {up})')
        check(up.get("postfix-badauth") == 0, f'up{{job="postfix-badauth"}} == 0 (got {up.get("postfix-badauth")})')

        targets = api("targets")["data"]["activeTargets"]
        good = [t for t in targets if t["labels"]["job"] == "postfix"]
        bad = [t for t in targets if t["labels"]["job"] == "postfix-badauth"]
        check(good and good[0]["health"] == "up" and good[0]["lastError"] == "",
              f"postfix target healthy ({good[0]['health'] if good else None}, {good[0]['lastError'] if good else ''!r})")
        check(bad and "401" in bad[0]["lastError"], f"badauth target error mentions 401 ({bad[0]['lastError'] if bad else None!r})")

        for series, want in EXPECTED.items():
            sel = 'job="postfix"'
            expr = series.replace("{", "{" + sel + ",") if "{" in series else series + "{" + sel + "}"
            got = query(expr)
            vals = list(got.values())
            check(vals == [want], f"TSDB: {series} == {want:g} (got {vals})")
        n = query('count(postfix_tls_inbound_connections_total{job="postfix"})')
        check(list(n.values()) == [3.0], f"TSDB: three postfix_tls_inbound_connections_total series (got {n})")
        samples = query('scrape_samples_scraped{job="postfix"}')
        check(list(samples.values())[0] > 100, f"Prometheus scraped a full exposition ({samples})")
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        log.close()
        shutil.rmtree(prom_dir, ignore_errors=True)


main(run)

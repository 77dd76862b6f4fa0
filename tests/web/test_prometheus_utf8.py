"""web-prometheus-utf8: a real Prometheus scrapes the bad-byte matrix (issue 15 item 1).

The log holds one inbound TLS session per (field x bad sequence): syslog_name,
cipher and key_exchange each with a stray 0xff, an overlong '/', a surrogate,
a code point past U+10FFFF and an ESC, plus the issue's example line. The
daemon (plain HTTP, 127.0.0.1:19865) repairs each bad byte to U+FFFD;
/usr/bin/prometheus (127.0.0.1:19868) scrapes it (OpenMetrics, as Prometheus
asks first) and must keep the target up, with no "invalid UTF-8" error, and
store the repaired label values.
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
from webtest import Daemon, check, main, port_free, workdir, write  # noqa: E402

PORT = 19865
PROM_PORT = 19868
PROMETHEUS = os.environ.get("PTE_PROMETHEUS", "/usr/bin/prometheus")
FFFD = "\ufffd"
BAD = [(b"\xff", 1), (b"\xc0\xaf", 2), (b"\xed\xa0\x80", 3), (b"\xf4\x90\x80\x80", 4), (b"\x1b", 1)]


def matrix_log():
    out, pid = [], 100
    for bad, _ in BAD:
        for field in range(3):
            pid += 1
            name = b"postfix" + (bad if field == 0 else b"")
            cipher = b"TLS_AES" + (bad if field == 1 else b"") + b"_256_GCM_SHA384"
            kx = b"X25519" + (bad if field == 2 else b"")
            peer = b"h%d.example.com[192.0.2.%d]" % (pid, pid % 250)
            out += [b"Nov 28 10:00:00 mx %s/smtpd[%d]: connect from %s" % (name, pid, peer),
                    b"Nov 28 10:00:01 mx %s/smtpd[%d]: Anonymous TLS connection established from %s: TLSv1.3 "
                    b"with cipher %s (256/256 bits) key-exchange %s server-signature ECDSA (prime256v1) "
                    b"server-digest SHA256" % (name, pid, peer, cipher, kx),
                    b"Nov 28 10:00:02 mx %s/smtpd[%d]: disconnect from %s ehlo=2 starttls=1 quit=1 commands=4"
                    % (name, pid, peer)]
    out.append(b"Nov 28 15:48:47 mx1 postfix\xff/smtpd[1]: connect from h.example.com[192.0.2.1]")
    return b"\n".join(out) + b"\n"


def api(path, **params):
    url = f"http://127.0.0.1:{PROM_PORT}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def query(expr):
    return api("query", query=expr)["data"]["result"]


def run():
    if not os.access(PROMETHEUS, os.X_OK):
        print(f"SKIP: {PROMETHEUS} not installed (Debian package 'prometheus')")
        sys.exit(77)
    d = workdir("prometheus-utf8")
    log = os.path.join(d, "mail.log")
    with open(log, "wb") as f:
        f.write(matrix_log())
    os.chmod(log, 0o644)
    daemon = Daemon(PORT, None, name="prometheus-utf8", source=log)
    prom_dir = os.path.join(d, "prom")
    os.makedirs(os.path.join(prom_dir, "data"))
    write(os.path.join(prom_dir, "prometheus.yml"),
          "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
          f"  - job_name: utf8\n    static_configs:\n      - targets: ['127.0.0.1:{PORT}']\n")
    check(port_free(PROM_PORT), f"port {PROM_PORT} free for Prometheus")
    plog = open(os.path.join(prom_dir, "prometheus.log"), "w")
    prom = subprocess.Popen([PROMETHEUS, f"--config.file={prom_dir}/prometheus.yml",
                             f"--storage.tsdb.path={prom_dir}/data", f"--web.listen-address=127.0.0.1:{PROM_PORT}",
                             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                            stdout=plog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        want_sessions = 3 * len(BAD) * 1.0
        got, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                got = query('sum(postfix_tls_inbound_handshakes_total{job="utf8"})')
                if got and float(got[0]["value"][1]) == want_sessions:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        check(got and float(got[0]["value"][1]) == want_sessions, f"all {want_sessions:g} handshakes stored ({got})")
        t = [t for t in api("targets")["data"]["activeTargets"] if t["labels"]["job"] == "utf8"]
        check(t and t[0]["health"] == "up" and t[0]["lastError"] == "",
              f"target up, no error ({t[0]['health'] if t else None}, {t[0]['lastError'] if t else ''!r})")
        for bad, n in BAD:
            rep = FFFD * n
            for label, value in (("syslog_name", "postfix" + rep), ("cipher", "TLS_AES" + rep + "_256_GCM_SHA384"),
                                 ("key_exchange", "x25519" + rep)):
                sel = json.dumps(value)
                r = query(f'postfix_tls_inbound_handshakes_total{{job="utf8",{label}={sel}}}')
                check(len(r) == 1, f"{label} with {bad!r} stored as {value!r} ({len(r)} series)")
        r = query('postfix_tls_exporter_invalid_utf8_lines_total{job="utf8"}')
        check(r and float(r[0]["value"][1]) == 3 * 5 + 2 * 5 + 1,
              f"invalid_utf8_lines_total counts every repaired record ({r})")
        check(daemon.alive(), "daemon still running")
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        plog.close()
        shutil.rmtree(d, ignore_errors=True)


main(run)

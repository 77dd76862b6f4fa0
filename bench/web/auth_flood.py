#!/usr/bin/env python3
"""auth_flood.py - ingest time and /metrics latency while wrong basic-auth
passwords flood the exporter (issue 15 item 7), against the same run without
the flood.

Usage: bench/web/auth_flood.py [BINARY] [--lines N] [--hosts N] [--flooders N] [--cost N]
  BINARY defaults to $PTE_BINARY, then build/src/postfix_tls_exporter.
  The log is bench/genlog.py --lines N --hosts N --seed 1 (cached
  in $PTE_BENCH_CACHE, default /tmp/pte-bench-cache).

Each run starts the daemon on 127.0.0.1:19896 with a --web.config.file that
has no TLS and one basic-auth user whose bcrypt hash has cost 10, reading the
log from the beginning. A legitimate scraper (source address 127.0.0.2, the
right password, a new connection per request) scrapes /metrics every 20 ms
until all lines are read (the ingest time) and for 5 s more. Runs:
  quiet     no flood
  flood     the scraper logs in once, then N flooders (each its own source
            address, 127.0.0.10 and up, a new connection per request) loop
            on /metrics with a wrong password
  cold      the flood starts first, so the scraper's first login competes
            with it (a restart or SIGHUP under attack)
Prints ingest seconds, /metrics p50/p99, the scraper's non-200 answers, the
flood's request count and how many got 401 and 429.
"""
import argparse
import base64
import http.client
import os
import subprocess
import sys
import tempfile
import threading
import time

from benchlog import cached_log

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 19896
USER, PASSWORD = "prometheus", "right horse battery staple"
FLOOD_SECONDS_AFTER = 5


def bcrypt(password, cost):
    """A $2y$ hash from libcrypt, as tests/web/webtest.py makes them."""
    import ctypes
    import ctypes.util
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    h = lib.crypt(password.encode(), lib.crypt_gensalt(b"$2y$", cost, None, 0))
    if not h or len(h) != 60:
        sys.exit("libcrypt cannot make bcrypt hashes")
    return h.decode()


def auth(password):
    return "Basic " + base64.b64encode(f"{USER}:{password}".encode()).decode()


def get(source, password):
    """GET /metrics from SOURCE; return (status, body)."""
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30, source_address=(source, 0))
    try:
        c.request("GET", "/metrics", headers={"Authorization": auth(password)})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def lines_read(body):
    for line in body.decode().splitlines():
        if line.startswith("postfix_tls_exporter_lines_read_total "):
            return float(line.split()[1])
    return None


class Flooder(threading.Thread):
    def __init__(self, stop, source):
        super().__init__(daemon=True)
        self.stop, self.source = stop, source
        self.status = {}

    def run(self):
        while not self.stop.is_set():
            try:
                s, _ = get(self.source, "wrong password")
            except OSError:
                s = "error"
                time.sleep(0.01)
            self.status[s] = self.status.get(s, 0) + 1


def run(binary, log, lines, config, mode, flooders):
    work = tempfile.mkdtemp(prefix="pte-auth-flood.")
    args = [binary, f"--web.listen-address=127.0.0.1:{PORT}", f"--source.file={log}",
            "--source.start=beginning", f"--state.directory={work}", f"--web.config.file={config}",
            "--web.max-connections=128", "--web.max-connections-per-ip=128"]
    if os.getuid() == 0:
        args.append("--user=nobody")
        os.chmod(work, 0o777)
    p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    threads = [Flooder(stop, f"127.0.0.{10 + i}") for i in range(flooders if mode != "quiet" else 0)]
    try:
        for _ in range(100):
            if p.poll() is not None:
                sys.exit(f"the daemon exited with {p.returncode}: {' '.join(args)}")
            try:
                get("127.0.0.3", "probe")  # any answer: listening (a stranger, not the scraper)
                break
            except OSError:
                time.sleep(0.05)
        t0 = time.monotonic()
        if mode == "flood":
            get("127.0.0.2", PASSWORD)  # logged in: cached, and a friend
        for t in threads:
            t.start()
        lat, done, bad = [], None, 0
        end = None
        while time.monotonic() - t0 < 600 and (end is None or time.monotonic() < end):
            s = time.monotonic()
            try:
                status, body = get("127.0.0.2", PASSWORD)
            except OSError:
                status, body = None, b""
            lat.append(time.monotonic() - s)
            if status != 200:
                bad += 1
            elif done is None and (lines_read(body) or 0) >= lines:
                done = time.monotonic() - t0
                end = time.monotonic() + (FLOOD_SECONDS_AFTER if threads else 0)
            time.sleep(0.02)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        lat.sort()
        fl = {}
        for t in threads:
            for k, v in t.status.items():
                fl[k] = fl.get(k, 0) + v
        return done, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3, bad, len(lat), fl
    finally:
        stop.set()
        p.terminate()
        p.wait(timeout=30)
        subprocess.run(["rm", "-rf", work])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.environ.get("PTE_BINARY",
                    os.path.join(HERE, "../../build/src/postfix_tls_exporter")))
    ap.add_argument("--lines", type=int, default=1000000)
    ap.add_argument("--hosts", type=int, default=20000)
    ap.add_argument("--flooders", type=int, default=8)
    ap.add_argument("--cost", type=int, default=10)
    a = ap.parse_args()
    log, lines = cached_log(a.lines, a.hosts)
    cdir = tempfile.mkdtemp(prefix="pte-auth-flood-cfg.")
    os.chmod(cdir, 0o755)
    config = os.path.join(cdir, "web.yml")
    with open(config, "w") as f:
        f.write(f"basic_auth_users:\n  {USER}: {bcrypt(PASSWORD, a.cost)}\n")
    os.chmod(config, 0o644)
    print(f"# {lines} lines, {a.hosts} hosts; bcrypt cost {a.cost}; {a.flooders} flooders with a wrong password")
    print(f"{'run':<6} {'ingest s':>9} {'/metrics p50 ms':>16} {'p99 ms':>8} {'scrapes':>8} {'non-200':>8}"
          f" {'flood req':>10} {'401':>7} {'429':>7} {'other':>6}")
    ok = True
    try:
        for mode in ("quiet", "flood", "cold"):
            done, p50, p99, bad, n, fl = run(a.binary, log, lines, config, mode, a.flooders)
            total = sum(fl.values())
            other = total - fl.get(401, 0) - fl.get(429, 0)
            print(f"{mode:<6} {done if done else float('nan'):>9.2f} {p50:>16.1f} {p99:>8.1f} {n:>8} {bad:>8}"
                  f" {total:>10} {fl.get(401, 0):>7} {fl.get(429, 0):>7} {other:>6}", flush=True)
            ok = ok and done is not None and other == 0
    finally:
        subprocess.run(["rm", "-rf", cdir])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

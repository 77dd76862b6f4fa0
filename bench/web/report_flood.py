#!/usr/bin/env python3
"""report_flood.py - ingest time, /metrics p99 and daemon memory while /report
is flooded (issue 15 item 8), against the same run without the flood.

Usage: bench/web/report_flood.py [BINARY] [--lines N] [--hosts N]
  BINARY defaults to $PTE_BINARY, then build/src/postfix_tls_exporter.
  The log is bench/genlog.py --lines N --hosts N --seed 1 (cached
  in $PTE_BENCH_CACHE, default /tmp/pte-bench-cache).

Each run starts the daemon on 127.0.0.1:19895 reading the log from the
beginning and scrapes /metrics every 20 ms until all lines are read (the
ingest time). In the flood run, 6 clients loop on /report?format=json and
/report, and 20 slow readers each read one ?format=json body at 16 KiB/s.
Prints ingest seconds, /metrics p50/p99 and the daemon's peak RSS per run.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from benchlog import cached_log

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 19895


def metric(name):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def flood(stop, path):
    while not stop.is_set():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=30) as r:
                r.read()
        except OSError:
            time.sleep(0.05)


def slow_reader(stop):
    while not stop.is_set():
        try:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /report?format=json HTTP/1.1\r\nHost: x\r\n\r\n")
            while not stop.is_set():
                if not s.recv(1024):
                    break
                time.sleep(1024 / 16384)
            s.close()
        except OSError:
            time.sleep(0.1)


def run(binary, log, lines, with_flood):
    work = tempfile.mkdtemp(prefix="pte-report-flood.")
    args = [binary, f"--web.listen-address=127.0.0.1:{PORT}", f"--source.file={log}",
            "--source.start=beginning", f"--state.directory={work}",
            # every client is 127.0.0.1 here
            "--web.max-connections=128", "--web.max-connections-per-ip=128"]
    if os.getuid() == 0:
        args.append("--user=nobody")
        os.chmod(work, 0o777)
    p = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    stop = threading.Event()
    threads = []
    try:
        for _ in range(100):
            try:
                metric("postfix_tls_exporter_lines_read_total")
                break
            except OSError:
                time.sleep(0.05)
        t0 = time.monotonic()
        if with_flood:
            for i in range(6):
                threads.append(threading.Thread(target=flood, args=(stop, "/report?format=json" if i % 2 else "/report"),
                                                daemon=True))
            threads += [threading.Thread(target=slow_reader, args=(stop,), daemon=True) for _ in range(20)]
            for t in threads:
                t.start()
        lat, peak, done, errors = [], 0, None, 0
        while time.monotonic() - t0 < 600:
            s = time.monotonic()
            try:
                n = metric("postfix_tls_exporter_lines_read_total")
            except OSError:
                n, errors = None, errors + 1
            lat.append(time.monotonic() - s)
            peak = max(peak, rss_kb(p.pid))
            if n is not None and n >= lines:
                done = time.monotonic() - t0
                break
            time.sleep(0.02)
        # a few seconds more of flood after ingest: /metrics and memory only
        end = time.monotonic() + (5 if with_flood else 0)
        while time.monotonic() < end:
            s = time.monotonic()
            try:
                metric("postfix_tls_exporter_lines_read_total")
            except OSError:
                errors += 1
            lat.append(time.monotonic() - s)
            peak = max(peak, rss_kb(p.pid))
            time.sleep(0.02)
        lat.sort()
        return done, lat[len(lat) // 2] * 1e3, lat[int(len(lat) * 0.99)] * 1e3, peak / 1024, errors
    finally:
        stop.set()
        p.terminate()
        p.wait(timeout=30)
        subprocess.run(["rm", "-rf", work])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.environ.get("PTE_BINARY",
                    os.path.join(HERE, "../../build/src/postfix_tls_exporter")))
    ap.add_argument("--lines", type=int, default=300000)
    ap.add_argument("--hosts", type=int, default=10000)
    a = ap.parse_args()
    log, lines = cached_log(a.lines, a.hosts)
    print(f"# {lines} lines, {a.hosts} hosts; 6 clients loop on /report, 20 slow readers of ?format=json")
    print(f"{'run':<10} {'ingest s':>9} {'/metrics p50 ms':>16} {'p99 ms':>8} {'peak RSS MB':>12} {'errors':>7}")
    ok = True
    for label, fl in (("quiet", False), ("flood", True)):
        done, p50, p99, peak, errors = run(a.binary, log, lines, fl)
        print(f"{label:<10} {done if done else float('nan'):>9.2f} {p50:>16.1f} {p99:>8.1f} {peak:>12.1f} {errors:>7}")
        ok = ok and done is not None and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

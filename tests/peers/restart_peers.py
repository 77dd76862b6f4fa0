#!/usr/bin/env python3
"""Restart test of the peer windows: the daemon follows a log with
--state.directory; after SIGTERM and a restart, /report?format=json shows
the same window counts as before (the state file was loaded, the file
cursor resumed), and after more log lines arrive the counts keep growing
and equal those of `report` over the whole log.

Usage: restart_peers.py LOG   (the log is split at a session boundary)
"""
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

PORT = 3729
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def split_point(lines):
    """Index of an smtpd 'connect from' near the middle with no session open before it."""
    open_ = set()
    best = None
    for i, line in enumerate(lines):
        m = re.search(r" (\S+/smtpd)\[(\d+)\]: (connect|disconnect) from ", line)
        if not m:
            continue
        key = (m.group(1), m.group(2))
        if m.group(3) == "connect":
            if not open_ and i >= len(lines) // 2 and best is None:
                best = i
            open_.add(key)
        else:
            open_.discard(key)
    return best


def get(path):
    return urllib.request.urlopen(f"http://127.0.0.1:{PORT}{path}", timeout=5).read().decode()


def lines_read():
    try:
        m = re.search(r"^postfix_tls_exporter_lines_read_total (\d+)$", get("/metrics"), re.M)
        return int(m.group(1)) if m else 0
    except OSError:
        return -1


def wait_lines(n, what):
    for _ in range(150):
        if lines_read() >= n:
            return True
        time.sleep(0.2)
    check(False, f"{what}: daemon did not read {n} lines (read {lines_read()})")
    return False


def window(doc):
    """What must survive a restart: the per-peer windows and the totals."""
    strip = lambda p: {k: v for k, v in p.items() if k != "labelled"}
    return {
        "peers": [strip(p) for p in doc["inbound"]["peers"]],
        "totals": doc["inbound"]["totals"],
        "days": doc["inbound"]["days"],
        "protocols": doc["inbound"]["protocols"],
        "verdicts": doc["verdicts"],
        "unknown": doc["inbound"]["unknown_clients"],
        "destinations": doc["outbound"]["destinations"],
        "outbound": doc["outbound"]["totals"],
    }


def main():
    exe = os.environ.get("PTE_BINARY")
    # One run at a time on this machine: the instance paths, ports 3725-3729
    # and /etc/hosts are shared by every checkout's test run.
    lock = open("/tmp/pte-peers-e2e.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    src = sys.argv[1]
    with open(src) as f:
        lines = f.readlines()
    cut = split_point(lines)
    check(cut is not None, "a session boundary to split at")
    if cut is None:
        return 1
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT="1")
    tmp = tempfile.mkdtemp(prefix="pte-peers-restart-")
    log, sd = os.path.join(tmp, "mail.log"), os.path.join(tmp, "state")
    os.mkdir(sd)
    with open(log, "w") as f:
        f.writelines(lines[:cut])
    args = [exe, f"--source.file={log}", "--source.start=beginning", f"--state.directory={sd}",
            f"--web.listen-address=127.0.0.1:{PORT}", "--window=366d"]
    procs = []

    def start():
        p = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    def stop(p):
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = None
        check(rc == 0, f"daemon exit status after SIGTERM: {rc} {p.stderr.read()[-400:]}")

    try:
        p = start()
        wait_lines(cut, "first run")
        before = json.loads(get("/report?format=json"))
        n_before = sum(sum(x["sessions"].values()) for x in before["inbound"]["peers"])
        check(n_before > 0, "sessions before the restart")
        stop(p)
        check(os.path.exists(os.path.join(sd, "peers.state")), "peers.state written on SIGTERM")

        p = start()
        for _ in range(100):
            if lines_read() >= 0:
                break
            time.sleep(0.2)
        after = json.loads(get("/report?format=json"))
        check(window(after) == window(before), "window counts after the restart equal those before")
        check(lines_read() == 0, "the file cursor resumed (no line read twice)")

        with open(log, "a") as f:
            f.writelines(lines[cut:])
        wait_lines(len(lines) - cut, "after the restart")
        # /report is rendered again only after ten times its last rendering
        # cost (at least 100 ms; http.c REPORT_REUSE_FACTOR): under a
        # sanitizer that can outlast the wait for the lines, so poll
        for _ in range(50):
            grown = json.loads(get("/report?format=json"))
            n_grown = sum(sum(x["sessions"].values()) for x in grown["inbound"]["peers"])
            if n_grown > n_before:
                break
            time.sleep(0.2)
        check(n_grown > n_before, f"counts keep growing: {n_before} -> {n_grown}")
        ref = subprocess.run([exe, "report", "--format", "json", "--window", "366d", src], env=env,
                             capture_output=True, text=True)
        full = json.loads(ref.stdout)
        w1, w2 = window(grown), window(full)
        for k in w1:
            check(w1[k] == w2[k], f"after restart + growth, {k} equals `report` over the whole log")
        stop(p)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"peers-restart: split at line {cut} of {len(lines)}; sessions {n_before} before, {n_grown} after")
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

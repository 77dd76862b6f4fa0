#!/usr/bin/env python3
"""test_hostile.py - issue 15 at the process level.

1. New Year: the daemon starts (under libfaketime, clock sped up 10x) on
   31 Dec 23:59:50, reads a line of 31 Dec, then - after the clock passed
   midnight - a line of 1 Jan; last_event_timestamp_seconds must be that
   line's 2027 time, not 2026's (the year used to be fixed at start).
   Skipped when libfaketime (Debian package faketime) is not installed.
2. RLIMIT_NOFILE: started with a soft limit of 512 (hard 2048), the
   daemon raises it to the hard limit (process_max_fds 2048).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

exe = sys.argv[1]
PORT = 19597
failures = 0


def check(cond, what):
    global failures
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        failures += 1


def metrics():
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=5) as r:
        return {l.split()[0]: float(l.split()[1]) for l in r.read().decode().splitlines()
                if l and not l.startswith("#")}


def wait_for(pred, secs=20):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            m = metrics()
            if pred(m):
                return m
        except OSError:
            pass
        time.sleep(0.1)
    return None


def libfaketime():
    """The preload library itself: the faketime(1) wrapper forks, and a
    terminated wrapper would leave the daemon running."""
    for d in ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime"):
        lib = os.path.join(d, "libfaketime.so.1")
        if os.path.exists(lib):
            return lib
    return None


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def new_year(work):
    lib = libfaketime()
    if not lib:
        print("ok - # SKIP libfaketime not installed (Debian package faketime)")
        return
    with open(exe, "rb") as f:
        if b"AddressSanitizer" in f.read():
            print("ok - # SKIP sanitizer build: libfaketime's clock wrapper hangs in the ASan runtime")
            return
    if not port_free(PORT):
        check(False, f"port {PORT} free")
        return
    log = os.path.join(work, "mail.log")
    open(log, "w").close()
    env = dict(os.environ, TZ="UTC", LD_PRELOAD=lib, FAKETIME="@2026-12-31 23:59:50 x10")
    args = [exe, f"--web.listen-address=127.0.0.1:{PORT}", f"--source.file={log}", "--source.start=beginning"]
    if os.getuid() == 0:
        args.append("--user=nobody")
    p = subprocess.Popen(args, env=env, stderr=subprocess.DEVNULL)
    try:
        check(wait_for(lambda m: "postfix_tls_exporter_lines_read_total" in m) is not None, "daemon up")
        with open(log, "a") as f:
            f.write("Dec 31 23:59:55 mx postfix/smtpd[1]: connect from a[192.0.2.1]\n")
        m = wait_for(lambda m: m.get("postfix_tls_exporter_lines_read_total", 0) >= 1)
        dec31 = 1798761595  # 2026-12-31T23:59:55Z
        check(m is not None and m["postfix_tls_exporter_last_event_timestamp_seconds"] == dec31,
              f"31 Dec dated 2026 ({m and m['postfix_tls_exporter_last_event_timestamp_seconds']})")
        time.sleep(2)  # 20 s of faked time: past midnight
        with open(log, "a") as f:
            f.write("Jan  1 00:00:05 mx postfix/smtpd[1]: disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2\n")
        m = wait_for(lambda m: m.get("postfix_tls_exporter_lines_read_total", 0) >= 2)
        jan1 = 1798761605  # 2027-01-01T00:00:05Z
        check(m is not None and m["postfix_tls_exporter_last_event_timestamp_seconds"] == jan1,
              f"1 Jan dated 2027 ({m and m['postfix_tls_exporter_last_event_timestamp_seconds']})")
        check(m is not None and m.get("postfix_tls_exporter_sessions_expired_total") == 0,
              "the session across midnight ended normally")
    finally:
        p.terminate()
        p.wait(timeout=10)


def nofile():
    if not shutil.which("prlimit"):
        print("ok - # SKIP prlimit not installed")
        return
    r = subprocess.run(["prlimit", "--nofile=512:2048", exe, "--once", "--source.file=/dev/null"],
                       capture_output=True, text=True)
    line = [l for l in r.stdout.splitlines() if l.startswith("process_max_fds ")]
    check(r.returncode == 0 and line == ["process_max_fds 2048"],
          f"soft RLIMIT_NOFILE raised to the hard limit ({line})")


with tempfile.TemporaryDirectory(prefix="pte-hostile-") as work:
    os.chmod(work, 0o755)
    new_year(work)
    nofile()
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""test_hostile.py - issue 15 at the process level.

1. New Year: the daemon starts (under libfaketime, clock sped up 10x) on
   31 Dec 23:59:50, reads a line of 31 Dec, then - after the clock passed
   midnight - a line of 1 Jan; last_event_timestamp_seconds must be that
   line's 2027 time, not 2026's (the year used to be fixed at start).
   Skipped when libfaketime (Debian package faketime) is not installed.
2. RLIMIT_NOFILE: started with a soft limit of 512 (hard 2048), the
   daemon raises it to the hard limit (process_max_fds 2048).
3. A rotation to a file the daemon may not read: mail.log is renamed to
   mail.log.1 (the writer appends one more line to it) and a new mail.log
   with mode 000 takes its place. The old file is drained once, one
   warning is logged, the path is retried with back-off (counted with
   strace when installed: at most 5 opens in 6 s; it used to be twice a
   second) and source_up is 0; after chmod 644 the new file is read from
   its start; "rotated, following the new file" is logged once, not per
   retry. The daemon runs as nobody when the test runs as root (root
   would read the 000 file).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from tap import check, finish

exe = sys.argv[1]
PORT = 19597


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


def source_up(m):
    """source_up of the one source (the series has a source label)."""
    ups = [v for k, v in m.items() if k.startswith("postfix_tls_exporter_source_up{")]
    return ups[0] if len(ups) == 1 else None


def rotated_unreadable(work):
    if not port_free(PORT):
        check(False, f"port {PORT} free")
        return
    log = os.path.join(work, "mail.log")
    line = "Dec  1 10:00:0{} mx postfix/smtpd[1]: connect from a[192.0.2.1]\n"
    with open(log, "w") as f:
        f.write(line.format(1))
    os.chmod(log, 0o644)
    err = open(os.path.join(work, "rotated.err"), "w+")
    args = [exe, f"--web.listen-address=127.0.0.1:{PORT}", f"--source.file={log}", "--source.start=beginning"]
    if os.getuid() == 0:
        args.append("--user=nobody")
    p = subprocess.Popen(args, stderr=err)
    tracer = None
    try:
        check(wait_for(lambda m: m.get("postfix_tls_exporter_lines_read_total") == 1) is not None,
              "rotated: first line read")
        opens = os.path.join(work, "rotated.strace")
        if shutil.which("strace"):
            tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", opens,
                                       "-p", str(p.pid)], stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # attached
        os.rename(log, log + ".1")
        with open(log + ".1", "a") as f:
            f.write(line.format(2))
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o000)
        os.write(fd, line.format(3).encode())
        os.close(fd)
        os.chmod(log, 0o000)  # whatever the umask
        m = wait_for(lambda m: m.get("postfix_tls_exporter_lines_read_total") == 2
                     and source_up(m) == 0, 5)
        check(m is not None, "rotated: old file drained, source_up 0 while the new one is unreadable")
        time.sleep(6)
        if tracer:
            tracer.terminate()
            tracer.wait(timeout=10)
            with open(opens) as f:
                n = sum(1 for l in f if '"' + log + '"' in l)
            check(1 <= n <= 5, f"rotated: {n} opens of the unreadable file in ~6 s (back-off)")
        else:
            print("ok - # SKIP strace not installed: open count not checked")
        err.seek(0)
        text = err.read()
        warns = text.count("cannot open '" + log + "'")
        check(warns == 1, f"rotated: one warning ({warns})")
        os.chmod(log, 0o644)
        m = wait_for(lambda m: m.get("postfix_tls_exporter_lines_read_total") == 3
                     and source_up(m) == 1, 40)
        check(m is not None, "rotated: the new file read from its start once readable")
        err.seek(0)
        text = err.read()
        check(text.count("rotated, following the new file") == 1,
              f"rotated: 'rotated' said once ({text.count('rotated, following the new file')})")
    finally:
        if tracer and tracer.poll() is None:
            tracer.kill()
            tracer.wait()
        p.terminate()
        p.wait(timeout=10)
        err.close()


with tempfile.TemporaryDirectory(prefix="pte-hostile-") as work:
    os.chmod(work, 0o755)
    new_year(work)
    nofile()
    rotated_unreadable(work)
finish()

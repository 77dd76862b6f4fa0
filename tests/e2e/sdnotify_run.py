#!/usr/bin/env python3
"""sdnotify_run.py - run the daemon the way postfix_tls_exporter.service does,
without a booted systemd, and check its side of the service contract.

  sdnotify_run.py --user USER --state-dir DIR --port PORT [--socket-activation]
                  --wait-lines N --metrics-out FILE -- BINARY ARGS...

Plays the service manager: a NOTIFY_SOCKET datagram socket (Type=notify),
WATCHDOG_USEC (WatchdogSec=), STATE_DIRECTORY (StateDirectory=), the
unprivileged user with its supplementary groups from /etc/group (User=,
what systemd's initgroups gives), and with --socket-activation a listening
socket on fd 3 with LISTEN_FDS/LISTEN_PID (postfix_tls_exporter.socket plus
--web.systemd-socket). Checks READY=1, periodic WATCHDOG=1, that /metrics
is served, SIGTERM -> STOPPING=1 and exit status 0, and writes the last
scrape (taken once lines_read_total reached N) to FILE.
Prints "ok"/"FAIL" lines and exits 1 on any failure.
"""
import argparse
import grp
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402

fails = 0


def check(cond, msg):
    global fails
    print(("ok   " if cond else "FAIL ") + msg, flush=True)
    if not cond:
        fails += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", required=True)
    ap.add_argument("--state-dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--socket-activation", action="store_true")
    ap.add_argument("--wait-lines", type=int, default=0)
    ap.add_argument("--metrics-out")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    pw = pwd.getpwnam(a.user)
    tmp = tempfile.mkdtemp(prefix="pte-notify.")
    os.chmod(tmp, 0o755)
    notify_path = os.path.join(tmp, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    os.chmod(notify_path, 0o777)
    ns.settimeout(0.2)

    listen = None
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="1000000",
               STATE_DIRECTORY=a.state_dir, HOME=pw.pw_dir, USER=a.user, LOGNAME=a.user)
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "WATCHDOG_PID"):
        env.pop(k, None)
    if a.socket_activation:
        listen = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listen.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listen.bind(("127.0.0.1", a.port))
        listen.listen(16)
        env["LISTEN_FDS"] = "1"
        env["LISTEN_FDNAMES"] = "postfix_tls_exporter.socket"

    def child_setup():
        if listen is not None:
            os.dup2(listen.fileno(), 3)          # SD_LISTEN_FDS_START
            os.environ["LISTEN_PID"] = str(os.getpid())
        os.initgroups(a.user, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    # env is applied through os.environ in the child so that LISTEN_PID,
    # which must be the daemon's own pid, can be set after fork().
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        errf = open(os.path.join(tmp, "stderr"), "w+")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, preexec_fn=child_setup,
                             close_fds=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if listen is not None:
        listen.close()

    msgs = []

    def pump(until, stop=None):
        while time.monotonic() < until:
            try:
                m = ns.recv(4096).decode()
                msgs.append((time.monotonic(), m))
                if stop and stop in m:
                    return True
            except socket.timeout:
                if p.poll() is not None:
                    return False
        return False

    t0 = time.monotonic()
    ready = pump(t0 + 20, "READY=1")
    check(ready, "READY=1 received (%.2f s after start)" % (time.monotonic() - t0))
    if not ready:
        p.kill()
        errf.seek(0)
        print(errf.read()[-2000:])
        return 1
    groups = {g.gr_name for g in grp.getgrall() if a.user in g.gr_mem}
    try:
        status = open("/proc/%d/status" % p.pid).read()
        uid = int([l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1])
        gids = {int(x) for x in [l for l in status.splitlines() if l.startswith("Groups:")][0].split()[1:]}
        names = {grp.getgrgid(g).gr_name for g in gids}
        check(uid == pw.pw_uid and groups <= names,
              "daemon runs as %s with groups %s" % (a.user, " ".join(sorted(names))))
    except (OSError, IndexError, KeyError) as e:
        check(False, "daemon credentials: %s" % e)

    base = "http://127.0.0.1:%d" % a.port
    body = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pump(time.monotonic() + 0.2)
        try:
            with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
                body = r.read().decode()
            parsed = promtext.parse(body)
            if sum(parsed.get("postfix_tls_exporter_lines_read_total", {}).values()) >= a.wait_lines:
                break
        except OSError:
            pass
    check(bool(body), "/metrics served%s" % (" through the socket passed on fd 3" if a.socket_activation else ""))
    if a.metrics_out:
        with open(a.metrics_out, "w") as f:
            f.write(body)
    pump(time.monotonic() + 2.5)
    wd = [t for t, m in msgs if "WATCHDOG=1" in m]
    check(len(wd) >= 2, "WATCHDOG=1 sent periodically with WATCHDOG_USEC=1s (%d in %.1f s)"
          % (len(wd), time.monotonic() - t0))
    p.send_signal(signal.SIGTERM)
    stopping = pump(time.monotonic() + 10, "STOPPING=1")
    check(stopping, "SIGTERM: STOPPING=1 received")
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "killed"
    check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
    if rc != 0:
        errf.seek(0)
        print(errf.read()[-2000:])
    ns.close()
    os.unlink(notify_path)
    os.unlink(os.path.join(tmp, "stderr"))
    os.rmdir(tmp)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())

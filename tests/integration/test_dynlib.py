#!/usr/bin/env python3
"""test_dynlib.py - libmicrohttpd, GnuTLS and libsystemd are loaded only
when needed (src/dynlib.c).

With unloadable stand-ins for the three libraries first on the library
path (empty files with their sonames):
1. --once over a file does not load any of them: it succeeds and prints
   the same inbound session counts as without the stand-ins;
2. --once over a journal file needs libsystemd only: with a broken
   libmicrohttpd and GnuTLS it counts what it counts without them, with a
   broken libsystemd it fails naming the library;
3. the daemon loads all three before it serves: it exits 1 at once, naming
   libmicrohttpd.so.12, and never listens.
"""
import os
import subprocess
import sys
import tempfile

from tap import check, finish

exe, log, journal = sys.argv[1:4]
PORT = 19596


def stand_ins(d, names):
    os.makedirs(d, exist_ok=True)
    for n in names:
        open(os.path.join(d, n), "w").close()
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = d + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def run(args, env=None, timeout=60):
    return subprocess.run([exe] + args, env=env, capture_output=True, text=True, timeout=timeout)


def sessions(out):
    return sorted(l for l in out.splitlines() if l.startswith("postfix_tls_inbound_sessions_total{"))


ALL = ["libmicrohttpd.so.12", "libgnutls.so.30", "libsystemd.so.0"]
with tempfile.TemporaryDirectory() as tmp:
    broken_all = stand_ins(os.path.join(tmp, "all"), ALL)
    broken_web = stand_ins(os.path.join(tmp, "web"), ALL[:2])

    # 1. --once over a file
    ref = run(["--once", "--source.file=" + log])
    check(ref.returncode == 0 and len(sessions(ref.stdout)) == 11,
          "--once over the corpus log: 11 inbound session series (rc %d)" % ref.returncode)
    p = run(["--once", "--source.file=" + log], broken_all)
    check(p.returncode == 0, "--once over a file with all three libraries broken: rc 0 (%d; %s)"
          % (p.returncode, p.stderr.strip()[-200:]))
    check(sessions(p.stdout) == sessions(ref.stdout), "... and the same inbound session counts")

    # 2. --once over a journal file
    ref = run(["--once", "--source.journal.file=" + journal])
    check(ref.returncode == 0 and sessions(ref.stdout), "--once over the corpus journal (rc %d)" % ref.returncode)
    p = run(["--once", "--source.journal.file=" + journal], broken_web)
    check(p.returncode == 0 and sessions(p.stdout) == sessions(ref.stdout),
          "journal with libmicrohttpd and GnuTLS broken: the same counts (rc %d)" % p.returncode)
    p = run(["--once", "--source.journal.file=" + journal], broken_all)
    check(p.returncode != 0 and "cannot load libsystemd.so.0" in p.stderr,
          "journal with libsystemd broken: fails naming it (rc %d)" % p.returncode)

    # 3. the daemon
    env = dict(broken_all, POSTFIX_TLS_EXPORTER_ALLOW_ROOT="1")
    try:
        p = run(["--source.file=" + log, "--web.listen-address=127.0.0.1:%d" % PORT], env, timeout=20)
        check(p.returncode == 1 and "cannot load libmicrohttpd.so.12" in p.stderr and "ready" not in p.stderr,
              "the daemon with the libraries broken: exit 1 naming libmicrohttpd.so.12 before ready (rc %d)"
              % p.returncode)
    except subprocess.TimeoutExpired:
        check(False, "the daemon with the libraries broken kept running")

finish()

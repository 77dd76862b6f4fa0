"""web-endpoints: the rest of the HTTP surface of issue 5.

Asserts: /-/healthy 200; /-/ready 200 once the source is positioned;
HEAD /metrics 200 with the GET headers and no body; POST, PUT and DELETE
get 405 with 'Allow: GET, HEAD'; an unknown path 404; --web.telemetry-path
moves the metrics (old path 404); two --web.listen-address both serve;
--web.systemd-socket serves on an inherited socket (LISTEN_FDS); a request
head larger than --web.max-request-bytes is refused (413/431 or closed)
and the daemon keeps serving; started as root with --user=nobody the
serving process runs as uid 65534.
"""
import os
import pwd
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import (BINARY, CORPUS, SUBMISSION_LINE, Daemon, check, curl, main, require_tools,  # noqa: E402
                     soft_check)

PORT = 19880


def run():
    require_tools("curl")
    daemon = Daemon(PORT, args=["--web.telemetry-path=/custom-metrics", "--web.max-request-bytes=8192"],
                    extra_ports=(PORT + 1,), name="endpoints")
    daemon.wait_listening()
    base = f"http://127.0.0.1:{PORT}"
    r = curl(base + "/-/healthy")
    check(r.status == 200, f"/-/healthy: 200 ({r.status})")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and curl(base + "/-/ready").status != 200:
        time.sleep(0.1)
    check(curl(base + "/-/ready").status == 200, "/-/ready: 200 once the source is positioned")

    g = curl(base + "/custom-metrics")
    check(g.status == 200 and SUBMISSION_LINE in g.text, "--web.telemetry-path=/custom-metrics serves the metrics")
    check(curl(base + "/metrics").status == 404, "the default /metrics is 404 when the path is moved")
    check(curl(base + "/nope").status == 404, "unknown path: 404")

    h = curl(base + "/custom-metrics", "--head")
    check(h.status == 200 and h.header("content-type") == g.header("content-type"), "HEAD: 200 with the GET Content-Type")
    check(b"postfix_tls_" not in h.body, "HEAD: no body")

    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        r = curl(base + "/custom-metrics", "-X", method, *(["-d", "x=1"] if method in ("POST", "PUT") else []))
        soft_check(r.status == 405 and (r.header("allow") or "").replace(" ", "") == "GET,HEAD",
                   f"{method}: 405 with Allow: GET, HEAD (got {r.status}, {r.header('allow')!r})")

    r = curl(f"http://127.0.0.1:{PORT + 1}/custom-metrics")
    check(r.status == 200 and SUBMISSION_LINE in r.text, "second --web.listen-address serves too")

    r = curl(base + "/custom-metrics", "-H", "X-Big: " + "a" * 20000)
    soft_check(r.status in (413, 431) or (r.status == 0 and r.rc in (52, 55, 56)),
               f"request head above --web.max-request-bytes is refused (status {r.status}, rc {r.rc})")
    check(curl(base + "/custom-metrics").status == 200, "still serving after the oversized request")

    if os.geteuid() == 0:
        with open(f"/proc/{daemon.pid}/status") as f:
            uids = [line.split()[1:] for line in f if line.startswith("Uid:")][0]
        nobody = str(pwd.getpwnam("nobody").pw_uid)
        check(uids == [nobody] * 4, f"--user=nobody: real/effective/saved/fs uid are {nobody} (got {uids})")
    daemon.stop()

    # Socket activation: the listening socket is fd 3, LISTEN_PID is the daemon's own pid.
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", PORT + 2))
    lsock.listen(16)
    args = [BINARY, "--web.systemd-socket", f"--source.file={CORPUS}", "--source.start=beginning"]
    if os.geteuid() == 0:
        args.append("--user=nobody")
    fd = 9  # sh redirections take single-digit fds; 9 is free in this test process
    os.dup2(lsock.fileno(), fd)
    script = f'exec 3<&{fd}; exec {fd}<&-; LISTEN_FDS=1 LISTEN_PID=$$ exec "$@"'
    log = open(daemon.log_path + ".sd", "w")
    p = subprocess.Popen(["sh", "-c", script, "sh", *args], pass_fds=(fd,), stdout=log, stderr=subprocess.STDOUT)
    lsock.close()  # the daemon holds it now
    os.close(fd)
    try:
        r = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = curl(f"http://127.0.0.1:{PORT + 2}/metrics", timeout=2)
            if r.status == 200 and SUBMISSION_LINE in r.text:
                break
            time.sleep(0.2)
        check(r is not None and r.status == 200 and SUBMISSION_LINE in r.text,
              f"--web.systemd-socket serves on the inherited socket ({r})")
    finally:
        p.terminate()
        p.wait(timeout=10)
        log.close()


main(run)

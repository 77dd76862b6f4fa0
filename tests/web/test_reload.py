"""web-reload: SIGHUP re-reads the web config without dropping the listener.

Asserts: after replacing alice's password in the file and sending SIGHUP,
the new password gets 200 and the old one 401, the daemon keeps its PID and
no connection attempt during the reload is refused; a config with an
unknown key, one naming a missing certificate and a syntactically broken one
are each rejected on SIGHUP with an error in the log that names the file
and the key, while the previous config (new password, same certificate)
keeps working; a new certificate from a second CA is served after SIGHUP
(certificates are re-opened), and clients trusting only the old CA then
fail verification.
"""
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import (Daemon, Pki, bcrypt, check, curl, main, make_ca, make_cert, require_tools,  # noqa: E402
                     soft_check, web_config, workdir, write)

PORT = 19850


def wait_status(url, args, want, timeout=5):
    deadline = time.monotonic() + timeout
    r = None
    while time.monotonic() < deadline:
        r = curl(url, *args)
        if r.status == want:
            return r
        time.sleep(0.1)
    return r


def hammer(stop, refused):
    """Connect in a tight loop while the config is swapped; count refusals."""
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", PORT), timeout=1):
                pass
        except ConnectionRefusedError:
            refused.append(time.monotonic())
        except OSError:
            pass
        time.sleep(0.002)


def sighup_and_wait_log(daemon, needle, timeout=5):
    before = len(daemon.log())
    daemon.signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tail = daemon.log()[before:]
        if needle in tail:
            return tail
        time.sleep(0.05)
    return daemon.log()[before:]


def run():
    require_tools("curl", "openssl")
    d = workdir("reload")
    pki = Pki(d)
    cfg = os.path.join(d, "web.yml")
    write(cfg, web_config(pki, {"alice": bcrypt("old-password")}))
    daemon = Daemon(PORT, cfg, name="reload")
    url = f"https://localhost:{PORT}/metrics"
    tls = ["--cacert", pki.ca]
    daemon.wait_ingested(tls + ["-u", "alice:old-password"], scheme="https")
    pid = daemon.pid

    r = curl(url, *tls, "-u", "alice:old-password")
    check(r.status == 200, "before reload: old password 200")

    stop, refused = threading.Event(), []
    t = threading.Thread(target=hammer, args=(stop, refused))
    t.start()
    try:
        write(cfg, web_config(pki, {"alice": bcrypt("new-password")}))
        daemon.signal(signal.SIGHUP)
        r = wait_status(url, tls + ["-u", "alice:new-password"], 200)
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
    check(r.status == 200, f"after SIGHUP: new password 200 ({r})")
    r = curl(url, *tls, "-u", "alice:old-password")
    check(r.status == 401, f"after SIGHUP: old password refused with 401 (got {r.status})")
    check(daemon.alive() and daemon.pid == pid, "same process after SIGHUP")
    check(not refused, f"no connection refused while reloading ({len(refused)} refused)")

    broken = (
        ("unknown key", web_config(pki, {"alice": bcrypt("third-password")}) + "basic_auth_user:\n  x: y\n",
         "basic_auth_user"),
        ("missing certificate", web_config(pki, {"alice": bcrypt("third-password")}).replace("server.pem", "gone.pem"),
         "gone.pem"),
        ("YAML syntax error", "tls_server_config:\n  cert_file: server.pem\n key_file: [\n", "YAML"),
    )
    for what, text, needle in broken:
        write(cfg, text)
        tail = sighup_and_wait_log(daemon, needle)
        soft_check(needle in tail and cfg in tail, f"{what}: SIGHUP logs an error naming the file and {needle!r}")
        print("# log: " + " | ".join(tail.strip().splitlines()[-3:]))
        r = curl(url, *tls, "-u", "alice:new-password")
        check(r.status == 200, f"{what}: previous config kept, new password still 200 ({r})")
        r = curl(url, *tls, "-u", "alice:third-password")
        check(r.status == 401, f"{what}: password of the rejected file is not accepted (got {r.status})")
        check(daemon.alive() and daemon.pid == pid, f"{what}: daemon still running")

    # Certificate rotation: a new CA and server cert, same file names.
    ca2 = make_ca(d, "ca2")
    make_cert(d, "server2", "ca2", "serverAuth")
    os.replace(os.path.join(d, "server2.pem"), os.path.join(d, "server.pem"))
    os.replace(os.path.join(d, "server2.key"), os.path.join(d, "server.key"))
    write(cfg, web_config(pki, {"alice": bcrypt("new-password")}))
    daemon.signal(signal.SIGHUP)
    r = wait_status(url, ["--cacert", ca2, "-u", "alice:new-password"], 200)
    check(r.status == 200, f"after SIGHUP the new certificate is served (verifies with the new CA) ({r})")
    r = curl(url, *tls, "-u", "alice:new-password")
    check(r.rc == 60, f"clients that trust only the old CA now fail verification (curl rc {r.rc})")
    check(daemon.alive() and daemon.pid == pid, "same process after certificate rotation")


main(run)

"""web-slowloris / web-slowloris-distributed: half-open connections must not stop a scrape.

The daemon serves HTTPS on 127.0.0.1. Attack connections are opened from
other loopback source addresses (127.0.0.2, ...; all traffic stays on
127.0.0.0/8 and goes to 127.0.0.1) in three kinds:
  idle    - TCP connected, nothing sent;
  hello   - the first bytes of a TLS record, then nothing (half-open handshake);
  trickle - TLS done, 'GET /metrics HTTP/1.1' and then one header byte per
            second, never finishing the request (classic slowloris).
Meanwhile a normal scrape from 127.0.0.1 runs every second.

single (default): 150 connections from one address with default limits.
  Asserts every scrape during the 15 s attack succeeds within 2 s.
distributed: 8 connections from each of 20 addresses (160, above the
  default 64-connection limit), --web.connection-timeout=3s.
  Asserts a scrape succeeds within 2 x timeout + 2 s after the attack
  started, and every scrape after that succeeds.
trickle: as distributed, but every connection trickles: an idle timeout
  never fires, so only a deadline for the whole request head (or a
  per-connection budget) can free the slots.
"""
import os
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Daemon, Pki, check, curl, main, require_tools, web_config, workdir, write  # noqa: E402

PORT = 19870


class Attacker:
    def __init__(self, ca, src, kind):
        self.kind = kind
        self.sock = None
        self.next_byte = 0
        self.payload = b"X-a: " + b"b" * 10000
        raw = socket.socket()
        raw.settimeout(2)
        try:
            raw.bind((src, 0))
            raw.connect(("127.0.0.1", PORT))
            if kind == "hello":
                raw.sendall(b"\x16\x03\x01")
            elif kind == "trickle":
                ctx = ssl.create_default_context(cafile=ca)
                raw = ctx.wrap_socket(raw, server_hostname="localhost")
                raw.sendall(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n")
            self.sock = raw
        except (OSError, ssl.SSLError):
            raw.close()

    def tick(self):
        """Keep a trickle connection busy: one byte, so an idle timeout never fires."""
        if self.sock is None or self.kind != "trickle":
            return
        try:
            self.sock.send(self.payload[self.next_byte:self.next_byte + 1])
            self.next_byte += 1
        except (OSError, ssl.SSLError):
            self.close()

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def scrape(url, ca, timeout):
    r = curl(url, "--cacert", ca, timeout=timeout)
    return r.status == 200 and "postfix_tls_exporter_lines_read_total 2267" in r.text, r


def run():
    global PORT
    require_tools("curl", "openssl")
    distributed = "distributed" in sys.argv[1:] or "trickle" in sys.argv[1:]
    d = workdir("slowloris")
    pki = Pki(d)
    cfg = write(os.path.join(d, "web.yml"), web_config(pki))
    port_args = ["--web.connection-timeout=3s"] if distributed else []
    daemon = Daemon(PORT + (2 if "trickle" in sys.argv[1:] else 1 if distributed else 0), cfg, args=port_args,
                    name="slowloris")
    PORT = daemon.port
    daemon.wait_ingested(["--cacert", pki.ca], scheme="https")
    url = f"https://localhost:{PORT}/metrics"

    if distributed:
        sources = [f"127.0.0.{i}" for i in range(2, 22)]
        per_source = 8
    else:
        sources = ["127.0.0.2"]
        per_source = 150
    kinds = ("trickle",) if "trickle" in sys.argv[1:] else ("idle", "hello", "trickle")
    attackers = []
    stop = threading.Event()

    def attack(src, kind):
        a = Attacker(pki.ca, src, kind)
        attackers.append(a)
        while not stop.wait(1):
            a.tick()
        a.close()

    # Attackers connect in parallel while the scrapes already run.
    t0 = time.monotonic()
    threads = [threading.Thread(target=attack, args=(src, kinds[i % len(kinds)]))
               for src in sources for i in range(per_source)]
    for t in threads:
        t.start()

    results = []
    first_ok = None
    try:
        end = time.monotonic() + 15
        while time.monotonic() < end:
            s0 = time.monotonic()
            ok, r = scrape(url, pki.ca, timeout=2 if not distributed else 3)
            results.append((round(s0 - t0, 1), ok, round(time.monotonic() - s0, 2), r.status, r.rc))
            if ok and first_ok is None:
                first_ok = s0 - t0
            time.sleep(max(0.0, 1 - (time.monotonic() - s0)))
        still = sum(a.sock is not None for a in attackers)
        print(f"# {still} of {len(threads)} attack connections still open at the end; "
              f"scrapes (t, ok, seconds, status, curl rc): {results}")
    finally:
        stop.set()
        for t in threads:
            t.join()

    if distributed:
        limit = 2 * 3 + 2
        check(first_ok is not None and first_ok <= limit,
              f"a scrape succeeds within {limit}s of the distributed attack (first at {first_ok})")
        after = [ok for t, ok, *_ in results if first_ok is not None and t >= first_ok]
        check(all(after), f"every scrape after that succeeds ({after.count(False)} failed)")
    else:
        check(all(ok for _, ok, *_ in results), f"every scrape during the single-source attack succeeds "
              f"({sum(not ok for _, ok, *_ in results)} of {len(results)} failed)")
        check(max(s for _, _, s, *_ in results) < 2, "each within 2 s")
    check(daemon.alive(), "daemon survived")
    ok, r = scrape(url, pki.ca, timeout=5)
    check(ok, f"scrape succeeds after the attack ends ({r})")


main(run)

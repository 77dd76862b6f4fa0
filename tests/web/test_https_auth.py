"""web-https-auth: HTTPS with a CA made at test time, and basic auth.

Asserts: a verified HTTPS scrape with the right password returns 200, the
exact Content-Type and the corpus values; the configured extra headers are
sent; a client that does not trust the CA fails verification; wrong
password, unknown user and no credentials get 401 with
'WWW-Authenticate: Basic' and no metrics; plain HTTP on the TLS port gets no
metrics; passwords containing ':' work; an unknown user costs about as much
as a wrong password (no user enumeration by timing); repeated scrapes are
served from the verification cache, far faster than one bcrypt.
"""
import base64
import concurrent.futures
import os
import ssl
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import (TEXT_CT, Daemon, Pki, bcrypt, check, check_expected_values, curl, main,  # noqa: E402
                     median, require_tools, web_config, workdir, write)

PORT = 19800


def run():
    require_tools("curl", "openssl")
    d = workdir("https-auth")
    pki = Pki(d)
    # Cost 10 as htpasswd -B uses by default: one bcrypt takes tens of ms, which the cache must avoid.
    users = {"alice": bcrypt("wonderland", cost=10), "bob": bcrypt("pa:ss:word", cost=10)}
    cfg = write(os.path.join(d, "web.yml"), web_config(
        pki, users, headers={"X-Frame-Options": "deny", "X-Content-Type-Options": "nosniff"}))
    daemon = Daemon(PORT, cfg, name="https-auth")
    url = f"https://localhost:{PORT}/metrics"
    tls = ["--cacert", pki.ca]
    daemon.wait_ingested(tls + ["-u", "alice:wonderland"], scheme="https")

    r = curl(url, *tls, "-u", "alice:wonderland")
    check(r.rc == 0 and r.status == 200, f"HTTPS scrape with the right password: 200 ({r})")
    check(r.header("content-type") == TEXT_CT, f"Content-Type is '{TEXT_CT}' (got {r.header('content-type')!r})")
    check_expected_values(r.text, "HTTPS scrape")
    check(r.header("x-frame-options") == "deny", "http_server_config header X-Frame-Options: deny is sent")
    check(r.header("x-content-type-options") == "nosniff", "header X-Content-Type-Options: nosniff is sent")

    r = curl(url, *tls, "-u", "bob:pa:ss:word")
    check(r.status == 200, f"a password containing ':' is accepted ({r})")

    r = curl(url, "-u", "alice:wonderland")
    check(r.rc == 60 and r.status == 0, f"a client without the test CA fails certificate verification (curl rc {r.rc})")

    for what, args in (("wrong password", ["-u", "alice:Wonderland"]),
                       ("unknown user", ["-u", "mallory:wonderland"]),
                       ("empty password", ["-u", "alice:"]),
                       ("no credentials", [])):
        r = curl(url, *tls, *args)
        check(r.status == 401, f"{what}: 401 (got {r.status}, {r})")
        check((r.header("www-authenticate") or "").startswith("Basic"),
              f"{what}: WWW-Authenticate: Basic (got {r.header('www-authenticate')!r})")
        check("postfix_tls_" not in r.text, f"{what}: no metrics in the body")

    r = curl(f"http://127.0.0.1:{PORT}/metrics", "-u", "alice:wonderland")
    check(r.status != 200 and "postfix_tls_" not in r.text,
          f"plain HTTP on the TLS port gets no metrics (status {r.status}, rc {r.rc})")

    # Timing: unknown users pay for a dummy bcrypt of the same cost.
    # Interleaved, so that load from elsewhere on the machine hits both series alike.
    # Paced below the daemon's bcrypt ration (4 per second after a burst of 10).
    wrong, unknown = [], []
    for _ in range(7):
        wrong.append(curl(url, *tls, "-u", "alice:nope").time_total)
        unknown.append(curl(url, *tls, "-u", "nobody:nope").time_total)
        time.sleep(0.5)
    print(f"# median wrong password {median(wrong) * 1e3:.1f} ms, unknown user {median(unknown) * 1e3:.1f} ms")
    check(median(unknown) > median(wrong) / 3 and median(unknown) < median(wrong) * 3,
          "unknown user and wrong password take about as long (within 3x)")

    # Cache: the right password was verified above; further scrapes skip bcrypt.
    cached, wrong = [], []
    for _ in range(7):
        cached.append(curl(url, *tls, "-u", "alice:wonderland").time_total)
        wrong.append(curl(url, *tls, "-u", "alice:nope").time_total)
        time.sleep(0.3)
    print(f"# median cached scrape {median(cached) * 1e3:.1f} ms, wrong password {median(wrong) * 1e3:.1f} ms")
    check(median(cached) < median(wrong) / 2, "cached verification is much faster than a bcrypt")

    # A password guesser gets a ration of bcrypt CPU time (per address: a
    # 2-second burst of 100 ms/s), not the daemon's thread: a burst of wrong
    # passwords ends in 429, while the cached login still works. The guesses
    # come from Python's own HTTPS client, eight at a time: a curl process per
    # guess started so slowly on a loaded machine that the ration's refill
    # kept up with it and no 429 came.
    ctx = ssl.create_default_context(cafile=pki.ca)

    def guess(i):
        auth = base64.b64encode(f"alice:guess{i}".encode()).decode()
        req = urllib.request.Request(url, headers={"Authorization": "Basic " + auth})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
        except OSError:
            return 0

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        burst = list(pool.map(guess, range(40)))
    elapsed = time.monotonic() - t0
    # At most the burst plus the refill, at 20 ms a check (bcrypt cost 10 takes longer on any CPU)
    allowed = (0.2 + 0.1 * elapsed) / 0.02 + 1
    check(burst.count(429) >= 1 and burst.count(401) <= allowed,
          f"a burst of 40 wrong passwords gets at most {allowed:.1f} bcrypt checks in {elapsed:.2f} s, "
          f"the rest 429 (statuses {burst})")
    check(set(burst) <= {401, 429}, f"guesses get only 401 or 429 (statuses {burst})")
    r = curl(url, *tls, "-u", "alice:wonderland")
    check(r.status == 200, f"during the throttling, the cached login still gets 200 (got {r.status})")

    check(daemon.alive(), "daemon still running")


main(run)

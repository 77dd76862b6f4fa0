"""web-tls-versions: min_version/max_version/cipher_suites reach GnuTLS.

Asserts, with curl (OpenSSL) as the client:
  max_version TLS12: a TLS 1.3-only client (--tlsv1.3) fails the handshake,
    a default client negotiates TLSv1.2;
  min_version TLS13: a client limited to TLS 1.2 (--tls-max 1.2) fails,
    a default client negotiates TLSv1.3;
  cipher_suites [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256] with max TLS12:
    a TLS 1.2 client offering only ECDHE-ECDSA-AES256-GCM-SHA384 fails, one
    offering ECDHE-ECDSA-AES128-GCM-SHA256 succeeds and uses it;
  curve_preferences [CurveP384]: a client offering only X25519 fails, one
    offering P-384 succeeds.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import Daemon, Pki, check, curl, main, require_tools, web_config, workdir, write  # noqa: E402

PORT = 19820


def negotiated(r):
    m = re.search(r"SSL connection using (\S+) / (\S+)", r.stderr)
    return (m.group(1), m.group(2)) if m else (None, None)


def serve(d, pki, port, tls, name):
    cfg = write(os.path.join(d, f"{name}.yml"), web_config(pki, extra_tls=tls))
    daemon = Daemon(port, cfg, name=f"tls-{name}")
    daemon.wait_listening()
    return daemon, f"https://localhost:{port}/metrics"


def run():
    require_tools("curl", "openssl")
    d = workdir("tls-versions")
    pki = Pki(d)
    ca = ["--cacert", pki.ca, "-v"]

    daemon, url = serve(d, pki, PORT, "max_version: TLS12\n", "tls12")
    r = curl(url, *ca, "--tlsv1.3")
    check(r.rc == 35 and r.status == 0, f"TLS12-only server vs TLS 1.3-only client: handshake fails (curl rc {r.rc})")
    r = curl(url, *ca)
    check(r.status == 200 and negotiated(r)[0] == "TLSv1.2",
          f"TLS12-only server vs default client: 200 over TLSv1.2 ({negotiated(r)}, {r})")
    daemon.stop()

    daemon, url = serve(d, pki, PORT + 1, "min_version: TLS13\n", "tls13")
    r = curl(url, *ca, "--tls-max", "1.2")
    check(r.rc == 35 and r.status == 0, f"TLS13-only server vs TLS 1.2 client: handshake fails (curl rc {r.rc})")
    r = curl(url, *ca)
    check(r.status == 200 and negotiated(r)[0] == "TLSv1.3",
          f"TLS13-only server vs default client: 200 over TLSv1.3 ({negotiated(r)})")
    daemon.stop()

    daemon, url = serve(d, pki, PORT + 2,
                        "max_version: TLS12\ncipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]\n", "cipher")
    r = curl(url, *ca, "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384")
    check(r.rc == 35, f"cipher_suites: a client without the listed suite fails (curl rc {r.rc})")
    r = curl(url, *ca, "--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384")
    check(r.status == 200 and negotiated(r) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
          f"cipher_suites: the listed suite is negotiated ({negotiated(r)})")
    daemon.stop()

    daemon, url = serve(d, pki, PORT + 3, "curve_preferences: [CurveP384]\n", "curves")
    r = curl(url, *ca, "--curves", "X25519")
    check(r.rc == 35, f"curve_preferences [CurveP384]: an X25519-only client fails (curl rc {r.rc})")
    r = curl(url, *ca, "--curves", "X25519:P-384")
    check(r.status == 200, f"curve_preferences [CurveP384]: a client offering P-384 succeeds ({r})")
    daemon.stop()


main(run)

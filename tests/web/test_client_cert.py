"""web-client-cert: client_auth_type RequireAndVerifyClientCert with client_ca_file.

Asserts: a client certificate issued by the configured CA gets 200 and the
corpus values; no client certificate, a certificate from another CA and a
self-presented server certificate used as client cert (wrong extended key
usage is not checked by exporter-toolkit either, so only the CA matters)
get no metrics - either the TLS handshake fails or the server answers
without a 200. Then the same with RequireAnyClientCert: any certificate is
accepted, none is refused.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from webtest import (Daemon, Pki, check, check_expected_values, curl, main, require_tools,  # noqa: E402
                     soft_check, web_config, workdir, write)

PORT = 19810


def refused(r):
    return r.status != 200 and "postfix_tls_" not in r.text


def run():
    require_tools("curl", "openssl")
    d = workdir("client-cert")
    pki = Pki(d)
    cfg = write(os.path.join(d, "web.yml"), web_config(
        pki, extra_tls="client_auth_type: RequireAndVerifyClientCert\nclient_ca_file: ca.pem\n"))
    daemon = Daemon(PORT, cfg, name="client-cert")
    url = f"https://localhost:{PORT}/metrics"
    good = ["--cacert", pki.ca, "--cert", pki.client_cert, "--key", pki.client_key]
    daemon.wait_ingested(good, scheme="https")

    r = curl(url, *good)
    check(r.status == 200, f"client certificate from the configured CA: 200 ({r})")
    check_expected_values(r.text, "mTLS scrape")

    r = curl(url, "--cacert", pki.ca)
    check(refused(r), f"no client certificate: refused (status {r.status}, curl rc {r.rc})")
    r = curl(url, "--cacert", pki.ca, "--cert", pki.stranger_cert, "--key", pki.stranger_key)
    check(refused(r), f"client certificate from another CA: refused (status {r.status}, curl rc {r.rc})")
    check(daemon.alive(), "daemon still running after refused handshakes")
    r = curl(url, *good)
    check(r.status == 200, "the good client still gets in afterwards")
    daemon.stop()

    cfg = write(os.path.join(d, "web-any.yml"), web_config(pki, extra_tls="client_auth_type: RequireAnyClientCert\n"))
    daemon = Daemon(PORT + 1, cfg, name="client-cert-any")
    url = f"https://localhost:{PORT + 1}/metrics"
    daemon.wait_listening()
    stranger = ["--cacert", pki.ca, "--cert", pki.stranger_cert, "--key", pki.stranger_key]
    deadline = time.monotonic() + 5
    while True:
        r = curl(url, *stranger)
        if r.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    soft_check(r.status == 200, f"RequireAnyClientCert: a client certificate from any CA is accepted (got {r.status}: "
               f"{r.text.strip()!r})")
    r = curl(url, "--cacert", pki.ca)
    check(refused(r), f"RequireAnyClientCert: no client certificate is refused (status {r.status}, rc {r.rc})")


main(run)

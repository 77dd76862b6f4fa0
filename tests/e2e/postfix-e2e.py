#!/usr/bin/env python3
"""postfix-e2e.py - end-to-end test against a real Postfix.

Sets up two throwaway Postfix instances on loopback:
  main  /etc/postfix-pte-e2e       ports 3525-3528 (smtpd variants)
  sink  /etc/postfix-pte-e2e-sink  ports 3625-3627 (outbound targets)
both logging through postlogd (maillog_file) into a temporary directory,
starts the built daemon following both log files, drives a scripted mix of
SMTP clients (swaks, openssl s_client, raw sockets), and asserts the exact
metrics the scrape must show. Expected values are computed from what the
clients did and saw, never from the log. Then checks the readiness report
(when the daemon serves /report), SIGHUP and SIGTERM handling, --once on the
same logs, and --once under MemoryDenyWriteExecute semantics (PCRE2 JIT
unavailable, interpreter fallback).

Never touches /etc/postfix or the system Postfix service; ports 3725-3729
(another test's instance) are left alone. Needs root (Postfix); exits 77
(skip) otherwise. Installs postfix, swaks and openssl with apt-get if they
are missing.

Environment: PTE_BINARY (the daemon), PTE_BUILD_ROOT (artifacts are left in
<build>/tests/e2e/artifacts for the package test). PTE_E2E_KEEP=1 keeps the
temporary directory.
"""
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pfinstance  # noqa: E402
import promtext  # noqa: E402
from smtpclients import Raw, expect_code, s_client, swaks  # noqa: E402

MAIN_PORTS = range(3525, 3530)
SINK_PORTS = range(3625, 3630)
WEB_PORTS = range(19600, 19700)

FAMILIES_EXACT = [
    "postfix_tls_inbound_connections_total",
    "postfix_tls_inbound_sessions_total",
    "postfix_tls_inbound_handshakes_total",
    "postfix_tls_inbound_tls_failures_total",
    "postfix_tls_outbound_handshakes_total",
    "postfix_tls_outbound_deliveries_total",
    "postfix_tls_outbound_tls_failures_total",
]

failures = []


passed = [0]


def log(msg):
    print(msg, flush=True)


def check(cond, msg):
    if cond:
        passed[0] += 1
        log("ok   " + msg)
    else:
        log("FAIL " + msg)
        failures.append(msg)


# --------------------------------------------------------------------------
# environment

def ensure_packages():
    missing = [p for p, path in (("postfix", "/usr/sbin/postfix"), ("swaks", "/usr/bin/swaks"),
                                 ("openssl", "/usr/bin/openssl")) if not os.path.exists(path)]
    if not missing:
        return
    log("installing " + " ".join(missing))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # "No configuration": the package then neither writes a main.cf for the
    # system instance nor starts a mail system on *:25. We never start the
    # system instance ourselves either way.
    subprocess.run(["debconf-set-selections"], input="postfix postfix/main_mailer_type select No configuration\n",
                   text=True, check=False)
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + missing,
                   env=env, check=True, stdout=subprocess.DEVNULL)


def port_busy(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True


def free_web_port():
    for p in WEB_PORTS:
        if not port_busy(p):
            return p
    raise RuntimeError("no free port in 19600-19699")


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers, r.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------
# certificates

def make_certs(d):
    run = pfinstance.run
    c = {}
    # lab CA, a CA-signed server cert for the sink, and two client certs
    c["ca_key"], c["ca"] = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", c["ca_key"],
         "-out", c["ca"], "-days", "30", "-subj", "/O=pte e2e/CN=pte e2e test CA"])

    def casigned(name, cn):
        key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".pem"))
        ext = os.path.join(d, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s\n" % cn)
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
             "-subj", "/O=pte e2e/CN=" + cn])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", c["ca"], "-CAkey", c["ca_key"],
             "-CAcreateserial", "-out", crt, "-days", "30", "-extfile", ext])
        return key, crt

    c["mx_key"], c["mx"] = pfinstance.make_selfsigned(d, "mx", "mx-e2e.example.test")
    c["sink_ss_key"], c["sink_ss"] = pfinstance.make_selfsigned(d, "sink-ss", "sink-selfsigned.example.test")
    c["sink_ca_key"], c["sink_ca"] = casigned("sink-ca", "sink-ca.example.test")
    c["client_ca_key"], c["client_ca"] = casigned("client-ca", "client1.example.org")
    c["client_ss_key"], c["client_ss"] = pfinstance.make_selfsigned(d, "client-ss", "client2.example.net")
    return c


# --------------------------------------------------------------------------
# the two instances

def make_instances(tmp, certs):
    main_log = os.path.join(tmp, "maillog.log")
    sink_log = os.path.join(tmp, "sink-maillog.log")
    cfg = "/etc/postfix-pte-e2e"
    transport = "\n".join([
        "local.example.test              discard:inbound-accepted",
        "out-untrusted.example.test      smtp:[127.0.0.1]:3625",
        "out-plain.example.test          smtp:[127.0.0.1]:3626",
        "out-trusted.example.test        smtp:[127.0.0.1]:3627",
        "out-verified.example.test       smtp_secure:[127.0.0.1]:3627",
        "out-tlsrequired.example.test    smtp_encrypt:[127.0.0.1]:3626",
    ]) + "\n"
    relay_domains = ", ".join(l.split()[0] for l in transport.splitlines())
    main = pfinstance.Instance("postfix-pte-e2e", main_log, {
        "myhostname": "mx-e2e.example.test",
        "relay_domains": relay_domains,
        "transport_maps": "texthash:%s/transport" % cfg,
        "smtpd_tls_security_level": "may",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_chain_files": "%s, %s" % (certs["mx_key"], certs["mx"]),
        "smtpd_tls_CAfile": certs["ca"],
        "smtpd_tls_session_cache_database": "",
        "smtp_tls_security_level": "may",
        "smtp_tls_loglevel": "1",
        "smtp_tls_CAfile": certs["ca"],
        "smtp_tls_session_cache_database": "",
        "smtp_connection_cache_on_demand": "no",
        "default_transport": "error:5.7.1 no default transport in the e2e lab",
        "relay_transport": "error:5.7.1 no relay transport in the e2e lab",
    }, [
        # MX stand-in: TLS may, Debian defaults
        "127.0.0.1:3525 inet n - n - - smtpd",
        # hardened: TLS >= 1.2, HIGH ciphers without kRSA and SHA1
        "127.0.0.1:3526 inet n - n - - smtpd -o syslog_name=postfix/hardened"
        " -o smtpd_tls_protocols=>=TLSv1.2 -o smtpd_tls_mandatory_protocols=>=TLSv1.2"
        " -o smtpd_tls_ciphers=high -o smtpd_tls_exclude_ciphers=kRSA,SHA1",
        # implicit TLS
        "127.0.0.1:3527 inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes",
        # asks for client certificates (trusted = signed by the lab CA)
        "127.0.0.1:3528 inet n - n - - smtpd -o syslog_name=postfix/ccert -o smtpd_tls_ask_ccert=yes",
        "smtp_encrypt unix - - n - - smtp -o smtp_tls_security_level=encrypt",
        "smtp_secure unix - - n - - smtp -o smtp_tls_security_level=secure"
        " -o smtp_tls_secure_cert_match=sink-ca.example.test",
    ], {"transport": transport})
    sink = pfinstance.Instance("postfix-pte-e2e-sink", sink_log, {
        "myhostname": "mx-sink.example.test",
        "syslog_name": "postfix-sink",
        "relay_domains": "example.test, .example.test",
        "relay_transport": "discard:sink-relay",
        "default_transport": "discard:sink-default",
        "smtpd_tls_security_level": "may",
        "smtpd_tls_loglevel": "1",
        "smtpd_tls_session_cache_database": "",
    }, [
        "127.0.0.1:3625 inet n - n - - smtpd -o smtpd_tls_chain_files=%s,%s"
        % (certs["sink_ss_key"], certs["sink_ss"]),
        "127.0.0.1:3626 inet n - n - - smtpd -o smtpd_tls_security_level=none",
        "127.0.0.1:3627 inet n - n - - smtpd -o smtpd_tls_chain_files=%s,%s"
        % (certs["sink_ca_key"], certs["sink_ca"]),
    ])
    return main, sink


# --------------------------------------------------------------------------
# expectations

class Expect:
    def __init__(self):
        self.fam = {f: {} for f in FAMILIES_EXACT}

    def add(self, family, n=1, **labels):
        key = tuple(sorted(labels.items()))
        self.fam[family][key] = self.fam[family].get(key, 0) + n

    def inbound(self, syslog_name, encryption, mail, handshake=None, failure=None):
        """One inbound session as the client saw it. handshake: (trust,
        protocol, cipher, key_exchange)."""
        self.add("postfix_tls_inbound_connections_total", syslog_name=syslog_name)
        self.add("postfix_tls_inbound_sessions_total", syslog_name=syslog_name,
                 encryption=encryption, mail="true" if mail else "false")
        if handshake:
            t, p, c, k = handshake
            self.add("postfix_tls_inbound_handshakes_total", syslog_name=syslog_name,
                     trust=t, protocol=p, cipher=c, key_exchange=k)
        if failure:
            self.add("postfix_tls_inbound_tls_failures_total", syslog_name=syslog_name, reason=failure)

    def total(self, family):
        return sum(self.fam[family].values())


def tls13_kex(groups):
    """Postfix logs the TLS 1.3 group; OpenSSL's default first choice is X25519."""
    return {None: "x25519", "P-384": "secp384r1", "X448": "x448"}[groups]


def run_scenarios(tmp, certs, exp):
    """Drive the clients; every expectation is recorded from the client's view."""
    main = "postfix"

    def mail_plain(to, helo, port=3525, name=main):
        r = swaks(port, helo, to, tmpdir=tmp)
        assert r["tls_protocol"] is None
        exp.inbound(name, "plaintext", True)

    def mail_tls(port, name, helo, trust="anonymous", protocol=None, cipher=None, suites=None,
                 groups=None, implicit=False, cert=None, key=None, quit_after=None):
        r = swaks(port, helo, "postmaster@local.example.test", tls="implicit" if implicit else "starttls",
                  protocol=protocol, cipher=cipher, suites=suites, groups=groups, cert=cert, key=key,
                  quit_after=quit_after, tmpdir=tmp)
        proto, ciph = r["tls_protocol"], r["tls_cipher"]
        if protocol == "tlsv1_2":
            assert proto == "TLSv1.2", r["output"]
        if cipher or suites:
            assert ciph == (cipher or suites), (ciph, r["output"])
        kex = tls13_kex(groups) if proto == "TLSv1.3" else "unknown"
        exp.inbound(name, "tls", r["queued"], handshake=(trust, proto, ciph, kex))
        log("  %-28s %s %s" % (helo, proto, ciph))

    # ---- plaintext mail (2) ------------------------------------------------
    for i in range(2):
        mail_plain("user%d@local.example.test" % i, "plain%d.example.org" % i)

    # ---- STARTTLS, TLS 1.3 with chosen suites and groups --------------------
    mail_tls(3525, main, "t13-aes256a.example.org", suites="TLS_AES_256_GCM_SHA384")
    mail_tls(3525, main, "t13-aes256b.example.org", suites="TLS_AES_256_GCM_SHA384")
    mail_tls(3525, main, "t13-chacha.example.org", suites="TLS_CHACHA20_POLY1305_SHA256")
    mail_tls(3525, main, "t13-aes128-p384.example.org", suites="TLS_AES_128_GCM_SHA256", groups="P-384")
    mail_tls(3525, main, "t13-x448.example.org", suites="TLS_AES_256_GCM_SHA384", groups="X448")

    # ---- STARTTLS, TLS 1.2 with chosen ciphers -------------------------------
    mail_tls(3525, main, "t12-aes128a.example.org", protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
    mail_tls(3525, main, "t12-aes128b.example.org", protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
    mail_tls(3525, main, "t12-chacha.example.org", protocol="tlsv1_2", cipher="ECDHE-RSA-CHACHA20-POLY1305")

    # ---- TLS sessions without mail -------------------------------------------
    mail_tls(3525, main, "t13-nomail.example.org", quit_after="TLS")
    r = s_client(3525, ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"], name="t12-nomail.example.net")
    assert r["tls_protocol"] == "TLSv1.2" and r["tls_cipher"] == "ECDHE-RSA-AES256-GCM-SHA384", r["output"]
    exp.inbound(main, "tls", False, handshake=("anonymous", "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "unknown"))

    # ---- plaintext sessions without mail ---------------------------------------
    for i in range(2):
        c = Raw(3525)
        expect_code(c.reply(), "220")
        expect_code(c.cmd("EHLO plain-nomail%d.example.org" % i), "250")
        expect_code(c.cmd("QUIT"), "221")
        c.close()
        exp.inbound(main, "plaintext", False)
    c = Raw(3525)               # connect, read the banner, drop
    expect_code(c.reply(), "220")
    c.close()
    exp.inbound(main, "plaintext", False)

    # ---- failed STARTTLS handshakes --------------------------------------------
    # no shared cipher: the client offers only a NULL cipher
    r = s_client(3525, ["-tls1_2", "-cipher", "NULL-SHA256:@SECLEVEL=0"], name="nullcipher.example.net")
    assert r["tls_protocol"] is None, r["output"]
    exp.inbound(main, "starttls_failed", False, failure="no_shared_cipher")
    # garbage instead of a ClientHello: OpenSSL "wrong version number"
    c = Raw(3525)
    expect_code(c.reply(), "220")
    expect_code(c.cmd("EHLO scanner.example.net"), "250")
    expect_code(c.cmd("STARTTLS"), "220")
    c.send(b"this is not a TLS client hello\r\n")
    c.wait_close()
    c.close()
    exp.inbound(main, "starttls_failed", False, failure="wrong_version_number")
    # an HTTP request instead of a ClientHello: OpenSSL "http request"
    c = Raw(3525)
    expect_code(c.reply(), "220")
    expect_code(c.cmd("EHLO probe.example.net"), "250")
    expect_code(c.cmd("STARTTLS"), "220")
    c.send(b"GET / HTTP/1.1\r\nHost: mx\r\n\r\n")
    c.wait_close()
    c.close()
    exp.inbound(main, "starttls_failed", False, failure="http_request")
    # STARTTLS, then the client closes: "SSL_accept error ...: lost connection"
    c = Raw(3525)
    expect_code(c.reply(), "220")
    expect_code(c.cmd("EHLO dropper.example.net"), "250")
    expect_code(c.cmd("STARTTLS"), "220")
    c.close()
    exp.inbound(main, "starttls_failed", False, failure="lost_connection")

    # ---- hardened listener (syslog_name postfix/hardened) -----------------------
    hard = "postfix/hardened"
    r = s_client(3526, ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], name="legacy-mta.example.net")
    assert r["tls_protocol"] is None, r["output"]
    exp.inbound(hard, "starttls_failed", False, failure="unsupported_protocol")
    r = s_client(3526, ["-tls1_2", "-cipher", "AES256-SHA:AES128-SHA"], name="old-appliance.example.net")
    assert r["tls_protocol"] is None, r["output"]
    exp.inbound(hard, "starttls_failed", False, failure="no_shared_cipher")
    r = s_client(3526, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], name="modern-mta.example.net")
    assert r["tls_protocol"] == "TLSv1.2", r["output"]
    exp.inbound(hard, "tls", False, handshake=("anonymous", "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "unknown"))
    mail_tls(3526, hard, "t13-hardened.example.org", suites="TLS_AES_256_GCM_SHA384")

    # ---- implicit TLS (syslog_name postfix/smtps) -------------------------------
    smtps = "postfix/smtps"
    mail_tls(3527, smtps, "smtps.example.org", implicit=True, suites="TLS_AES_256_GCM_SHA384")
    c = Raw(3527)               # a plaintext client on the TLS port
    c.send(b"EHLO confused.example.net\r\n")
    c.wait_close()
    c.close()
    exp.inbound(smtps, "starttls_failed", False, failure="wrong_version_number")

    # ---- client certificates (syslog_name postfix/ccert) ------------------------
    cc = "postfix/ccert"
    mail_tls(3528, cc, "ccert-trusted.example.org", trust="trusted", suites="TLS_AES_256_GCM_SHA384",
             cert=certs["client_ca"], key=certs["client_ca_key"])
    mail_tls(3528, cc, "ccert-untrusted.example.net", trust="untrusted", suites="TLS_AES_256_GCM_SHA384",
             cert=certs["client_ss"], key=certs["client_ss_key"])
    mail_tls(3528, cc, "ccert-none.example.com", suites="TLS_AES_256_GCM_SHA384")


def run_outbound(main_inst, sink_name, exp, wait_queue):
    """One message per outbound destination, injected over plaintext SMTP and
    delivered by the main instance's smtp(8) to the sink, one at a time (no
    connection reuse). Returns the list of injected recipients."""
    cases = [
        # recipient domain, trust of the TLS session the smtp client will
        # see (None = no TLS), delivery status, outbound failure reason,
        # sink-side inbound session (encryption, mail)
        ("out-untrusted.example.test", "untrusted", "sent", None, ("tls", True)),
        ("out-trusted.example.test", "trusted", "sent", None, ("tls", True)),
        ("out-verified.example.test", "verified", "sent", None, ("tls", True)),
        ("out-plain.example.test", None, "sent", None, ("plaintext", True)),
        ("out-tlsrequired.example.test", None, "deferred", "not_offered", ("plaintext", False)),
    ]
    for dom, trust, status, reason, sink_sess in cases:
        swaks(3525, "injector.example.org", "rcpt@" + dom, tmpdir="/tmp")
        exp.inbound("postfix", "plaintext", True)
        wait_queue(dom, status)
        exp.add("postfix_tls_outbound_deliveries_total", syslog_name="postfix",
                tls=trust or "none", status=status)
        if trust:
            # sink servers use RSA certificates; client and server pick
            # OpenSSL's defaults: TLS 1.3, TLS_AES_256_GCM_SHA384, X25519
            exp.add("postfix_tls_outbound_handshakes_total", syslog_name="postfix", trust=trust,
                    protocol="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384", key_exchange="x25519")
            exp.inbound(sink_name, "tls", sink_sess[1],
                        handshake=("anonymous", "TLSv1.3", "TLS_AES_256_GCM_SHA384", "x25519"))
        else:
            exp.inbound(sink_name, sink_sess[0], sink_sess[1])
        if reason:
            exp.add("postfix_tls_outbound_tls_failures_total", syslog_name="postfix", reason=reason)
        log("  outbound %-30s tls=%s status=%s" % (dom, trust or "none", status))


# --------------------------------------------------------------------------
# comparison

def compare(parsed, exp, where):
    for fam in FAMILIES_EXACT:
        got = promtext.nonzero(parsed, fam)
        want = exp.fam[fam]
        if got == want:
            check(True, "%s: %s matches (%d series, total %d)" % (where, fam, len(want), sum(want.values())))
            continue
        lines = []
        for k in sorted(set(got) | set(want)):
            if got.get(k) != want.get(k):
                lines.append("    %s want %s got %s" % (promtext.fmt(k), want.get(k), got.get(k)))
        check(False, "%s: %s differs:\n%s" % (where, fam, "\n".join(lines)))


def health(parsed, where, n_lines):
    unrec = promtext.nonzero(parsed, "postfix_tls_exporter_unrecognized_lines_total")
    check(not unrec, "%s: no unrecognized lines %s" % (where, unrec or ""))
    for fam in ("postfix_tls_exporter_malformed_lines_total", "postfix_tls_exporter_oversized_lines_total",
                "postfix_tls_exporter_series_dropped_total", "postfix_tls_exporter_sessions_expired_total"):
        v = sum(parsed.get(fam, {}).values())
        check(v == 0, "%s: %s == 0 (got %g)" % (where, fam, v))
    v = sum(parsed.get("postfix_tls_exporter_sessions_open", {}).values())
    check(v == 0, "%s: sessions_open == 0 (got %g)" % (where, v))
    v = sum(parsed.get("postfix_tls_exporter_lines_read_total", {}).values())
    check(v == n_lines, "%s: lines_read_total == %d lines in the logs (got %g)" % (where, n_lines, v))


# --------------------------------------------------------------------------
# MemoryDenyWriteExecute: PR_SET_MDWE (Linux >= 6.3) gives the same
# "no writable+executable memory" rule as systemd's seccomp filter.

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


def _set_mdwe():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        os._exit(99)


def mdwe_supported():
    r = subprocess.run([sys.executable, "-c", "import ctypes,os,sys;"
                        "sys.exit(0 if ctypes.CDLL(None).prctl(65,1,0,0,0)==0 else 1)"])
    return r.returncode == 0


# --------------------------------------------------------------------------

def main():
    if os.geteuid() != 0:
        log("SKIP: needs root to run Postfix instances")
        return 77
    binary = os.environ.get("PTE_BINARY") or (sys.argv[1] if len(sys.argv) > 1 else None)
    if not binary or not os.access(binary, os.X_OK):
        log("FAIL: PTE_BINARY not set or not executable")
        return 1
    ensure_packages()
    busy = [p for p in list(MAIN_PORTS) + list(SINK_PORTS) if port_busy(p)]
    if busy:
        log("FAIL: ports already in use: %s (a leftover e2e instance? see /etc/postfix-pte-e2e*)" % busy)
        return 1

    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="pte-e2e.")
    os.chmod(tmp, 0o755)        # postlogd and smtpd (user postfix) read certs here
    keep = os.environ.get("PTE_E2E_KEEP") == "1"
    main_inst = sink_inst = daemon = None
    try:
        certs = make_certs(tmp)
        main_inst, sink_inst = make_instances(tmp, certs)
        for f in (main_inst.logfile, sink_inst.logfile):
            open(f, "a").close()
        sink_inst.create()
        main_inst.create()
        sink_inst.start()
        main_inst.start()

        port = free_web_port()
        base = "http://127.0.0.1:%d" % port
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        shutil.chown(state, "nobody")   # the daemon drops to --user=nobody
        daemon_err = open(os.path.join(tmp, "daemon.stderr"), "w")
        cmd = [binary, "--source.file=" + main_inst.logfile, "--source.file=" + sink_inst.logfile,
               "--source.start=beginning", "--web.listen-address=127.0.0.1:%d" % port,
               "--state.directory=" + state, "--user=nobody", "--log.level=debug"]
        log("daemon: " + " ".join(cmd))
        daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=daemon_err)
        for _ in range(100):
            try:
                if http_get(base + "/metrics")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if daemon.poll() is not None:
                raise RuntimeError("daemon exited with %s:\n%s" % (daemon.returncode,
                                   open(daemon_err.name).read()))
            time.sleep(0.1)
        else:
            raise RuntimeError("daemon did not serve /metrics within 10 s")

        exp = Expect()
        log("inbound scenarios:")
        run_scenarios(tmp, certs, exp)

        def wait_queue(dom, status):
            """Wait until the main instance logged the delivery attempt."""
            needle = "@%s>, relay=" % dom
            for _ in range(300):
                with open(main_inst.logfile) as f:
                    if any(needle in l and ("status=" + status) in l for l in f):
                        return
                time.sleep(0.1)
            raise RuntimeError("no %s delivery to %s within 30 s" % (status, dom))

        log("outbound scenarios:")
        run_outbound(main_inst, "postfix-sink", exp, wait_queue)
        t_traffic = time.monotonic()

        # wait until the daemon has seen every session end and every delivery
        want_sessions = exp.total("postfix_tls_inbound_sessions_total")
        want_deliv = exp.total("postfix_tls_outbound_deliveries_total")
        parsed = {}
        for _ in range(300):
            parsed = promtext.parse(http_get(base + "/metrics")[2])
            got_s = sum(parsed.get("postfix_tls_inbound_sessions_total", {}).values())
            got_d = sum(parsed.get("postfix_tls_outbound_deliveries_total", {}).values())
            if got_s >= want_sessions and got_d >= want_deliv:
                break
            time.sleep(0.1)
        time.sleep(0.5)   # anything still in flight would show up as a mismatch
        status, headers, body = http_get(base + "/metrics")
        check(status == 200 and headers.get("Content-Type", "").startswith("text/plain"),
              "scrape: 200 text/plain (%s)" % headers.get("Content-Type"))
        parsed = promtext.parse(body)
        n_lines = sum(1 for f in (main_inst.logfile, sink_inst.logfile) for _ in open(f))
        compare(parsed, exp, "follow")
        health(parsed, "follow", n_lines)
        up = parsed.get("postfix_tls_exporter_source_up", {})
        check(len(up) == 2 and all(v == 1 for v in up.values()), "follow: both sources up %s" % up)

        # readiness report (served by the peers/report code when present)
        try:
            rs, rh, rbody = http_get(base + "/report?format=json")
            ctype = rh.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            rs, ctype, rbody = e.code, "", ""
        if rs == 404 or (rs == 200 and "json" not in ctype):
            log("SKIP /report?format=json: no JSON report in this build (status %s, %s: %r); "
                "report assertions skipped" % (rs, ctype or "no type", rbody[:60]))
        else:
            check(rs == 200, "report: /report?format=json status 200 (got %s)" % rs)
            try:
                report = json.loads(rbody)
            except ValueError as e:
                report = None
                check(False, "report: valid JSON (%s)" % e)
            if report is not None:
                check(isinstance(report, dict), "report: a JSON object")
                check_report(report, exp)

        # SIGHUP: reopen, keep counting; SIGTERM: save state, exit 0
        daemon.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check(daemon.poll() is None, "SIGHUP: daemon still running")
        parsed2 = promtext.parse(http_get(base + "/metrics")[2])
        compare(parsed2, exp, "after SIGHUP")
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(timeout=15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            rc = "killed after 15 s"
        check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
        daemon = None

        # --once over the same logs gives the same numbers
        once = subprocess.run([binary, "--once", "--source.file=" + main_inst.logfile,
                               "--source.file=" + sink_inst.logfile],
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(once.returncode == 0, "--once: exit 0 (got %d) %s" % (once.returncode, once.stderr[-500:]))
        if once.returncode == 0:
            p_once = promtext.parse(once.stdout)
            compare(p_once, exp, "--once")
            health(p_once, "--once", n_lines)

        # the report subcommand over the same logs tells the same story
        rep = subprocess.run([binary, "report", "--format=json", main_inst.logfile, sink_inst.logfile],
                             text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(rep.returncode == 0, "report subcommand: exit 0 (got %d) %s" % (rep.returncode, rep.stderr[-300:]))
        if rep.returncode == 0:
            try:
                rj = json.loads(rep.stdout)
            except ValueError:
                rj = None
                log("SKIP report subcommand: output is not JSON in this build: %r" % rep.stdout[:60])
            if rj is not None:
                check_report(rj, exp)

        # --once with no W^X memory (what MemoryDenyWriteExecute=yes does):
        # PCRE2 JIT cannot allocate, the interpreter must give the same result
        if mdwe_supported():
            mdwe = subprocess.run([binary, "--once", "--source.file=" + main_inst.logfile,
                                   "--source.file=" + sink_inst.logfile],
                                  text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=60, preexec_fn=_set_mdwe)
            check(mdwe.returncode == 0, "--once under MDWE: exit 0 (got %d) %s"
                  % (mdwe.returncode, mdwe.stderr[-500:]))
            if mdwe.returncode == 0:
                compare(promtext.parse(mdwe.stdout), exp, "--once under MDWE")
            jit_lines = [l for l in mdwe.stderr.splitlines() if "jit" in l.lower()]
            check(len(jit_lines) <= 1, "--once under MDWE: JIT fallback logged at most once (%d lines)"
                  % len(jit_lines))
            log("     MDWE stderr: %s" % (jit_lines[0] if jit_lines else "(no JIT message)"))
        else:
            log("SKIP MDWE check: kernel has no PR_SET_MDWE (Linux < 6.3)")

        # artifacts for the package test
        build = os.environ.get("PTE_BUILD_ROOT")
        if build:
            art = os.path.join(build, "tests", "e2e", "artifacts")
            os.makedirs(art, exist_ok=True)
            shutil.copy(main_inst.logfile, os.path.join(art, "maillog.log"))
            shutil.copy(sink_inst.logfile, os.path.join(art, "sink-maillog.log"))
            with open(os.path.join(art, "expected.json"), "w") as f:
                json.dump({fam: [[dict(k), v] for k, v in sorted(s.items())]
                           for fam, s in exp.fam.items()}, f, indent=1)
        log("timing: setup+traffic %.1f s, total %.1f s" % (t_traffic - t0, time.monotonic() - t0))
    except Exception as e:  # noqa: BLE001 - report, then tear down
        import traceback
        traceback.print_exc()
        failures.append("exception: %s" % e)
    finally:
        if daemon is not None:
            daemon.kill()
            daemon.wait()
        for inst in (main_inst, sink_inst):
            if inst is not None:
                if failures and os.path.exists(inst.logfile):
                    log("---- %s (last 60 lines)" % inst.logfile)
                    log("".join(open(inst.logfile).readlines()[-60:]))
                inst.stop()
                inst.destroy()
        if failures and os.path.exists(os.path.join(tmp, "daemon.stderr")):
            log("---- daemon stderr (last 40 lines)")
            log("".join(open(os.path.join(tmp, "daemon.stderr")).readlines()[-40:]))
        if keep:
            log("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        left = [p for p in list(MAIN_PORTS) + list(SINK_PORTS) if port_busy(p)]
        check(not left, "teardown: ports 3525-3529/3625-3629 free again %s" % (left or ""))
        check(not any(os.path.exists(d) for d in ("/etc/postfix-pte-e2e", "/etc/postfix-pte-e2e-sink",
                                                    "/var/spool/postfix-pte-e2e", "/var/spool/postfix-pte-e2e-sink")),
              "teardown: instance directories removed")

    log("%d passed, %d failed" % (passed[0], len(failures)))
    return 1 if failures else 0


def check_report(report, exp):
    """The readiness report (schema postfix_tls_exporter.report/1, see
    tests/peers/report.schema.json) must agree with what the clients did:
    sessions and mail sessions by syslog_name and encryption, the verdict's
    refused (plaintext) mail sessions, outbound deliveries by TLS and
    status."""
    check(report.get("schema") == "postfix_tls_exporter.report/1",
          "report: schema postfix_tls_exporter.report/1 (got %r)" % report.get("schema"))
    encs = ("tls", "plaintext", "starttls_failed")
    sess, mail = {}, {}
    for key, n in exp.fam["postfix_tls_inbound_sessions_total"].items():
        k = dict(key)
        sess.setdefault(k["syslog_name"], dict.fromkeys(encs, 0))[k["encryption"]] += n
        m = mail.setdefault(k["syslog_name"], dict.fromkeys(encs, 0))
        if k["mail"] == "true":
            m[k["encryption"]] += n
    inbound = report.get("inbound", {})
    got = {e["syslog_name"]: ({x: e["sessions"].get(x) for x in encs}, {x: e["mail_sessions"].get(x) for x in encs})
           for e in inbound.get("by_syslog_name", [])}
    want = {name: (sess[name], mail[name]) for name in sess}
    check(got == want, "report: inbound sessions and mail sessions by syslog_name and encryption%s"
          % ("" if got == want else "\n    want %s\n    got  %s" % (want, got)))
    tot = inbound.get("totals", {})
    want_tot = {x: sum(v[x] for v in sess.values()) for x in encs}
    want_mail = {x: sum(v[x] for v in mail.values()) for x in encs}
    got_tot = {x: tot.get("sessions", {}).get(x) for x in encs}
    got_mail = {x: tot.get("mail_sessions", {}).get(x) for x in encs}
    check((got_tot, got_mail) == (want_tot, want_mail),
          "report: inbound totals %s / mail %s (got %s / %s)" % (want_tot, want_mail, got_tot, got_mail))
    verdicts = {v["syslog_name"]: (v["refused_mail_sessions"], v["mail_sessions"]) for v in report.get("verdicts", [])}
    want_v = {name: (mail[name]["plaintext"], sum(mail[name].values())) for name in mail}
    check(verdicts == want_v, "report: verdicts (refused plaintext mail sessions, mail sessions) per syslog_name%s"
          % ("" if verdicts == want_v else "\n    want %s\n    got  %s" % (want_v, verdicts)))
    out = report.get("outbound", {}).get("totals", {})
    by_tls, by_status = {}, {}
    for key, n in exp.fam["postfix_tls_outbound_deliveries_total"].items():
        k = dict(key)
        by_tls[k["tls"]] = by_tls.get(k["tls"], 0) + n
        by_status[k["status"]] = by_status.get(k["status"], 0) + n
    got_tls = {k: v for k, v in out.get("by_tls", {}).items() if v}
    got_status = {k: v for k, v in out.get("by_status", {}).items() if v}
    check(out.get("deliveries") == sum(by_tls.values()) and got_tls == by_tls and got_status == by_status,
          "report: outbound deliveries %d by tls %s and status %s (got %s, %s, %s)"
          % (sum(by_tls.values()), by_tls, by_status, out.get("deliveries"), got_tls, got_status))


if __name__ == "__main__":
    sys.exit(main())

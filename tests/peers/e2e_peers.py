#!/usr/bin/env python3
"""End-to-end test of the peer accounting and the readiness report.

--live: runs a private Postfix instance (config /etc/postfix-pte-peers, queue
/var/spool/postfix-pte-peers, data /var/lib/postfix-pte-peers, maillog_file in
a temporary directory, listening only on 127.0.0.1:3725-3728), maps 46
loopback addresses to client host names of 26 registrable domains in
/etc/hosts (restored byte for byte afterwards), and drives real SMTP sessions
from those addresses with smtplib: TLS and plaintext mail, plaintext without
mail, failed STARTTLS handshakes, a client without a name, and outbound
deliveries to a TLS and a plaintext sink. The ground truth is what the
clients did. With --record DIR the log and the truth are kept (that is how
data/postfix-peers.log was made).

--replay LOG --truth JSON: the same checks on a recorded log.

Checks, all exact: per-peer sessions by (encryption, mail) in `report
--format json`, the plaintext-peer list and its counts, the verdict, clients
without a name, outbound classes and policies; the labelled series of
`--once` equal the truth and sum to the unlabelled totals, also when folded
with --peers.max=5; /report and /report?format=json from the daemon.

Exit 77 (skipped) when --live cannot run: not root, or Postfix missing.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

CONF = "/etc/postfix-pte-peers"
QUEUE = "/var/spool/postfix-pte-peers"
DATA = "/var/lib/postfix-pte-peers"
PORT_MX, PORT_SUB, PORT_SINK_TLS, PORT_SINK_PLAIN, PORT_HTTP = 3725, 3726, 3727, 3728, 3729
SYSLOG = "postfix-pte"
LOCAL_DOMAIN = "local.pte-peers.test"
UNKNOWN_ADDR = "127.0.0.200"
RELAY_ADDR, RELAY_NAME = "127.0.0.50", "out.pte-relay.test"
INJECT_ADDR, INJECT_NAME = "127.0.0.60", "inject.pte-inject.test"
DESTS = {"dest-a.test": (PORT_SINK_TLS, 3), "dest-b.test": (PORT_SINK_TLS, 2), "dest-c.test": (PORT_SINK_PLAIN, 2)}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)


def clients():
    """(domain, [host names]) for 24 client domains, with tricky shapes."""
    out = []
    for i in range(18):
        hosts = [f"mx1.client{i:02d}.test"] + ([f"mx2.client{i:02d}.test"] if i % 2 == 0 else [])
        out.append((f"client{i:02d}.test", hosts))
    out += [
        ("client18.co.uk", ["mail.client18.co.uk"]),           # multi-label public suffix
        ("client19.com.au", ["smtp.out.client19.com.au"]),
        ("client20.org", ["MX.Client20.ORG"]),                 # case
        ("client21.net", ["a.b.c.client21.net", "d.client21.net"]),
        ("client22.io", ["relay.client22.io"]),
        ("client23.de", ["mx.client23.de"]),
    ]
    return out


def plan():
    """The sessions each client domain makes: list of (domain, host index, port, kind)."""
    sessions = []
    for i, (dom, hosts) in enumerate(clients()):
        h = lambda k: k % len(hosts)
        for k in range(1 + i % 3):
            sessions.append((dom, h(k), PORT_MX, "tls_mail"))
        n_plain = 1 if i % 4 == 1 else 2 if i % 7 == 3 else 0
        for k in range(n_plain):
            sessions.append((dom, h(k + 1), PORT_MX, "plain_mail"))
        if i % 5 == 2:
            sessions.append((dom, h(0), PORT_MX, "plain_nomail"))
        if i in (6, 13):
            sessions.append((dom, h(0), PORT_MX, "starttls_fail"))
        if i % 6 == 0:
            sessions.append((dom, h(1), PORT_SUB, "tls_mail"))
    sessions.append(("unknown", 0, PORT_MX, "plain_mail"))
    sessions.append(("unknown", 0, PORT_MX, "tls_mail"))
    return sessions


KIND = {"tls_mail": ("tls", True), "plain_mail": ("plaintext", True), "plain_nomail": ("plaintext", False),
        "starttls_fail": ("starttls_failed", False)}


def empty_enc():
    return {"tls": 0, "plaintext": 0, "starttls_failed": 0}


def truth_from_plan():
    inbound, plain = {}, {}
    for dom, _, port, kind in plan():
        enc, mail = KIND[kind]
        t = inbound.setdefault(dom, {"sessions": empty_enc(), "mail_sessions": empty_enc()})
        t["sessions"][enc] += 1
        if mail:
            t["mail_sessions"][enc] += 1
            if enc == "plaintext":
                plain[dom] = plain.get(dom, 0) + 1
    n_msgs = sum(n for _, n in DESTS.values())
    inbound["pte-inject.test"] = {"sessions": {**empty_enc(), "tls": 1}, "mail_sessions": {**empty_enc(), "tls": 1}}
    n_tls = sum(n for p, n in DESTS.values() if p == PORT_SINK_TLS)
    inbound["pte-relay.test"] = {"sessions": {**empty_enc(), "tls": n_tls, "plaintext": n_msgs - n_tls},
                                 "mail_sessions": {**empty_enc(), "tls": n_tls, "plaintext": n_msgs - n_tls}}
    plain["pte-relay.test"] = n_msgs - n_tls
    return {
        "syslog_name": SYSLOG,
        "inbound": inbound,
        "plaintext_mail_peers": plain,
        "unknown_addresses": {UNKNOWN_ADDR: 2},
        "outbound": {d: {"deliveries": n, "tls": p == PORT_SINK_TLS} for d, (p, n) in DESTS.items()},
    }


# ---------------------------------------------------------------- live Postfix

MASTER_CF = f"""\
127.0.0.1:{PORT_MX} inet n - n - - smtpd
127.0.0.1:{PORT_SUB} inet n - n - - smtpd -o syslog_name={SYSLOG}/submission -o smtpd_tls_protocols=>=TLSv1.2
127.0.0.1:{PORT_SINK_TLS} inet n - n - - smtpd -o syslog_name={SYSLOG}/sink -o content_filter=discard:sink
127.0.0.1:{PORT_SINK_PLAIN} inet n - n - - smtpd -o syslog_name={SYSLOG}/sinkplain -o content_filter=discard:sink
  -o smtpd_tls_security_level=none
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def main_cf(tmp):
    return f"""\
compatibility_level = 3.6
queue_directory = {QUEUE}
data_directory = {DATA}
myhostname = mx.pte-peers.test
mydomain = pte-peers.test
myorigin = $myhostname
mydestination = {LOCAL_DOMAIN}
local_transport = discard:inbound-accepted
relay_domains = {' '.join(DESTS)}
transport_maps = texthash:{CONF}/transport
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 192.0.2.0/24
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
alias_maps =
alias_database =
biff = no
maillog_file_prefixes = {tmp}
maillog_file = {tmp}/maillog.log
syslog_name = {SYSLOG}
smtpd_tls_chain_files = {CONF}/key.pem, {CONF}/cert.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtp_bind_address = {RELAY_ADDR}
smtp_connection_cache_on_demand = no
smtpd_client_connection_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
"""


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)


def postfix(*args):
    return subprocess.run(["postfix", "-c", CONF, *args], capture_output=True, text=True)


def teardown_instance():
    if os.path.isdir(CONF):
        postfix("stop")
        for _ in range(50):
            if postfix("status").returncode != 0:
                break
            time.sleep(0.2)
    for d in (CONF, QUEUE, DATA):
        shutil.rmtree(d, ignore_errors=True)


class Hosts:
    """Adds lines to /etc/hosts and puts the exact original bytes back."""

    def __init__(self, lines):
        with open("/etc/hosts", "rb") as f:
            self.orig = f.read()
        extra = "".join(f"{a} {n}\n" for a, n in lines).encode()
        sep = b"" if self.orig.endswith(b"\n") or not self.orig else b"\n"
        with open("/etc/hosts", "wb") as f:
            f.write(self.orig + sep + b"# postfix_tls_exporter peers e2e (temporary)\n" + extra)

    def restore(self):
        with open("/etc/hosts", "wb") as f:
            f.write(self.orig)


def smtp_session(src, port, helo, kind, sender_dom, tls_ctx):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30, local_hostname=helo, source_address=(src, 0))
    s.ehlo()
    if kind == "starttls_fail":
        s.putcmd("STARTTLS")
        code, _ = s.getreply()
        assert code == 220, code
        s.sock.sendall(b"\x16\x03\x01\x00\x05not-a-client-hello\r\n")
        time.sleep(0.2)
        s.sock.close()
        return
    if kind == "tls_mail":
        s.starttls(context=tls_ctx)
        s.ehlo()
    if kind in ("tls_mail", "plain_mail"):
        s.sendmail(f"sender@{sender_dom}", [f"postmaster@{LOCAL_DOMAIN}"],
                   f"From: sender@{sender_dom}\r\nSubject: peers e2e\r\n\r\ntest\r\n")
    s.quit()


def count_lines(path, pattern):
    try:
        with open(path, errors="replace") as f:
            return sum(1 for line in f if re.search(pattern, line))
    except FileNotFoundError:
        return 0


def live(record_dir):
    if os.geteuid() != 0 or not shutil.which("postfix") and not os.path.exists("/usr/sbin/postfix"):
        print("skipped: needs root and Postfix (apt-get install postfix)")
        return 77
    os.environ["PATH"] = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    tmp = tempfile.mkdtemp(prefix="pte-peers-e2e-")
    os.chmod(tmp, 0o755)
    hosts_lines, addr = [], {}
    n = 10
    for dom, names in clients():
        for name in names:
            hosts_lines.append((f"127.0.0.{n}", name))
            addr[name] = f"127.0.0.{n}"
            n += 1
    hosts_lines += [(RELAY_ADDR, RELAY_NAME), (INJECT_ADDR, INJECT_NAME)]
    teardown_instance()  # leftovers of an interrupted run
    hosts = Hosts(hosts_lines)
    restore = lambda *a: (hosts.restore(), teardown_instance(), sys.exit(1))
    signal.signal(signal.SIGTERM, restore)
    signal.signal(signal.SIGINT, restore)
    try:
        os.makedirs(CONF)
        for d in (QUEUE, DATA):
            os.makedirs(d, exist_ok=True)
        shutil.chown(DATA, "postfix", "postfix")
        with open(f"{CONF}/main.cf", "w") as f:
            f.write(main_cf(tmp))
        with open(f"{CONF}/master.cf", "w") as f:
            f.write(MASTER_CF)
        with open(f"{CONF}/transport", "w") as f:
            for d, (port, _) in DESTS.items():
                f.write(f"{d} smtp:[127.0.0.1]:{port}\n")
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mx.pte-peers.test",
            "-keyout", f"{CONF}/key.pem", "-out", f"{CONF}/cert.pem")
        os.chmod(f"{CONF}/key.pem", 0o600)
        r = postfix("start")
        if r.returncode != 0:
            # Postfix only writes to stderr when it is a terminal
            t = subprocess.run(["script", "-qc", f"postfix -c {CONF} check", "/dev/null"], capture_output=True, text=True)
            check(False, f"postfix start: {t.stdout.strip()}")
            return 1
        # wait for the listeners without connecting (a probe would be a session)
        want = {f"0100007F:{p:04X}" for p in (PORT_MX, PORT_SUB, PORT_SINK_TLS, PORT_SINK_PLAIN)}
        for _ in range(100):
            with open("/proc/net/tcp") as f:
                listening = {l.split()[1] for l in f.readlines()[1:] if l.split()[3] == "0A"}
            if want <= listening:
                break
            time.sleep(0.2)
        log = f"{tmp}/maillog.log"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        names = dict(clients())
        for dom, hi, port, kind in plan():
            if dom == "unknown":
                src, helo, sdom = UNKNOWN_ADDR, "nameless.example", "nameless.example"
            else:
                name = names[dom][hi]
                src, helo, sdom = addr[name], name.lower(), dom
            smtp_session(src, port, helo, kind, sdom, ctx)
        # outbound: inject in one TLS session, then wait for the deliveries
        s = smtplib.SMTP("127.0.0.1", PORT_MX, timeout=30, local_hostname=INJECT_NAME, source_address=(INJECT_ADDR, 0))
        s.ehlo()
        s.starttls(context=ctx)
        s.ehlo()
        total = 0
        for d, (_, k) in DESTS.items():
            for j in range(k):
                s.sendmail(f"out@{LOCAL_DOMAIN}", [f"user{j}@{d}"], f"Subject: out {d} {j}\r\n\r\nx\r\n")
                total += 1
        s.quit()
        deadline = time.time() + 120
        while time.time() < deadline:
            sent = count_lines(log, r"postfix-pte/smtp\[\d+\]: \w+: to=<user\d@dest-.\.test>.*status=sent")
            sinks = count_lines(log, r"postfix-pte/sink(plain)?/smtpd\[\d+\]: disconnect from")
            if sent >= total and sinks >= total:
                break
            time.sleep(0.5)
        time.sleep(1.5)  # the last disconnect lines
        postfix("stop")
        time.sleep(1)
        truth = truth_from_plan()
        if record_dir:
            shutil.copy(log, os.path.join(record_dir, "postfix-peers.log"))
            with open(os.path.join(record_dir, "postfix-peers.truth.json"), "w") as f:
                json.dump(truth, f, indent=1, sort_keys=True)
                f.write("\n")
        return verify(log, truth)
    finally:
        hosts.restore()
        teardown_instance()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- checks

def binary():
    return os.environ.get("PTE_BINARY") or os.path.join(os.environ.get("PTE_BUILD_ROOT", "build"), "src", "postfix_tls_exporter")


def parse_prom(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
            out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


def check_series(metrics, truth, folded):
    peers = metrics.get("postfix_tls_inbound_peer_sessions_total", [])
    totals = metrics.get("postfix_tls_inbound_sessions_total", [])
    for enc in ("tls", "plaintext", "starttls_failed"):
        for mail in ("true", "false"):
            a = sum(v for l, v in peers if l["encryption"] == enc and l["mail"] == mail)
            b = sum(v for l, v in totals if l["encryption"] == enc and l["mail"] == mail)
            check(a == b, f"sum over peer_domain {enc}/{mail} = {a}, unlabelled total {b} (peers.max={folded})")
    out_p = metrics.get("postfix_tls_outbound_peer_deliveries_total", [])
    out_t = metrics.get("postfix_tls_outbound_deliveries_total", [])
    check(sum(v for _, v in out_p) == sum(v for _, v in out_t), "outbound sum over peer_domain = unlabelled total")
    names = {l["peer_domain"] for l, _ in peers}
    if folded:
        check(len(names - {"other"}) <= folded, f"at most {folded} labelled inbound peers, got {sorted(names)}")
        check("other" in names, "the tail is folded into other")
        return
    for dom, t in truth["inbound"].items():
        for enc in ("tls", "plaintext", "starttls_failed"):
            mail = t["mail_sessions"][enc]
            nomail = t["sessions"][enc] - mail
            for m, want in (("true", mail), ("false", nomail)):
                got = sum(v for l, v in peers if l["peer_domain"] == dom and l["encryption"] == enc and l["mail"] == m)
                check(got == want, f"series {dom} {enc} mail={m}: {got}, sent {want}")
    check(names == set(truth["inbound"]), f"labelled peers {sorted(names)} != sent {sorted(truth['inbound'])}")
    for d, o in truth["outbound"].items():
        got = sum(v for l, v in out_p if l["peer_domain"] == d)
        check(got == o["deliveries"], f"outbound series {d}: {got}, sent {o['deliveries']}")


def check_report(doc, truth, where):
    peers = {p["peer"]: p for p in doc["inbound"]["peers"]}
    check(set(peers) == set(truth["inbound"]), f"{where}: report peers {sorted(peers)} != sent {sorted(truth['inbound'])}")
    for dom, t in truth["inbound"].items():
        p = peers.get(dom)
        if not p:
            continue
        check(p["sessions"] == t["sessions"], f"{where}: {dom} sessions {p['sessions']} != {t['sessions']}")
        check(p["mail_sessions"] == t["mail_sessions"], f"{where}: {dom} mail {p['mail_sessions']} != {t['mail_sessions']}")
    plain = [(p["peer"], p["mail_sessions"]["plaintext"]) for p in doc["inbound"]["plaintext_mail_peers"]]
    want = sorted(truth["plaintext_mail_peers"].items(), key=lambda x: (-x[1], x[0]))
    check(plain == want, f"{where}: plaintext peers {plain} != {want}")
    refused = sum(truth["plaintext_mail_peers"].values())
    v = {x["syslog_name"]: x for x in doc["verdicts"]}
    # plaintext mail arrives on the MX listener and the plaintext sink
    got = sum(x["refused_mail_sessions"] for x in doc["verdicts"])
    check(got == refused, f"{where}: verdicts refuse {got}, sent {refused} plaintext mail sessions")
    check(SYSLOG in v, f"{where}: verdict for {SYSLOG}")
    unk = {u["address"]: sum(u["sessions"].values()) for u in doc["inbound"]["unknown_clients"]}
    check(unk == truth["unknown_addresses"], f"{where}: unknown clients {unk} != {truth['unknown_addresses']}")
    always = {d["destination"]: d for d in doc["outbound"]["always_tls"]}
    never = {d["destination"]: d for d in doc["outbound"]["never_tls"]}
    for d, o in truth["outbound"].items():
        if o["tls"]:
            check(d in always and always[d]["tls"] == o["deliveries"] and always[d]["policy"] == "encrypt",
                  f"{where}: {d} always TLS with {o['deliveries']} deliveries")
            check(re.search(rf"^{re.escape(d)} +encrypt$", doc["outbound"]["policy_map"], re.M) is not None,
                  f"{where}: policy map line for {d}")
        else:
            check(d in never and never[d]["plaintext"] == o["deliveries"], f"{where}: {d} never TLS")
    check(doc["outbound"]["mixed"] == [], f"{where}: no mixed destinations")


def verify(log, truth):
    exe = binary()
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT="1")
    # 1. the report subcommand, JSON and text
    r = subprocess.run([exe, "report", "--format", "json", "--window", "7d", log], capture_output=True, text=True, env=env)
    check(r.returncode == 0, f"report exit {r.returncode}: {r.stderr[-500:]}")
    doc = json.loads(r.stdout)
    check_report(doc, truth, "report --format json")
    r = subprocess.run([exe, "report", "--window", "7d", log], capture_output=True, text=True, env=env)
    check(r.returncode == 0, "report --format text")
    for dom in truth["plaintext_mail_peers"]:
        check(re.search(rf"^  {re.escape(dom)} +\d", r.stdout, re.M) is not None, f"text report lists {dom}")
    # 2. metrics: labelled series equal the truth; folded, the sums stay exact
    for folded in (0, 5):
        args = [exe, "--once", f"--source.file={log}"] + ([f"--peers.max={folded}"] if folded else [])
        r = subprocess.run(args, capture_output=True, text=True, env=env)
        check(r.returncode == 0, f"--once exit {r.returncode}: {r.stderr[-300:]}")
        check_series(parse_prom(r.stdout), truth, folded)
    # 3. the daemon's /report
    sd = tempfile.mkdtemp(prefix="pte-peers-http-")
    p = subprocess.Popen([exe, f"--source.file={log}", "--source.start=beginning", f"--web.listen-address=127.0.0.1:{PORT_HTTP}",
                          "--window=366d", f"--state.directory={sd}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        n_lines = sum(1 for _ in open(log, "rb"))
        body = ""
        for _ in range(100):
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{PORT_HTTP}/metrics", timeout=5).read().decode()
                if re.search(rf"^postfix_tls_exporter_lines_read_total {n_lines}$", body, re.M):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        # --once keeps only what the series need (PeersConfig.series_only);
        # the daemon keeps everything: the series must be the same
        r = subprocess.run([exe, "--once", f"--source.file={log}", "--window=366d"], capture_output=True, text=True, env=env)
        fams = ("postfix_tls_inbound_peer_sessions_total{", "postfix_tls_outbound_peer_deliveries_total{",
                "postfix_tls_exporter_peers_tracked{", "postfix_tls_exporter_peers_folded_total{")
        def pick(text):
            return sorted(l for l in text.splitlines() if l.startswith(fams))
        check(r.returncode == 0 and pick(r.stdout) == pick(body) and len(pick(body)) >= 10,
              f"--once's {len(pick(r.stdout))} peer series equal the daemon's {len(pick(body))}")
        html = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{PORT_HTTP}/report"], capture_output=True, text=True)
        check(html.returncode == 0 and "<svg" in html.stdout and "<script" not in html.stdout, "GET /report (HTML, curl)")
        check(f"enforcing TLS on syslog_name {SYSLOG} would have refused" in html.stdout, "/report has the verdict")
        js = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{PORT_HTTP}/report?format=json"], capture_output=True, text=True)
        check(js.returncode == 0, "GET /report?format=json")
        if js.returncode == 0:
            check_report(json.loads(js.stdout), truth, "/report?format=json")
        # ?window= parsed like --window, bounded by it
        base = f"http://127.0.0.1:{PORT_HTTP}/report"
        for q, code, want in (("?format=json&window=2d", 200, '"seconds": 172800'),
                              ("?format=json&window=1h30m", 200, '"seconds": 7200'),
                              ("?window=367d", 400, "window must be at most the configured --window=366d"),
                              ("?window=soon", 400, "window must be a duration"),
                              ("?window=0s", 400, "window must be a duration")):
            r = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", base + q], capture_output=True, text=True)
            got_body, _, got_code = r.stdout.rpartition("\n")
            check(got_code == str(code) and want in got_body, f"GET /report{q}: {got_code} {got_body[:120]!r}")
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
        shutil.rmtree(sd, ignore_errors=True)
    n_checks = 1
    print(f"peers-e2e: {len(truth['inbound'])} client domains, {sum(sum(t['sessions'].values()) for t in truth['inbound'].values())} sessions")
    print(f"{0 if failures else 1} passed, {1 if failures else 0} failed" if n_checks else "")
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--live", action="store_true")
    ap.add_argument("--record", metavar="DIR")
    ap.add_argument("--replay", metavar="LOG")
    ap.add_argument("--truth", metavar="JSON")
    a = ap.parse_args()
    # One run at a time on this machine: the instance paths, ports 3725-3729
    # and /etc/hosts are shared by every checkout's test run.
    lock = open("/tmp/pte-peers-e2e.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    if a.live:
        return live(a.record)
    with open(a.truth) as f:
        truth = json.load(f)
    return verify(a.replay, truth)


if __name__ == "__main__":
    sys.exit(main())

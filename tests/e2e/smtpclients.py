"""smtpclients - the SMTP clients the e2e test drives Postfix with.

swaks for complete mail transactions, openssl s_client for handshakes with
chosen protocols and ciphers, and raw sockets for broken clients. Each
helper returns what the client itself observed (so the test's expectations
come from the client side, never from the log) and raises if the client did
not see what the scenario needs (e.g. a TLS session that should have been
established was not).
"""
import os
import re
import socket
import subprocess

HOST = "127.0.0.1"


class ClientError(Exception):
    pass


def _openssl_conf(tmpdir, name, lines):
    path = os.path.join(tmpdir, "client-%s.cnf" % name)
    with open(path, "w") as f:
        f.write("openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n"
                "[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\n")
        for l in lines:
            f.write(l + "\n")
    return path


def swaks(port, helo, to, frm="sender@client.example.org", tls=None, protocol=None,
          cipher=None, suites=None, groups=None, cert=None, key=None,
          quit_after=None, tmpdir="/tmp", timeout=30):
    """One swaks session. tls: None (plaintext), "starttls" or "implicit".
    suites/groups: TLS 1.3 cipher suites and key-exchange groups, set through
    an OPENSSL_CONF file (swaks' --tls-cipher only covers TLS <= 1.2).
    Returns dict(tls_protocol, tls_cipher, queued)."""
    cmd = ["swaks", "--server", "%s:%d" % (HOST, port), "--helo", helo,
           "--from", frm, "--to", to, "--timeout", str(timeout),
           "--header", "Subject: postfix_tls_exporter e2e"]
    env = dict(os.environ)
    if tls == "starttls":
        cmd.append("--tls")
    elif tls == "implicit":
        cmd.append("--tls-on-connect")
    if protocol:
        cmd += ["--tls-protocol", protocol]
    if cipher:
        cmd += ["--tls-cipher", cipher]
    if cert:
        cmd += ["--tls-cert", cert, "--tls-key", key]
    if quit_after:
        cmd += ["--quit-after", quit_after]
    conf = []
    if suites:
        conf.append("Ciphersuites = " + suites)
    if groups:
        conf.append("Groups = " + groups)
    if conf:
        env["OPENSSL_CONF"] = _openssl_conf(tmpdir, "%s-%s" % (suites, groups), conf)
    r = subprocess.run(cmd, env=env, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout + 30)
    out = r.stdout
    m = re.search(r"^=== TLS started with cipher (\S+?):(\S+?):\d+", out, re.M)
    res = {"tls_protocol": m.group(1) if m else None,
           "tls_cipher": m.group(2) if m else None,
           "queued": bool(re.search(r"^<[-~]\s+250 2\.0\.0 Ok: queued as", out, re.M)),
           "output": out}
    if tls and not m:
        raise ClientError("swaks: no TLS session:\n" + out)
    if not quit_after and not res["queued"]:
        raise ClientError("swaks: message not accepted:\n" + out)
    return res


def s_client(port, args, name="client.example.net", env_extra=None, timeout=30):
    """openssl s_client -starttls smtp ... with QUIT on stdin.
    Returns dict(tls_protocol, tls_cipher) as s_client reports it
    (None, None when no session was established)."""
    cmd = ["openssl", "s_client", "-starttls", "smtp", "-connect", "%s:%d" % (HOST, port),
           "-name", name] + list(args)
    env = dict(os.environ)
    env.update(env_extra or {})
    r = subprocess.run(cmd, input="QUIT\r\n", env=env, text=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout)
    out = r.stdout
    m = re.search(r"^New, (TLSv[\d.]+), Cipher is (\S+)", out, re.M)
    if m:
        return {"tls_protocol": m.group(1), "tls_cipher": m.group(2), "output": out}
    return {"tls_protocol": None, "tls_cipher": None, "output": out}


class Raw:
    """A scripted plaintext SMTP dialogue."""

    def __init__(self, port, timeout=15):
        self.s = socket.create_connection((HOST, port), timeout=timeout)
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                break
            lines.append(l.decode(errors="replace").rstrip("\r\n"))
            if len(l) < 4 or l[3:4] != b"-":
                break
        return lines

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def send(self, data):
        self.s.sendall(data)

    def wait_close(self):
        """Read until the server closes (so its log lines are complete)."""
        try:
            while self.s.recv(4096):
                pass
        except OSError:
            pass

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def expect_code(reply, code):
    if not reply or not reply[-1].startswith(code):
        raise ClientError("expected %s, got %r" % (code, reply))

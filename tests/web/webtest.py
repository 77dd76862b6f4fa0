"""webtest - shared helpers of the tests/web integration tests.

Starts the real daemon on 127.0.0.1 (ports 19800-19899), makes a throw-away
PKI with openssl, bcrypt hashes with libcrypt, and drives requests through
the real curl binary. Python standard library only.

Every test takes its own port range so meson can run them in parallel:
  19800 https-auth   19810 client-cert  19820 tls-versions  19830 gzip
  19840 openmetrics  19850 reload       19860 prometheus    19870 slowloris
  19880 endpoints    19890 bench/web/load.sh
"""
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SKIP = 77  # meson's "skipped" exit code

BINARY = os.environ.get("PTE_BINARY", "")
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "postfix-3.7-maillog.log")

# Values checked against the corpus independently of the exporter:
#   grep -c 'postfix/submission/smtpd\[[0-9]*\]: connect from'  -> 19
#   grep -c 'postfix/smtps/smtpd\[[0-9]*\]: connect from'       -> 7
#   wc -l                                                       -> 2267
SUBMISSION_LINE = 'postfix_tls_inbound_connections_total{syslog_name="postfix/submission"} 19'
EXPECTED = {
    'postfix_tls_inbound_connections_total{syslog_name="postfix/submission"}': 19.0,
    'postfix_tls_inbound_connections_total{syslog_name="postfix/smtps"}': 7.0,
    'postfix_tls_exporter_lines_read_total': 2267.0,
}
LINES_IN_CORPUS = 2267

TEXT_CT = "text/plain; version=0.0.4; charset=utf-8"
OM_CT = "application/openmetrics-text; version=1.0.0; charset=utf-8"


class TestFailure(Exception):
    pass


_checks = {"passed": 0, "failed": 0}


def check(cond, what):
    """Record one assertion; raise on failure so the test stops with context."""
    if cond:
        _checks["passed"] += 1
        print(f"ok - {what}", flush=True)
        return
    _checks["failed"] += 1
    print(f"not ok - {what}", flush=True)
    e = TestFailure(what)
    e.reported = True
    raise e


def soft_check(cond, what):
    """Like check() but keeps going, so one run reports every broken feature."""
    if cond:
        _checks["passed"] += 1
        print(f"ok - {what}", flush=True)
    else:
        _checks["failed"] += 1
        print(f"not ok - {what}", flush=True)
    return cond


def require_tools(*tools):
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        print(f"SKIP: missing tools: {' '.join(missing)}", flush=True)
        sys.exit(SKIP)
    if not BINARY or not os.access(BINARY, os.X_OK):
        print("SKIP: PTE_BINARY is not set (run through meson test)", flush=True)
        sys.exit(SKIP)


def main(fn):
    """Run a test body; print the closing 'N passed, N failed' line and exit."""
    rc = 0
    try:
        fn()
    except TestFailure as e:
        if str(e) and not getattr(e, "reported", False):
            _checks["failed"] += 1
            print(f"not ok - {e}", flush=True)
        rc = 1
    except Exception:
        import traceback
        traceback.print_exc()
        _checks["failed"] += 1
        rc = 1
    finally:
        Daemon.stop_all()
    if _checks["failed"]:
        rc = 1
    print(f"{_checks['passed']} passed, {_checks['failed']} failed", flush=True)
    sys.exit(rc)


# ---- files and PKI --------------------------------------------------------

def workdir(name):
    """A temp dir the daemon can still read after dropping to 'nobody' (SIGHUP re-reads files)."""
    d = tempfile.mkdtemp(prefix=f"pte-web-{name}-")
    os.chmod(d, 0o755)
    return d


def write(path, text, mode=0o644):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, path)  # atomic, as an operator's config management would
    return path


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             cwd=d)
    os.chmod(os.path.join(d, f"{name}.key"), 0o644)
    return os.path.join(d, f"{name}.pem")


def make_cert(d, name, ca, usage, key="ec"):
    """Leaf certificate signed by ca; usage is serverAuth or clientAuth."""
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else ["-newkey", "rsa:2048"]
    _openssl("req", "-new", *newkey, "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN={'localhost' if usage == 'serverAuth' else name}", cwd=d)
    ext = os.path.join(d, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        f.write(f"extendedKeyUsage={usage}\n")
        if usage == "serverAuth":
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-days", "2", "-out", f"{name}.pem", "-extfile", ext, cwd=d)
    os.chmod(os.path.join(d, f"{name}.key"), 0o644)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


class Pki:
    """CA, server cert for localhost/127.0.0.1, client certs from this CA and from a stranger CA."""

    def __init__(self, d, server_key="ec"):
        self.dir = d
        self.ca = make_ca(d, "ca")
        self.server_cert, self.server_key = make_cert(d, "server", "ca", "serverAuth", key=server_key)
        self.client_cert, self.client_key = make_cert(d, "client", "ca", "clientAuth")
        self.other_ca = make_ca(d, "otherca")
        self.stranger_cert, self.stranger_key = make_cert(d, "stranger", "otherca", "clientAuth")


# ---- bcrypt through libcrypt (the library the daemon verifies with) -------

_libcrypt = None


def bcrypt(password, cost=5, prefix=b"$2y$"):
    global _libcrypt
    if _libcrypt is None:
        _libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
        _libcrypt.crypt_gensalt.restype = ctypes.c_char_p
        _libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
        _libcrypt.crypt.restype = ctypes.c_char_p
        _libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    setting = _libcrypt.crypt_gensalt(prefix, cost, None, 0)
    h = _libcrypt.crypt(password.encode(), setting)
    if not h or len(h) != 60:
        raise RuntimeError("libcrypt cannot make bcrypt hashes")
    return h.decode()


def web_config(pki=None, users=None, extra_tls="", headers=None):
    """Render an exporter-toolkit web config; paths are relative to the config's dir."""
    out = []
    if pki:
        out.append("tls_server_config:")
        out.append(f"  cert_file: {os.path.basename(pki.server_cert)}")
        out.append(f"  key_file: {os.path.basename(pki.server_key)}")
        out.extend("  " + line for line in extra_tls.splitlines() if line.strip())
    if headers:
        out.append("http_server_config:")
        out.append("  headers:")
        out.extend(f"    {k}: {v}" for k, v in headers.items())
    if users:
        out.append("basic_auth_users:")
        out.extend(f"  {u}: '{h}'" for u, h in users.items())
    return "\n".join(out) + "\n"


# ---- the daemon -----------------------------------------------------------

def port_free(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


class Daemon:
    running = []

    def __init__(self, port, web_config_file=None, args=(), name="daemon", source=CORPUS, extra_ports=()):
        self.port = port
        self.ports = (port,) + tuple(extra_ports)
        self.web_config_file = web_config_file
        self.log_path = os.path.join(tempfile.gettempdir(), f"pte-web-{name}-{port}-{os.getpid()}.log")
        for p in self.ports:
            if not port_free(p):
                raise TestFailure(f"port {p} is busy; another test run is still active?")
        cmd = [BINARY]
        cmd += [f"--web.listen-address=127.0.0.1:{p}" for p in self.ports]
        if source:
            cmd += [f"--source.file={source}", "--source.start=beginning"]
        if web_config_file:
            cmd.append(f"--web.config.file={web_config_file}")
        if os.geteuid() == 0:
            cmd.append("--user=nobody")  # the daemon refuses to serve as root
        cmd += list(args)
        self.cmd = cmd
        self.logf = open(self.log_path, "w")
        print("# starting: " + " ".join(cmd), flush=True)
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        Daemon.running.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        self.logf.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_listening(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise TestFailure(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TestFailure(f"daemon did not listen on {self.port} within {timeout}s:\n{self.log()}")

    def wait_ingested(self, curl_args=(), scheme="http", timeout=20, lines=LINES_IN_CORPUS):
        """Poll /metrics until the whole corpus has been read."""
        self.wait_listening()
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            r = curl(f"{scheme}://localhost:{self.port}/metrics", *curl_args)
            last = r
            if r.status == 200:
                v = sample_value(r.text, "postfix_tls_exporter_lines_read_total")
                if v is not None and v >= lines:
                    return r
            time.sleep(0.1)
        raise TestFailure(f"corpus not ingested within {timeout}s; last response {last}\n{self.log()}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        if self in Daemon.running:
            Daemon.running.remove(self)
        return self.proc.returncode

    @classmethod
    def stop_all(cls):
        for d in list(cls.running):
            d.stop()


# ---- curl -----------------------------------------------------------------

class Response:
    def __init__(self, rc, status, headers, body, stderr, time_total):
        self.rc = rc
        self.status = status
        self.headers = headers  # list of (lower-case name, value) of the last response
        self.body = body
        self.stderr = stderr
        self.time_total = time_total

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def header(self, name):
        vals = [v for k, v in self.headers if k == name.lower()]
        return vals[-1] if vals else None

    def __repr__(self):
        return f"<curl rc={self.rc} status={self.status} stderr={self.stderr.strip()[-300:]!r}>"


def curl(url, *args, timeout=10):
    """One request through the real curl; never raises on HTTP or TLS errors."""
    with tempfile.TemporaryDirectory() as t:
        body, hdrs = os.path.join(t, "body"), os.path.join(t, "headers")
        cmd = ["curl", "-sS", "--max-time", str(timeout), "-o", body, "-D", hdrs,
               "-w", "%{http_code} %{time_total}", *args, url]
        p = subprocess.run(cmd, capture_output=True)
        out = p.stdout.decode().split()
        status = int(out[0]) if out else 0
        tt = float(out[1]) if len(out) > 1 else 0.0
        headers = []
        if os.path.exists(hdrs):
            with open(hdrs, "rb") as f:
                blocks = f.read().decode("latin-1").split("\r\n\r\n")
            blocks = [b for b in blocks if b.strip()]
            if blocks:
                for line in blocks[-1].split("\r\n")[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers.append((k.strip().lower(), v.strip()))
        data = b""
        if os.path.exists(body):
            with open(body, "rb") as f:
                data = f.read()
        return Response(p.returncode, status, headers, data, p.stderr.decode(errors="replace"), tt)


def sample_value(text, series):
    """Value of one series ('name{labels}' exactly as exposed) in a text exposition."""
    prefix = series + " "
    for line in text.splitlines():
        if line.startswith(prefix):
            try:
                return float(line[len(prefix):].split()[0])
            except ValueError:
                return None
    return None


def check_expected_values(text, what):
    for series, want in EXPECTED.items():
        got = sample_value(text, series)
        check(got == want, f"{what}: {series} == {want:g} (got {got})")


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def url_quote(s):
    return urllib.parse.quote(s, safe="")

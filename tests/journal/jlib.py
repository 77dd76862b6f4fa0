"""Helpers for the journal-source tests: journal export format, real journal
files written by systemd-journal-remote, the exporter as a subprocess, and
the Prometheus text format.

Standard library only. Every process started here is tracked and killed by
cleanup(), which the tests call from a finally block.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")  # see tests/data/README.md
BINARY = os.environ.get("PTE_BINARY", "")
EXPORT_FILE = os.path.join(CORPUS, "postfix.journal-export.txt")
MAILLOG = os.path.join(CORPUS, "postfix-3.7-maillog.log")
CORPUS_ENTRIES = 2267

# Families that describe the exporter process or the source itself rather
# than the log: they legitimately differ between two runs or two sources.
HEALTH_FAMILIES = {
    "postfix_tls_exporter_source_up",
    "postfix_tls_exporter_journal_entries_read_total",
}
PROCESS_PREFIX = "process_"

_procs = []

# As root (CI) the daemon must drop privileges (--user); it then reads the
# journal files as nobody, so journal-remote writes them as nobody too.
AS_ROOT = os.geteuid() == 0
RUN_AS = "nobody" if AS_ROOT else None


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    cleanup()
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def journal_remote():
    for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"):
        if os.access(p, os.X_OK):
            return p
    return None


def require_tools(remote=True):
    """Exit 77 (meson: skipped) when a prerequisite is missing."""
    if not BINARY or not os.access(BINARY, os.X_OK):
        print("SKIP: exporter binary not built", file=sys.stderr)
        sys.exit(77)
    if remote and not journal_remote():
        print("SKIP: systemd-journal-remote not installed (apt-get install systemd-journal-remote)",
              file=sys.stderr)
        sys.exit(77)


# --- journal export format ---------------------------------------------------

def read_export(path=EXPORT_FILE):
    """Parse a journal export stream into [[(key, value-bytes), ...], ...]."""
    data = open(path, "rb").read()
    entries, cur, i, n = [], [], 0, len(data)
    while i < n:
        if data[i:i + 1] == b"\n":
            if cur:
                entries.append(cur)
            cur = []
            i += 1
            continue
        nl = data.index(b"\n", i)
        line = data[i:nl]
        eq = line.find(b"=")
        if eq >= 0:
            cur.append((line[:eq].decode(), line[eq + 1:]))
            i = nl + 1
        else:
            size = int.from_bytes(data[nl + 1:nl + 9], "little")
            cur.append((line.decode(), data[nl + 9:nl + 9 + size]))
            i = nl + 9 + size + 1
    if cur:
        entries.append(cur)
    return entries


def export_bytes(entries):
    out = bytearray()
    for ent in entries:
        for k, v in ent:
            if b"\n" in v or any(c < 0x20 and c != 0x09 for c in v):
                out += k.encode() + b"\n" + len(v).to_bytes(8, "little") + v + b"\n"
            else:
                out += k.encode() + b"=" + v + b"\n"
        out += b"\n"
    return bytes(out)


def field(ent, key):
    for k, v in ent:
        if k == key:
            return v
    return None


def set_field(ent, key, value):
    return [(k, value if k == key else v) for k, v in ent]


def shifted_to_recent(entries, margin_s=120):
    """Move __REALTIME_TIMESTAMP so the last entry is margin_s before now:
    a resume from a saved cursor must not trip --source.journal.max-resume-age
    whatever day the test runs. Relative times (session expiry) are kept."""
    rts = [int(field(e, "__REALTIME_TIMESTAMP")) for e in entries]
    delta = int(time.time() * 1e6) - margin_s * 1000000 - max(rts)
    return [set_field(e, "__REALTIME_TIMESTAMP", str(rt + delta).encode()) for e, rt in zip(entries, rts)]


def write_journal(path, entries, legacy=False):
    """Write entries to a new journal file in one go (journal-remote exits)."""
    env = dict(os.environ)
    args = [journal_remote(), "--output=" + path, "--split-mode=none"]
    if legacy:
        env.update(SYSTEMD_JOURNAL_COMPACT="0", SYSTEMD_JOURNAL_KEYED_HASH="0")
        args.append("--compress=no")
    p = subprocess.run(args + ["-"], input=export_bytes(entries), capture_output=True, env=env, timeout=60,
                       user=RUN_AS)
    check(p.returncode == 0, "journal-remote failed: %s" % p.stderr.decode(errors="replace")[-500:])


class RemoteWriter:
    """A systemd-journal-remote that stays up and appends what we feed it,
    like journald appending to the active file."""

    def __init__(self, path):
        self.path = path
        self.p = subprocess.Popen([journal_remote(), "--output=" + path, "--split-mode=none", "-"],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  user=RUN_AS)
        _procs.append(self.p)

    def feed(self, entries):
        self.p.stdin.write(export_bytes(entries))
        self.p.stdin.flush()

    def close(self):
        """EOF: journal-remote writes the rest, marks the file offline, exits."""
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("journal-remote did not exit")
        err = self.p.stderr.read().decode(errors="replace")
        check(rc == 0, "journal-remote exit %d: %s" % (rc, err[-500:]))
        _procs.remove(self.p)


# --- Prometheus text format --------------------------------------------------

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+\S+)?$")


def parse_metrics(text):
    """{family: {"type": t, "samples": {"name{labels}": float}}}"""
    fams, cur = {}, None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, cur, typ = line.split(None, 3)
            fams.setdefault(cur, {"type": typ, "samples": {}})
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            fail("unparsable exposition line: %r" % line)
        name, labels, val = m.group(1), m.group(2) or "", float(m.group(3))
        fam = cur if cur and (name == cur or name.startswith(cur + "_")) else name
        fams.setdefault(fam, {"type": "untyped", "samples": {}})["samples"][name + labels] = val
    return fams


def value(fams, family, labels=""):
    f = fams.get(family)
    if not f:
        return None
    return f["samples"].get(family + labels)


def comparable(name):
    return name not in HEALTH_FAMILIES and not name.startswith(PROCESS_PREFIX)


def diff_families(a, b, skip=()):
    """Human-readable differences between two parsed expositions."""
    out = []
    for name in sorted(set(a) | set(b)):
        if not comparable(name) or name in skip:
            continue
        sa = a.get(name, {}).get("samples", {})
        sb = b.get(name, {}).get("samples", {})
        if sa != sb:
            keys = sorted(set(sa) | set(sb))
            bad = ["%s: %s != %s" % (k, sa.get(k), sb.get(k)) for k in keys if sa.get(k) != sb.get(k)]
            out.append("%s:\n    %s" % (name, "\n    ".join(bad[:10])))
    return out


# --- the exporter ------------------------------------------------------------

def run_once(args, env_extra=None, timeout=120):
    env = dict(os.environ, TZ="UTC")
    if env_extra:
        env.update(env_extra)
    p = subprocess.run([BINARY, "--once"] + args, capture_output=True, env=env, timeout=timeout)
    check(p.returncode == 0, "exporter --once %s exited %d: %s" % (args, p.returncode,
                                                                 p.stderr.decode(errors="replace")[-2000:]))
    return parse_metrics(p.stdout.decode()), p.stderr.decode(errors="replace")


def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # as the daemon (libmicrohttpd) binds: connections of an earlier daemon
    # in TIME_WAIT must not make the port look taken
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Daemon:
    """The exporter following a journal; listens on 127.0.0.1:port."""

    def __init__(self, args, ports, logfile):
        self.args, self.ports, self.logfile = args, ports, logfile
        self.p = None

    def start(self):
        for port in self.ports:
            if not port_free(port):
                continue
            self.port = port
            self.log = open(self.logfile, "ab")
            env = dict(os.environ, TZ="UTC")
            user = ["--user=" + RUN_AS] if RUN_AS else []
            self.p = subprocess.Popen([BINARY, "--web.listen-address=127.0.0.1:%d" % port] + user + self.args,
                                      stdout=self.log, stderr=self.log, env=env)
            _procs.append(self.p)
            deadline = time.time() + 15
            while time.time() < deadline:
                if self.p.poll() is not None:
                    break
                try:
                    self.scrape()
                    return self
                except OSError:
                    time.sleep(0.05)
            if self.p.poll() is None:
                fail("exporter on port %d never answered; log:\n%s" % (port, self.read_log()))
            _procs.remove(self.p)
            # lost a race for the port? try the next one
            if b"bind" not in open(self.logfile, "rb").read().lower():
                fail("exporter exited %d; log:\n%s" % (self.p.returncode, self.read_log()))
        fail("no free port in %s" % (self.ports,))

    def scrape(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=5) as r:
            return parse_metrics(r.read().decode())

    def wait_for(self, family, want, timeout=20, labels=""):
        """Scrape until family == want; fail with the last value on timeout."""
        deadline, got = time.time() + timeout, None
        while time.time() < deadline:
            if self.p.poll() is not None:
                fail("exporter died (%d); log:\n%s" % (self.p.returncode, self.read_log()))
            fams = self.scrape()
            got = value(fams, family, labels)
            if got == want:
                return fams
            time.sleep(0.05)
        fail("%s%s: want %s, got %s after %ss; log:\n%s" % (family, labels, want, got, timeout, self.read_log()))

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            fail("exporter ignored signal %d" % sig)
        _procs.remove(self.p)
        self.log.close()
        return rc

    def read_log(self):
        try:
            return open(self.logfile, "rb").read().decode(errors="replace")[-4000:]
        except OSError:
            return ""


def cleanup():
    for p in list(_procs):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        _procs.remove(p)


def tmpdir(name):
    d = tempfile.mkdtemp(prefix="pte-journal-%s-" % name)
    if AS_ROOT:
        os.chmod(d, 0o755)
    return d


def workdir(parent, name):
    """A directory the daemon and journal-remote may write (as RUN_AS)."""
    d = os.path.join(parent, name)
    os.mkdir(d)
    if RUN_AS:
        shutil.chown(d, RUN_AS)
    return d


def rmtree(d):
    shutil.rmtree(d, ignore_errors=True)

#!/usr/bin/env python3
"""test_file_follow.py - the real daemon following a real file, scraped with curl.

DESCRIPTION
	Starts the built postfix_tls_exporter on 127.0.0.1 (ports 19500-19599)
	with --source.file pointing into a private temporary directory, writes
	Postfix log lines into that file the way Postfix, logrotate and admins
	do, and after every step scrapes /metrics with the curl binary and
	compares the exporter's counters with a model of what was written.
	Comparison is exact, series by series, for every family the model
	tracks: a line lost or counted twice fails the step.

	The session lines are taken verbatim from the corpus
	(postfix-3.7-maillog.log): one STARTTLS session with a TLS 1.3
	handshake and one plaintext session, both accepting mail; only the
	timestamp and the PID are rewritten, so each written session is a new
	one.

	Steps (each one asserts exact counts):
	  start-end        --source.start=end skips what the file holds
	  append           complete sessions, several writes
	  split            half a line is not counted until its newline arrives;
	                   a line without its newline; a line written byte by byte
	  rename           mv PATH PATH.1, the writer keeps appending to PATH.1,
	                   then PATH is created and appended to (twice)
	  copytruncate     cp PATH PATH.1, truncate PATH, append
	  delete           rm PATH, re-create it
	  oversized        a line of max+1 bytes (in one write and in pieces) is
	                   counted in oversized_lines_total and not parsed; a line
	                   of exactly max bytes is read
	  malformed        no syslog header -> malformed_lines_total; an empty
	                   line is read but is not malformed
	  unrecognized     a TLS wording no rule knows -> unrecognized_lines_total
	  http             GET /, HEAD, POST (405 + Allow), 404, /-/healthy,
	                   /-/ready, gzip equals plain
	  sigterm          exit status 0
	  missing          the file does not exist at start, appears later
	  beginning        --source.start=beginning reads existing content
	  twice            the file named twice and through a symlink is
	                   followed once
	  fifo             a named pipe (rsyslog's ompipe writes one): what two
	                   writers, one after the other, write is read once,
	                   and the pipe is not taken for a truncated file
	  state            --state.directory: restart resumes without double
	                   counting, also across a partial line and a rename
	                   rotation made while the daemon was down
	  promtool         promtool check metrics on a scrape of the whole corpus
	  state-oversized  restart in the middle of an oversized line: it counts
	                   once, as oversized
	  rename-race      (strace) lines the writer appends to PATH.1 while the
	                   daemon is inside its stat() of PATH are still read
	  scrape-ingest    scrapes keep answering while a 300000-line generated
	                   log (then a second copy appended) is ingested; the
	                   final lines_read equals the number of lines written

	The groups (one daemon or a few each: follow, missing, beginning,
	twice, fifo, state, promtool, scrape-ingest, rename-race, state-oversized) are
	independent: a
	failing group is reported with its daemons' stderr, and the next
	group still runs.

USAGE
	test_file_follow.py [BINARY]	(or PTE_BINARY)
	PTE_TIME_FACTOR=N scales every timeout (sanitizer or valgrind builds).

	When run as root the daemon is started with --user=nobody, as it
	refuses to serve as root; the temporary directory is made traversable
	for that user.
"""
import collections
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("PTE_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "..", "data", "postfix-3.7-maillog.log")
# the benchmark log generator, bench/genlog.py
GENLOG = os.path.join(SOURCE_ROOT, "bench", "genlog.py")
TIME_FACTOR = float(os.environ.get("PTE_TIME_FACTOR", "1"))
MAX_LINE = 8192  # the daemon's default --source.max-line-length
PORTS = range(19500, 19600)
SETTLE = 0.3  # after the expected count is reached: nothing more may arrive

# The families compared exactly after every step. Series absent from the
# scrape count as 0.
TRACKED = (
	"postfix_tls_inbound_connections_total",
	"postfix_tls_inbound_sessions_total",
	"postfix_tls_inbound_handshakes_total",
	"postfix_tls_inbound_tls_failures_total",
	"postfix_tls_outbound_handshakes_total",
	"postfix_tls_outbound_deliveries_total",
	"postfix_tls_exporter_lines_read_total",
	"postfix_tls_exporter_malformed_lines_total",
	"postfix_tls_exporter_oversized_lines_total",
	"postfix_tls_exporter_unrecognized_lines_total",
	"postfix_tls_exporter_sessions_open",
	"postfix_tls_exporter_sessions_expired_total",
)
LINES = "postfix_tls_exporter_lines_read_total"


class Failure(Exception):
	pass


def log(msg):
	print(msg, flush=True)


# ---------------------------------------------------------------- exposition

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_metrics(text):
	"""{(name, ((label, value), ...)): float} from text format 0.0.4."""
	out = {}
	for line in text.splitlines():
		if not line or line.startswith("#"):
			continue
		m = _SAMPLE.match(line)
		if not m:
			raise Failure("unparsable exposition line %r" % line)
		labels, pos, body = [], 0, m.group(2) or ""
		while pos < len(body):
			lm = _LABEL.match(body, pos)
			if not lm:
				raise Failure("unparsable labels in %r" % line)
			labels.append((lm.group(1), re.sub(r"\\(.)", r"\1", lm.group(2))))
			pos = lm.end()
		key = (m.group(1), tuple(sorted(labels)))
		if key in out:
			raise Failure("duplicate series %r" % line)
		out[key] = float(m.group(3))
	return out


def fmt_key(key):
	name, labels = key
	if not labels:
		return name
	return "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in labels))


# ------------------------------------------------------------------- curl

def curl(args, timeout=10):
	"""Run curl; return (returncode, stdout bytes, stderr text)."""
	p = subprocess.run(["curl", "-sS"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
			   timeout=timeout * TIME_FACTOR)
	return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def http(port, path, *extra):
	"""One request; return (status, headers {lower-name: value}, body)."""
	with tempfile.NamedTemporaryFile() as hdr:
		rc, body, err = curl(["--max-time", str(5 * TIME_FACTOR), "-D", hdr.name] + list(extra) +
				     ["http://127.0.0.1:%d%s" % (port, path)])
		if rc != 0:
			raise Failure("curl %s %s: rc %d: %s" % (" ".join(extra), path, rc, err.strip()))
		raw = open(hdr.name, "rb").read().decode("latin-1")
	lines = raw.split("\r\n")
	status = int(lines[0].split()[1])
	headers = {}
	for h in lines[1:]:
		if ":" in h:
			k, v = h.split(":", 1)
			headers[k.strip().lower()] = v.strip()
	return status, headers, body


# ---------------------------------------------------------------- daemons

_used_ports = set()
_daemons = []


def free_port():
	for p in PORTS:
		if p in _used_ports:
			continue
		s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		try:
			s.bind(("127.0.0.1", p))
		except OSError:
			continue
		finally:
			s.close()
		_used_ports.add(p)
		return p
	raise Failure("no free port in 19500-19599")


class Daemon:
	def __init__(self, ctx, name, args):
		self.ctx = ctx
		self.name = name
		self.args = args
		self.logpath = os.path.join(ctx.dir, "%s.stderr" % name)
		self.proc = None

	def start(self):
		"""Start and wait for /-/ready. A port taken by someone else between
		free_port() and the bind is retried on the next free port."""
		for _ in range(3):
			self.port = free_port()
			self.argv = [self.ctx.binary] + self.args + ["--web.listen-address=127.0.0.1:%d" % self.port,
								     "--log.level=debug"]
			if os.geteuid() == 0:
				self.argv.append("--user=nobody")
			if self._start_once():
				return self
		raise Failure("%s: no port could be bound:\n%s" % (self.name, self.stderr()))

	def _start_once(self):
		logf = open(self.logpath, "ab")
		self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
		logf.close()
		_daemons.append(self)
		deadline = time.monotonic() + 10 * TIME_FACTOR
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				if "Address already in use" in self.stderr():
					return False
				raise Failure("%s exited with %d at start-up:\n%s" % (self.name, self.proc.returncode,
										  self.stderr()))
			rc, out, _ = curl(["-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
					   "http://127.0.0.1:%d/-/ready" % self.port])
			if rc == 0 and out == b"200":
				return True
			time.sleep(0.05)
		raise Failure("%s: not ready after 10 s" % self.name)

	def stderr(self):
		try:
			return open(self.logpath, errors="replace").read()
		except OSError:
			return ""

	def scrape_text(self):
		rc, out, err = curl(["--fail", "--max-time", str(5 * TIME_FACTOR),
				     "http://127.0.0.1:%d/metrics" % self.port])
		if rc != 0:
			raise Failure("%s: scrape failed (curl rc %d): %s" % (self.name, rc, err.strip()))
		return out.decode()

	def scrape(self):
		return parse_metrics(self.scrape_text())

	def stop(self, timeout=10):
		"""SIGTERM; return the exit status."""
		self.proc.send_signal(signal.SIGTERM)
		try:
			return self.proc.wait(timeout * TIME_FACTOR)
		except subprocess.TimeoutExpired:
			raise Failure("%s: still running %d s after SIGTERM" % (self.name, timeout))

	def kill(self):
		if self.proc and self.proc.poll() is None:
			self.proc.kill()
			self.proc.wait()


# ------------------------------------------------------------- log model

HDR = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\[:\s]+)\[(\d+)\]: (.*)$")
TLS_LINE = re.compile(r"^(\w+) TLS connection established from \S+: (\S+) with cipher (\S+) "
		      r"\(\d+/\d+ bits\) key-exchange (\S+)")


class Template:
	"""One complete smtpd session from the corpus (Model.session() turns it
	into new log lines and the counts they must produce)."""

	def __init__(self, kind, first, last, lines):
		self.kind = kind
		self.first, self.last = first, last  # corpus line numbers, 1-based
		self.lines = lines  # [(host, prog, msg, is_session_line)]


def load_templates():
	"""Pick, from the corpus, the first STARTTLS+TLS 1.3 (X25519) session that
	accepted mail and the first plaintext session that accepted mail. A
	session is the lines of one postfix/smtpd PID from "connect from" to
	"disconnect from", plus the cleanup lines logged in between."""
	with open(CORPUS) as f:
		corpus = f.read().splitlines()
	open_sessions = {}
	found = {}
	for i, line in enumerate(corpus):
		m = HDR.match(line)
		if not m:
			continue
		_, host, prog, pid, msg = m.groups()
		if prog != "postfix/smtpd":
			continue
		if msg.startswith("connect from "):
			open_sessions[pid] = [i]
			continue
		if pid not in open_sessions:
			continue
		open_sessions[pid].append(i)
		if not msg.startswith("disconnect from "):
			continue
		idx = open_sessions.pop(pid)
		msgs = [HDR.match(corpus[j]).group(5) for j in idx]
		kinds = set()
		for s in msgs:
			if s.startswith("connect from "):
				kinds.add("connect")
			elif s.startswith("disconnect from "):
				kinds.add("disconnect")
			elif re.match(r"^[0-9A-F]+: client=", s):
				kinds.add("client")
			elif TLS_LINE.match(s) and " key-exchange X25519 " in s:
				kinds.add("tls")
			else:
				kinds.add("other")
		if "other" in kinds or len(idx) != len(kinds):
			continue
		disc = msgs[-1]
		if " mail=1 " not in disc:
			continue
		if "tls" in kinds and " starttls=1 " in disc:
			kind = "tls"
		elif "tls" not in kinds and "starttls" not in disc:
			kind = "plain"
		else:
			continue
		if kind in found:
			continue
		lines = []
		for j in range(idx[0], idx[-1] + 1):
			mm = HDR.match(corpus[j])
			if not mm:
				continue
			if j in idx:
				lines.append((mm.group(2), mm.group(3), mm.group(5), True))
			elif mm.group(3) == "postfix/cleanup":
				lines.append((mm.group(2), mm.group(3), mm.group(5), False))
		found[kind] = Template(kind, idx[0] + 1, idx[-1] + 1, lines)
		if len(found) == 2:
			break
	if set(found) != {"tls", "plain"}:
		raise Failure("corpus: could not find both session templates (found %s)" % sorted(found))
	for t in found.values():
		log("# template %s: corpus lines %d-%d, %d lines" % (t.kind, t.first, t.last, len(t.lines)))
	return found


class Model:
	"""What the exporter must report, built from what the test wrote."""

	def __init__(self, templates):
		self.t = templates
		self.c = collections.Counter()
		self.pid = 30000
		self.clock = 0

	def _ts(self):
		self.clock += 1
		s = self.clock
		return "Nov 28 %02d:%02d:%02d" % (10 + s // 3600, s // 60 % 60, s % 60)

	def add(self, name, labels=(), n=1):
		self.c[(name, tuple(sorted(labels)))] += n

	def count_lines(self, data):
		self.add(LINES, n=data.count(b"\n"))

	def session(self, kind, count=True):
		"""Bytes of one new session; when count, its effect is added to the model."""
		self.pid += 2
		ts = self._ts()
		out = []
		for host, prog, msg, own in self.t[kind].lines:
			pid = self.pid if own else self.pid + 1
			out.append("%s %s %s[%d]: %s\n" % (ts, host, prog, pid, msg))
			if not count:
				continue
			m = TLS_LINE.match(msg) if own else None
			if m:
				self.add("postfix_tls_inbound_handshakes_total",
					 (("syslog_name", "postfix"), ("trust", m.group(1).lower()),
					  ("protocol", m.group(2)), ("cipher", m.group(3)),
					  ("key_exchange", m.group(4).lower())))
		if count:
			self.add("postfix_tls_inbound_connections_total", (("syslog_name", "postfix"),))
			self.add("postfix_tls_inbound_sessions_total",
				 (("syslog_name", "postfix"), ("encryption", "tls" if kind == "tls" else "plaintext"),
				  ("mail", "true")))
			self.add(LINES, n=len(out))
		return "".join(out).encode()

	def sessions(self, n_tls, n_plain, count=True):
		data = b""
		for i in range(max(n_tls, n_plain)):
			if i < n_tls:
				data += self.session("tls", count)
			if i < n_plain:
				data += self.session("plain", count)
		return data

	def noise_line(self, length=None, count=True):
		"""A cleanup line (read, never parsed into a metric) of the given length with newline excluded."""
		self.pid += 2
		head = "%s mx1 postfix/cleanup[%d]: 0123456789AB: message-id=<" % (self._ts(), self.pid)
		tail = "@integration.test>"
		body = head + "x" * max(0, (length or 0) - len(head) - len(tail)) + tail
		if length is not None:
			assert len(body) == length, (len(body), length)
		if count:
			self.add(LINES)
		return (body + "\n").encode()

	def smtpd_line(self, msg):
		self.pid += 2
		return ("%s mx1 postfix/smtpd[%d]: %s\n" % (self._ts(), self.pid, msg)).encode()

	def expected(self):
		return {k: v for k, v in self.c.items() if v}


# ------------------------------------------------------------- harness

class Ctx:
	def __init__(self, binary, tmpdir):
		self.binary = binary
		self.dir = tmpdir
		self.templates = load_templates()
		self.steps = 0


def append(path, data):
	"""One write(2) of data at the end of path (created if missing)."""
	fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
	try:
		n = os.write(fd, data)
		assert n == len(data)
	finally:
		os.close(fd)


def tracked(scrape):
	return {k: v for k, v in scrape.items() if k[0] in TRACKED and v}


def check(ctx, d, model, step, extra=None):
	"""Wait until the daemon has read the lines the model expects, let it
	settle, then compare every tracked series exactly."""
	want = model.expected()
	want_lines = want.get((LINES, ()), 0)
	deadline = time.monotonic() + 10 * TIME_FACTOR
	while True:
		got = d.scrape()
		n = got.get((LINES, ()), 0)
		if n > want_lines:
			break  # doubled: report below without waiting
		if n == want_lines:
			time.sleep(SETTLE)
			got = d.scrape()
			break
		if time.monotonic() > deadline:
			break
		time.sleep(0.02)
	have = tracked(got)
	if have != want:
		diff = []
		for k in sorted(set(have) | set(want)):
			if have.get(k, 0) != want.get(k, 0):
				diff.append("  %s: expected %g, got %g" % (fmt_key(k), want.get(k, 0), have.get(k, 0)))
		raise Failure("step %s: counts differ:\n%s" % (step, "\n".join(diff)))
	for k, v in (extra or {}).items():
		if got.get(k, 0) != v:
			raise Failure("step %s: %s: expected %g, got %g" % (step, fmt_key(k), v, got.get(k, 0)))
	ctx.steps += 1
	log("ok %d - %s (lines_read %d)" % (ctx.steps, step, want_lines))
	return got


# ------------------------------------------------------------- the steps

def test_follow(ctx):
	"""One daemon, default --source.start=end, through append, split
	writes, rotations, oversized/malformed/unrecognized lines, HTTP and
	SIGTERM."""
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "mail.log")
	append(path, m.sessions(3, 3, count=False))  # existing content: skipped
	d = Daemon(ctx, "follow", ["--source.file=" + path]).start()
	check(ctx, d, m, "start-end: existing content is skipped")

	for _ in range(3):
		append(path, m.sessions(2, 1))
	check(ctx, d, m, "append: 6 tls + 3 plaintext sessions in 3 writes")

	# Split writes. A half line must not be parsed: the first half of a
	# disconnect line would itself look like a complete disconnect.
	def withhold_disconnect(kind, n):
		"""Take the session's last line (its disconnect) out of the model (n=-1) or put it back (n=1)."""
		enc = "tls" if kind == "tls" else "plaintext"
		m.add(LINES, n=n)
		m.add("postfix_tls_inbound_sessions_total",
		      (("syslog_name", "postfix"), ("encryption", enc), ("mail", "true")), n)
		m.add("postfix_tls_exporter_sessions_open", n=-n)  # connect seen, disconnect not yet

	s = m.session("tls")
	cut = s.rindex(b"disconnect from ") + len(b"disconnect from localhost[127.0.0.1] ehlo=2 star")
	append(path, s[:cut])
	withhold_disconnect("tls", -1)
	check(ctx, d, m, "split: half a disconnect line is not counted")
	append(path, s[cut:])
	withhold_disconnect("tls", 1)
	check(ctx, d, m, "split: the rest of the line is counted once")

	s = m.session("plain")
	append(path, s[:-1])
	withhold_disconnect("plain", -1)
	check(ctx, d, m, "split: a line without its newline is not counted")
	append(path, b"\n")
	withhold_disconnect("plain", 1)
	check(ctx, d, m, "split: the lone newline completes it")

	s = m.session("tls")
	first = s.index(b"\n") + 1  # the connect line, dribbled
	for i in range(0, first, 7):
		append(path, s[i:min(i + 7, first)])
		time.sleep(0.005)
	append(path, s[first:])
	check(ctx, d, m, "split: a line written 7 bytes at a time")

	# Rename rotation, as logrotate without copytruncate: the writer keeps
	# its descriptor on PATH.1 until it is told to reopen.
	for rnd in (1, 2):
		os.rename(path, path + ".1")
		append(path + ".1", m.sessions(1, 1))
		check(ctx, d, m, "rename %d: lines appended to the renamed file are read" % rnd)
		append(path + ".1", m.sessions(1, 0))
		append(path, m.sessions(1, 1))  # the new file, created right away
		check(ctx, d, m, "rename %d: old file finished, new file read from its start" % rnd)
		append(path, m.sessions(2, 1))
		check(ctx, d, m, "rename %d: appends to the new file" % rnd)

	# copytruncate: the copy is not followed, the truncated file is re-read from 0.
	shutil.copyfile(path, path + ".1")
	size = os.path.getsize(path)
	with open(path, "r+b") as f:
		f.truncate(0)
	s = m.sessions(1, 0)
	assert len(s) < size, "copytruncate: the test needs fewer new bytes than before"
	append(path, s)
	check(ctx, d, m, "copytruncate: truncated file is read from the start, the copy is not")
	append(path, m.sessions(1, 1))
	check(ctx, d, m, "copytruncate: appends after truncation")

	# Delete and re-create.
	os.unlink(path)
	time.sleep(SETTLE)
	check(ctx, d, m, "delete: nothing read, nothing lost")
	append(path, m.sessions(1, 1))
	check(ctx, d, m, "delete: the re-created file is read from its start")

	# Oversized lines: one in a single write, one in pieces (the partial buffer
	# overflows before the newline), then one of exactly the limit.
	big = m.smtpd_line("connect from " + "h" * MAX_LINE + ".example[192.0.2.9]")
	append(path, big)
	m.add(LINES)
	m.add("postfix_tls_exporter_oversized_lines_total")
	big = m.smtpd_line("connect from " + "g" * (MAX_LINE - 40) + "[192.0.2.9]")
	assert len(big) - 1 > MAX_LINE
	for i in range(0, len(big), 3000):
		append(path, big[i:i + 3000])
		time.sleep(0.01)
	m.add(LINES)
	m.add("postfix_tls_exporter_oversized_lines_total")
	append(path, m.noise_line(MAX_LINE) + m.noise_line(MAX_LINE + 1, count=False))
	m.add(LINES)
	m.add("postfix_tls_exporter_oversized_lines_total")
	append(path, m.sessions(1, 0))  # the line after an oversized one is intact
	check(ctx, d, m, "oversized: max+1 bytes skipped and counted (whole and in pieces), max bytes read")

	append(path, b"this line has no syslog header at all\n\n")
	m.add(LINES, n=2)
	m.add("postfix_tls_exporter_malformed_lines_total")
	check(ctx, d, m, "malformed: header-less line counted, empty line read but not malformed")

	append(path, m.smtpd_line("Anonymous TLS connection negotiated from h[192.0.2.1]: TLSv1.3 with cipher "
				  "TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519"))
	m.add(LINES)
	m.add("postfix_tls_exporter_unrecognized_lines_total", (("daemon", "smtpd"),))
	check(ctx, d, m, "unrecognized: a new TLS wording is counted for smtpd")

	test_http(ctx, d)

	rc = d.stop()
	if rc != 0:
		raise Failure("sigterm: exit status %d, expected 0\n%s" % (rc, d.stderr()))
	ctx.steps += 1
	log("ok %d - sigterm: exit status 0" % ctx.steps)


def test_http(ctx, d):
	p = d.port
	st, h, body = http(p, "/")
	if st != 200 or b'href="/metrics"' not in body:
		raise Failure("http: GET / -> %d, link to /metrics missing" % st)

	st, h, body = http(p, "/metrics", "--head")
	if st != 200 or not h.get("content-type", "").startswith("text/plain; version=0.0.4"):
		raise Failure("http: HEAD /metrics -> %d, content-type %r" % (st, h.get("content-type")))
	# curl --head never reads a body; ask the socket whether one was sent.
	with socket.create_connection(("127.0.0.1", p), timeout=5 * TIME_FACTOR) as s:
		s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		raw = b""
		while True:
			chunk = s.recv(65536)
			if not chunk:
				break
			raw += chunk
	head, _, rest = raw.partition(b"\r\n\r\n")
	if not head.startswith(b"HTTP/1.1 200") or rest:
		raise Failure("http: HEAD /metrics sent %d body bytes" % len(rest))

	st, h, body = http(p, "/metrics", "-X", "POST", "--data", "x")
	if st != 405 or "GET" not in h.get("allow", ""):
		raise Failure("http: POST /metrics -> %d, Allow %r (want 405 and GET)" % (st, h.get("allow")))
	st, h, body = http(p, "/no-such-page")
	if st != 404:
		raise Failure("http: GET /no-such-page -> %d, want 404" % st)
	for path in ("/-/healthy", "/-/ready"):
		st, h, body = http(p, path)
		if st != 200:
			raise Failure("http: GET %s -> %d, want 200" % (path, st))

	def stable(b):  # process_* samples move between two scrapes
		return [l for l in b.decode().splitlines() if not l.startswith("process_")]

	st, h, plain = http(p, "/metrics")
	st2, h2, unzipped = http(p, "/metrics", "--compressed")
	st3, h3, raw = http(p, "/metrics", "-H", "Accept-Encoding: gzip")
	if h.get("content-encoding") or h2.get("content-encoding") != "gzip" or h3.get("content-encoding") != "gzip":
		raise Failure("http: Content-Encoding plain %r, --compressed %r" %
			      (h.get("content-encoding"), h2.get("content-encoding")))
	if stable(plain) != stable(unzipped) or stable(plain) != stable(gzip.decompress(raw)):
		raise Failure("http: the gzip body differs from the plain body")
	ctx.steps += 1
	log("ok %d - http: GET /, HEAD without body, POST 405 + Allow, 404, healthy, ready, gzip == plain"
	    % ctx.steps)


def tracer_pid(pid):
	try:
		with open("/proc/%d/status" % pid) as f:
			return int(re.search(r"^TracerPid:\s*(\d+)", f.read(), re.M).group(1))
	except (OSError, AttributeError):
		return 0


def test_rename_race(ctx):
	"""Rename rotation where the writer appends to PATH.1 while the daemon is
	between its last read of the old file and its stat() of PATH, then
	creates PATH: the old file must still be finished before the switch.
	strace (Debian package strace) delays the daemon's stat-family calls
	by 500 ms to hold that window open; without strace, or when ptrace is
	not permitted, the step is skipped."""
	strace = shutil.which("strace")
	if not strace:
		log("ok %d - rename-race # SKIP strace not found" % (ctx.steps + 1))
		ctx.steps += 1
		return
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "race.log")
	append(path, b"")
	d = Daemon(ctx, "rename-race", ["--source.file=" + path]).start()
	append(path, m.sessions(1, 0))
	check(ctx, d, m, "rename-race: before")
	st = subprocess.Popen([strace, "-q", "-p", str(d.proc.pid), "-o", "/dev/null",
			       "-e", "inject=%stat,%fstat:delay_enter=500000"], stderr=subprocess.PIPE)
	try:
		deadline = time.monotonic() + 5
		while tracer_pid(d.proc.pid) == 0 and st.poll() is None and time.monotonic() < deadline:
			time.sleep(0.02)
		if tracer_pid(d.proc.pid) == 0:
			st.kill()
			log("ok %d - rename-race # SKIP strace could not attach: %s"
			    % (ctx.steps + 1, st.communicate()[1].decode(errors="replace").strip()))
			ctx.steps += 1
			d.stop()
			return
		time.sleep(0.3)
		fd = os.open(path, os.O_WRONLY | os.O_APPEND)
		os.rename(path, path + ".1")
		os.write(fd, m.session("tls"))  # wakes the daemon, which reads, then stat()s PATH
		time.sleep(0.1)                   # ... and is now inside that stat()
		os.write(fd, m.session("plain"))  # the writer has not reopened yet
		os.close(fd)
		append(path, m.session("tls"))   # the writer reopens PATH
		time.sleep(1.5)
	finally:
		st.send_signal(signal.SIGINT)  # detach; the daemon runs on
		try:
			st.wait(5)
		except subprocess.TimeoutExpired:
			st.kill()
			st.wait()
	check(ctx, d, m, "rename-race: lines appended to PATH.1 while the daemon stat()s PATH are read")
	if d.stop() != 0:
		raise Failure("rename-race: exit status %d" % d.proc.returncode)


def test_missing(ctx):
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "late.log")
	up = ("postfix_tls_exporter_source_up", (("source", "file:" + path),))
	d = Daemon(ctx, "missing", ["--source.file=" + path]).start()
	check(ctx, d, m, "missing: the daemon starts without the file", {up: 0})
	append(path, m.sessions(2, 1))
	check(ctx, d, m, "missing: the file appears and is read from its start", {up: 1})
	if d.stop() != 0:
		raise Failure("missing: exit status %d" % d.proc.returncode)


def test_beginning(ctx):
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "begin.log")
	append(path, m.sessions(3, 2))
	d = Daemon(ctx, "beginning", ["--source.file=" + path, "--source.start=beginning"]).start()
	check(ctx, d, m, "beginning: existing content is read")
	append(path, m.sessions(1, 0))
	check(ctx, d, m, "beginning: then followed")
	if d.stop() != 0:
		raise Failure("beginning: exit status %d" % d.proc.returncode)


def test_twice(ctx):
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "twice.log")
	link = os.path.join(ctx.dir, "maillog")
	append(path, b"")
	os.symlink(path, link)
	d = Daemon(ctx, "twice", ["--source.file=" + path, "--source.file=" + link,
				  "--source.file=" + path]).start()
	append(path, m.sessions(2, 1))
	check(ctx, d, m, "twice: a file named twice and through a symlink is read once")
	err = d.stderr()
	if "'%s' is named twice" % path not in err or "'%s' is the same file as '%s'" % (link, path) not in err:
		raise Failure("twice: no warning for the second names:\n%s" % err[-2000:])
	if d.stop() != 0:
		raise Failure("twice: exit status %d" % d.proc.returncode)


def test_fifo(ctx):
	m = Model(ctx.templates)
	path = os.path.join(ctx.dir, "mail.pipe")
	os.mkfifo(path, 0o644)
	d = Daemon(ctx, "fifo", ["--source.file=" + path]).start()
	for writer in (1, 2):
		# open(2) for writing waits for the daemon, which holds the pipe open
		fd = os.open(path, os.O_WRONLY)
		try:
			os.write(fd, m.sessions(2, 1))
			check(ctx, d, m, "fifo: writer %d, first write" % writer)
			os.write(fd, m.sessions(1, 1))
			check(ctx, d, m, "fifo: writer %d, second write" % writer)
		finally:
			os.close(fd)
	if "truncated" in d.stderr():
		raise Failure("fifo: the pipe was taken for a truncated file:\n%s" % d.stderr()[-2000:])
	if d.stop() != 0:
		raise Failure("fifo: exit status %d" % d.proc.returncode)


def test_state(ctx):
	path = os.path.join(ctx.dir, "state.log")
	sdir = os.path.join(ctx.dir, "state")
	os.mkdir(sdir)
	if os.geteuid() == 0:
		os.chown(sdir, 65534, 65534)
	args = ["--source.file=" + path, "--source.start=beginning", "--state.directory=" + sdir]

	def next_model(prev):
		"""The next run only sees what was written after the previous one."""
		m = Model(ctx.templates)
		if prev:
			m.pid, m.clock = prev.pid, prev.clock
		return m

	def stop(d):
		n = d.scrape()[(LINES, ())]
		if d.stop() != 0:
			raise Failure("%s: exit status %d" % (d.name, d.proc.returncode))
		return n

	m1 = next_model(None)
	append(path, m1.sessions(3, 2))
	d = Daemon(ctx, "state-1", args).start()
	check(ctx, d, m1, "state: first run reads the file")
	# A partial line (the connect line of the next session) when it stops.
	m2 = next_model(m1)
	s = m2.session("tls")
	cut = s.index(b"\n") // 2
	append(path, s[:cut])
	check(ctx, d, m1, "state: first run, the partial line is not counted")
	n1 = stop(d)
	if not os.listdir(sdir):
		raise Failure("state: no state file written on SIGTERM")

	append(path, s[cut:])
	append(path, m2.sessions(2, 1))
	d = Daemon(ctx, "state-2", args).start()
	check(ctx, d, m2, "state: restart resumes at the saved offset, the partial line is read once")
	n2 = stop(d)

	# Rotation while the daemon is down: it finishes PATH.1 from the saved
	# offset, then reads the new PATH from its start.
	os.rename(path, path + ".1")
	m3 = next_model(m2)
	append(path + ".1", m3.sessions(1, 1))
	append(path, m3.sessions(2, 0))
	d = Daemon(ctx, "state-3", args).start()
	check(ctx, d, m3, "state: restart across a rename rotation made while down")
	n3 = stop(d)

	with open(path + ".1", "rb") as f1, open(path, "rb") as f2:
		written = f1.read().count(b"\n") + f2.read().count(b"\n")
	if n1 + n2 + n3 != written:
		raise Failure("state: lines_read over three runs %d + %d + %d = %d, lines written %d"
			      % (n1, n2, n3, n1 + n2 + n3, written))
	ctx.steps += 1
	log("ok %d - state: %d + %d + %d lines read over three runs = %d lines written"
	    % (ctx.steps, n1, n2, n3, written))


def test_state_oversized(ctx):
	"""The daemon stops in the middle of an oversized line (it is skipping
	it, the newline has not arrived); the line is completed while it is
	down. After the restart the line must count once, as oversized, and
	its tail must not be read as a line of its own."""
	path = os.path.join(ctx.dir, "state-big.log")
	sdir = os.path.join(ctx.dir, "state-big")
	os.mkdir(sdir)
	if os.geteuid() == 0:
		os.chown(sdir, 65534, 65534)
	args = ["--source.file=" + path, "--source.start=beginning", "--state.directory=" + sdir]
	m1 = Model(ctx.templates)
	append(path, m1.sessions(1, 1))
	d = Daemon(ctx, "state-big-1", args).start()
	big = m1.smtpd_line("connect from " + "h" * (MAX_LINE + 1000) + "[192.0.2.9]")
	append(path, big[:MAX_LINE + 500])  # past the limit: the daemon is skipping
	check(ctx, d, m1, "state-oversized: first run, an unfinished oversized line")
	if d.stop() != 0:
		raise Failure("state-oversized: first run exit status %d" % d.proc.returncode)
	append(path, big[MAX_LINE + 500:])
	m2 = Model(ctx.templates)
	m2.pid, m2.clock = m1.pid, m1.clock
	m2.add(LINES)
	m2.add("postfix_tls_exporter_oversized_lines_total")
	append(path, m2.sessions(1, 0))
	d = Daemon(ctx, "state-big-2", args).start()
	check(ctx, d, m2, "state-oversized: after the restart the line counts once, as oversized")
	if d.stop() != 0:
		raise Failure("state-oversized: second run exit status %d" % d.proc.returncode)


def test_promtool(ctx):
	promtool = shutil.which("promtool")
	if not promtool:
		raise Failure("promtool not found (Debian package 'prometheus')")
	path = os.path.join(ctx.dir, "corpus.log")
	shutil.copyfile(CORPUS, path)
	with open(path, "rb") as f:
		n = f.read().count(b"\n")
	d = Daemon(ctx, "promtool", ["--source.file=" + path, "--source.start=beginning"]).start()
	deadline = time.monotonic() + 10 * TIME_FACTOR
	while d.scrape().get((LINES, ()), 0) != n:
		if time.monotonic() > deadline:
			raise Failure("promtool: corpus not read (%d lines expected)" % n)
		time.sleep(0.05)
	text = d.scrape_text()
	p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), stdout=subprocess.PIPE,
			   stderr=subprocess.STDOUT, timeout=60)
	if p.returncode != 0 or p.stdout:
		raise Failure("promtool check metrics: rc %d:\n%s" % (p.returncode, p.stdout.decode()))
	if d.stop() != 0:
		raise Failure("promtool: exit status %d" % d.proc.returncode)
	ctx.steps += 1
	log("ok %d - promtool check metrics: clean on a scrape of the corpus (%d lines, %d series)"
	    % (ctx.steps, n, len(parse_metrics(text))))


def test_scrape_under_ingest(ctx):
	path = os.path.join(ctx.dir, "gen.log")
	with open(path, "wb") as f:
		subprocess.run([sys.executable, GENLOG, "--lines", "300000", "--hosts", "2000", "--seed", "1"],
			       stdout=f, check=True, timeout=120)
	with open(path, "rb") as f:
		data = f.read()
	n = data.count(b"\n")
	d = Daemon(ctx, "ingest", ["--source.file=" + path, "--source.start=beginning"]).start()
	lat, mid = [], 0
	limit = 1.0 * TIME_FACTOR

	def scrape_until(target, writer=None):
		nonlocal mid
		deadline = time.monotonic() + 60 * TIME_FACTOR
		while True:
			rc, out, err = curl(["--fail", "--max-time", str(5 * TIME_FACTOR), "-w", "\n%{time_total}",
					     "http://127.0.0.1:%d/metrics" % d.port])
			if rc != 0:
				raise Failure("scrape-ingest: scrape failed (curl rc %d): %s" % (rc, err.strip()))
			body, _, t = out.decode().rpartition("\n")
			lat.append(float(t))
			got = parse_metrics(body).get((LINES, ()), 0)
			if got > target:
				raise Failure("scrape-ingest: lines_read %d > %d lines written" % (got, target))
			if got == target and (writer is None or not writer.is_alive()):
				return
			if got < target:
				mid += 1
			if time.monotonic() > deadline:
				raise Failure("scrape-ingest: lines_read %d after 60 s, want %d" % (got, target))

	scrape_until(n)
	# A second copy appended in 1 MiB writes (cutting lines) while scraping.
	def writer_fn():
		fd = os.open(path, os.O_WRONLY | os.O_APPEND)
		try:
			for i in range(0, len(data), 1 << 20):
				os.write(fd, data[i:i + (1 << 20)])
		finally:
			os.close(fd)
	w = threading.Thread(target=writer_fn)
	w.start()
	try:
		scrape_until(2 * n, w)
	finally:
		w.join()
	if d.stop() != 0:
		raise Failure("scrape-ingest: exit status %d" % d.proc.returncode)
	lat.sort()
	p50 = lat[len(lat) // 2]
	worst = lat[-1]
	log("# scrape-ingest: %d scrapes (%d during ingest), curl time_total p50 %.1f ms, max %.1f ms"
	    % (len(lat), mid, p50 * 1000, worst * 1000))
	if worst > limit:
		raise Failure("scrape-ingest: slowest scrape took %.3f s (> %.1f s)" % (worst, limit))
	ctx.steps += 1
	log("ok %d - scrape-ingest: every scrape answered within %.1f s; lines_read = %d = lines written"
	    % (ctx.steps, limit, 2 * n))


def main():
	binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PTE_BINARY")
	if not binary or not os.access(binary, os.X_OK):
		print("usage: test_file_follow.py BINARY (or set PTE_BINARY)", file=sys.stderr)
		return 2
	if not shutil.which("curl"):
		print("curl not found", file=sys.stderr)
		return 1
	# meson's timeout sends SIGTERM: unwind, so that the daemons are killed.
	signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
	started = time.monotonic()
	tmpdir = tempfile.mkdtemp(prefix="pte-integration-")
	os.chmod(tmpdir, 0o755)  # --user=nobody must reach the files
	ctx = Ctx(os.path.abspath(binary), tmpdir)
	failed = []
	groups = (test_follow, test_missing, test_beginning, test_twice, test_fifo, test_state, test_promtool,
		  test_scrape_under_ingest, test_rename_race, test_state_oversized)
	try:
		for group in groups:
			first = len(_daemons)
			try:
				group(ctx)
			except (Failure, AssertionError, subprocess.TimeoutExpired) as e:
				failed.append(group.__name__)
				log("not ok - %s: %s" % (group.__name__, e))
				for d in _daemons[first:]:
					log("# --- stderr of %s (%s):\n%s" % (d.name, " ".join(d.argv), d.stderr()[-4000:]))
					d.kill()
	finally:
		for d in _daemons:
			d.kill()
		if not failed or os.environ.get("PTE_KEEP_TMP") is None:
			shutil.rmtree(tmpdir, ignore_errors=True)
		else:
			log("# kept %s" % tmpdir)
	ok = not failed
	if failed:
		log("# FAILED: %s" % ", ".join(failed))
	log("# %d steps passed in %.1f s" % (ctx.steps, time.monotonic() - started))
	return 0 if ok else 1


if __name__ == "__main__":
	sys.exit(main())

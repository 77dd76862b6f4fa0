#!/usr/bin/env python3
"""ingest_bench.py - file ingest throughput and /metrics scrape latency.

DESCRIPTION
	A benchmark, not a test: it prints figures and asserts nothing except
	that the runs succeed and count every line.

	1. Generates the benchmark log with bench/genlog.py (default
	   --lines 1000000 --hosts 20000 --seed 1) in the BSD syslog and the
	   RFC 3339 formats, cached in --cache-dir (the generator takes
	   seconds per million lines; the cache key is the arguments).
	2. Runs `postfix_tls_exporter --once --source.start=beginning
	   --source.file=FILE >/dev/null` under /usr/bin/time -v, --runs times
	   per format, and reports the median wall time as lines/s and MB/s,
	   with user+system CPU time and peak RSS. A separate untimed run
	   checks that lines_read equals the file's line count.
	3. Starts the daemon on an empty file and times --requests GETs of
	   /metrics (one new TCP connection each, as curl does): first idle,
	   then while a writer appends copies of the log as fast as it can.
	   A scrape counts as "during ingest" when the daemon had a backlog
	   when the request was sent (its lines_read in the answer is below
	   the lines written before the request).

USAGE
	ingest_bench.py --binary PATH [--runs 3] [--requests 200]
			[--lines N --hosts N --seed N] [--cache-dir DIR]
	Normally run through bench/ingest.sh or `meson test --benchmark`.
"""
import argparse
import http.client
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENLOG = os.path.join(HERE, "genlog.py")
LINES_RE = re.compile(rb"^postfix_tls_exporter_lines_read_total (\S+)$", re.M)


def die(msg):
	print("ingest_bench: " + msg, file=sys.stderr)
	sys.exit(1)


def generate(cache, fmt, a):
	"""Path of the cached genlog output for these arguments, generated if missing."""
	os.makedirs(cache, exist_ok=True)
	os.chmod(cache, 0o755)
	path = os.path.join(cache, "genlog-l%d-h%d-s%d-%s.log" % (a.lines, a.hosts, a.seed, fmt))
	if not os.path.exists(path):
		print("# generating %s ..." % path, flush=True)
		tmp = path + ".tmp"
		with open(tmp, "wb") as f:
			subprocess.run([sys.executable, GENLOG, "--lines", str(a.lines), "--hosts", str(a.hosts),
					"--seed", str(a.seed), "--format", fmt], stdout=f, check=True)
		os.chmod(tmp, 0o644)
		os.rename(tmp, path)
	return path


def count_lines(path):
	n = 0
	with open(path, "rb") as f:
		while True:
			b = f.read(1 << 24)
			if not b:
				return n
			n += b.count(b"\n")


PIPELINE_RE = re.compile(r"pipeline: the reading thread .* used ([\d.]+) s of CPU and waited ([\d.]+) s .*"
			 r"the counting thread .* used ([\d.]+) s and waited ([\d.]+) s")


def time_once(binary, path):
	"""One --once run under /usr/bin/time -v: (wall s, cpu s, peak RSS KiB,
	the two threads' (CPU s, waited s) from the debug log or None)."""
	with tempfile.NamedTemporaryFile(mode="r") as tv:
		t0 = time.perf_counter()
		p = subprocess.run(["/usr/bin/time", "-v", "-o", tv.name, binary, "--once", "--source.start=beginning",
				    "--log.level=debug", "--source.file=" + path], stdout=subprocess.DEVNULL,
				   stderr=subprocess.PIPE)
		wall = time.perf_counter() - t0
		if p.returncode != 0:
			die("%s --once failed (%d): %s" % (binary, p.returncode, p.stderr.decode()[-2000:]))
		out = tv.read()
	user = float(re.search(r"User time \(seconds\): ([\d.]+)", out).group(1))
	system = float(re.search(r"System time \(seconds\): ([\d.]+)", out).group(1))
	rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", out).group(1))
	m = PIPELINE_RE.search(p.stderr.decode(errors="replace"))
	halves = tuple(float(x) for x in m.groups()) if m else None
	return wall, user + system, rss, halves


def check_once(binary, path, n):
	p = subprocess.run([binary, "--once", "--source.start=beginning", "--source.file=" + path],
			   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
	m = LINES_RE.search(p.stdout)
	got = int(float(m.group(1))) if m else -1
	if got != n:
		die("%s: --once read %d lines, the file has %d" % (path, got, n))


def free_port():
	for p in range(19500, 19600):
		s = socket.socket()
		try:
			s.bind(("127.0.0.1", p))
			return p
		except OSError:
			continue
		finally:
			s.close()
	die("no free port in 19500-19599")


class Daemon:
	def __init__(self, binary, path, workdir):
		self.port = free_port()
		argv = [binary, "--source.file=" + path, "--web.listen-address=127.0.0.1:%d" % self.port]
		if os.geteuid() == 0:
			argv.append("--user=nobody")
		self.errpath = os.path.join(workdir, "daemon.stderr")
		with open(self.errpath, "wb") as err:
			self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
		deadline = time.monotonic() + 10
		while time.monotonic() < deadline:
			if self.proc.poll() is not None:
				die("daemon exited at start-up: " + open(self.errpath).read()[-2000:])
			try:
				self.get("/-/ready")
				return
			except OSError:
				time.sleep(0.05)
		die("daemon not ready after 10 s")

	def get(self, path="/metrics"):
		"""GET over a new connection: (seconds, body)."""
		t0 = time.perf_counter()
		c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
		try:
			c.request("GET", path)
			r = c.getresponse()
			body = r.read()
			if r.status != 200:
				raise OSError("HTTP %d" % r.status)
		finally:
			c.close()
		return time.perf_counter() - t0, body

	def lines_read(self, body):
		return int(float(LINES_RE.search(body).group(1)))

	def stop(self):
		if self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			try:
				self.proc.wait(10)
			except subprocess.TimeoutExpired:
				self.proc.kill()
				self.proc.wait()


def pct(values, q):
	v = sorted(values)
	return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def scrape_bench(binary, path, n_lines, requests):
	"""(idle latencies, busy latencies, n busy, lines ingested, ingest s)."""
	work = tempfile.mkdtemp(prefix="pte-bench-")
	os.chmod(work, 0o755)
	live = os.path.join(work, "mail.log")
	open(live, "wb").close()
	os.chmod(live, 0o644)
	d = Daemon(binary, live, work)
	try:
		for _ in range(10):  # warm-up
			d.get()
		idle = [d.get()[0] for _ in range(requests)]

		written = [0]  # lines appended so far (writer thread)
		got = [0]      # lines_read in the latest scrape
		stop = threading.Event()

		def writer():
			with open(path, "rb") as src, open(live, "ab", buffering=0) as dst:
				while not stop.is_set():
					src.seek(0)
					while not stop.is_set():
						b = src.read(4 << 20)
						if not b:
							break
						dst.write(b)
						written[0] += b.count(b"\n")
						# Stay a few seconds of ingest ahead of the daemon, no more.
						while not stop.is_set() and written[0] - got[0] > 4 * n_lines:
							time.sleep(0.01)

		busy, busy_n = [], 0
		w = threading.Thread(target=writer)
		t0 = time.perf_counter()
		w.start()
		try:
			while busy_n < requests and time.perf_counter() - t0 < 120:
				before = written[0]
				t, body = d.get()
				got[0] = d.lines_read(body)
				if got[0] < before:
					busy.append(t)
					busy_n += 1
		finally:
			stop.set()
			w.join()
		# Let it finish, then check nothing was lost or doubled.
		deadline = time.monotonic() + 120
		while True:
			_, body = d.get()
			got[0] = d.lines_read(body)
			if got[0] == written[0] or time.monotonic() > deadline:
				break
			time.sleep(0.05)
		elapsed = time.perf_counter() - t0
		if got[0] != written[0]:
			die("live ingest: lines_read %d, lines written %d" % (got[0], written[0]))
		return idle, busy, written[0], elapsed
	finally:
		d.stop()
		shutil.rmtree(work, ignore_errors=True)


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--binary", required=True)
	ap.add_argument("--runs", type=int, default=3)
	ap.add_argument("--requests", type=int, default=200)
	ap.add_argument("--lines", type=int, default=1000000)
	ap.add_argument("--hosts", type=int, default=20000)
	ap.add_argument("--seed", type=int, default=1)
	ap.add_argument("--cache-dir", default=os.environ.get("PTE_BENCH_CACHE", "/tmp/pte-bench-cache"))
	ap.add_argument("--skip-scrape", action="store_true")
	a = ap.parse_args()
	binary = os.path.abspath(a.binary)
	if not os.access(binary, os.X_OK):
		die("not executable: " + binary)
	if not os.access("/usr/bin/time", os.X_OK):
		die("/usr/bin/time not found (Debian package 'time')")
	version = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()

	load = os.getloadavg()
	rows = []
	for fmt in ("bsd", "rfc3339"):
		path = generate(a.cache_dir, fmt, a)
		n = count_lines(path)
		size = os.path.getsize(path)
		check_once(binary, path, n)
		runs = [time_once(binary, path) for _ in range(a.runs)]
		wall = statistics.median(r[0] for r in runs)
		cpu = statistics.median(r[1] for r in runs)
		rss = statistics.median(r[2] for r in runs)
		halves = [r[3] for r in runs if r[3]]
		halves = tuple(statistics.median(h[i] for h in halves) for i in range(4)) if halves else None
		rows.append((fmt, n, size, wall, cpu, rss, min(r[0] for r in runs), max(r[0] for r in runs), halves))
		print("# %s: wall %s s" % (fmt, " ".join("%.3f" % r[0] for r in runs)), flush=True)

	scrape = None
	if not a.skip_scrape:
		path = generate(a.cache_dir, "bsd", a)
		scrape = scrape_bench(binary, path, count_lines(path), a.requests)

	cpu_model = ""
	try:
		cpu_model = re.search(r"model name\s*: (.*)", open("/proc/cpuinfo").read()).group(1)
	except (OSError, AttributeError):
		pass
	print()
	print("postfix_tls_exporter ingest benchmark")
	print("  binary  %s (%s)" % (binary, version))
	print("  host    %s, %d CPUs, %s" % (platform.node(), os.cpu_count(), cpu_model))
	print("  load    %.2f %.2f %.2f at start (other work on the machine inflates wall times)" % load)
	print("  input   genlog.py --lines %d --hosts %d --seed %d" % (a.lines, a.hosts, a.seed))
	print()
	print("File ingest: --once --source.start=beginning, median of %d runs (two threads with 2+ CPUs:"
	      " --source.pipeline)" % a.runs)
	print("  lines/s and MB/s are per wall-clock second; lines/CPUs and MB/CPUs divide by user+system")
	print("  CPU time, i.e. the rate per core of work (both threads' CPU counts).")
	print("  %-8s %9s %7s %7s %10s %7s %7s %10s %8s %9s" % ("format", "lines", "MB", "wall s", "lines/s", "MB/s",
							      "CPU s", "lines/CPUs", "MB/CPUs", "peak RSS"))
	for fmt, n, size, wall, cpu, rss, lo, hi, halves in rows:
		print("  %-8s %9d %7.1f %7.3f %8.2f M %7.1f %7.2f %8.2f M %8.1f %6.1f MB"
		      % (fmt, n, size / 1e6, wall, n / wall / 1e6, size / 1e6 / wall, cpu, n / cpu / 1e6,
			 size / 1e6 / cpu, rss / 1024))
	if any(r[8] for r in rows):
		print()
		print("The two threads, from the pipeline's start to its end (medians, from --log.level=debug; CPU")
		print("includes spinning while waiting). The half that waited less sets the pace.")
		print("  %-8s %14s %10s %15s %10s  %s" % ("format", "reading CPU s", "waited s", "counting CPU s",
							 "waited s", "pace set by"))
		for fmt, n, size, wall, cpu, rss, lo, hi, halves in rows:
			if halves:
				print("  %-8s %14.3f %10.3f %15.3f %10.3f  %s" % ((fmt,) + halves + (
					"reading (front half)" if halves[1] < halves[3] else "counting (back half)",)))
	if scrape:
		idle, busy, ingested, elapsed = scrape
		print()
		print("Scrape latency: GET /metrics, new TCP connection each (Python http.client)")
		print("  %-30s %9s %8s %8s %8s" % ("", "requests", "p50 ms", "p99 ms", "max ms"))
		for name, v in (("idle", idle), ("while ingesting (backlog)", busy)):
			if v:
				print("  %-30s %9d %8.2f %8.2f %8.2f" % (name, len(v), pct(v, .5) * 1e3, pct(v, .99) * 1e3,
									 max(v) * 1e3))
			else:
				print("  %-30s %9d %8s %8s %8s" % (name, 0, "-", "-", "-"))
		print("  live ingest meanwhile: %d lines in %.2f s (%.2f M lines/s, scrapes included), lines_read exact"
		      % (ingested, elapsed, ingested / elapsed / 1e6))
	return 0


if __name__ == "__main__":
	sys.exit(main())

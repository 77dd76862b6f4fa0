#!/usr/bin/env python3
"""Fleet scale benchmark (issue 12): one exporter reading 100 MTAs from one file.

Builds, from the genuine corpus in its rsyslog RFC 3339 rendering
(tests/data/postfix-3.7-rsyslog-rfc3339.log, 2267 lines of host mx1):

  fleet.log   --hosts copies (h000, h001, ...) merged in time order, each a few
              hundred microseconds apart: the same PIDs, endpoints and queue IDs
              interleaved line by line; the whole repeated --reps times, one day
              apart.
  single.log  the same number of lines from one host (h000): the corpus
              repeated hosts x reps times, one day apart (same line lengths).

and runs `--once` on each (--runs times, median), checking that every
Postfix family of the fleet is exactly hosts x reps x the corpus's (with and
without --postfix.host-label) with 0 sessions expired, and printing lines/s
and peak RSS. Not a test: run it by hand.

usage: bench/fleet/bench.py [--binary B] [--hosts 100] [--reps 4] [--runs 3] [--dir DIR]

--reps 44 makes the 10 M-line run (with --dir, the logs are written once).
"""
import argparse
import collections
import heapq
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, 'tests', 'data', 'postfix-3.7-rsyslog-rfc3339.log')
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parsed_corpus():
    out = []
    for line in open(CORPUS):
        ts, host, rest = line.rstrip('\n').split(' ', 2)
        out.append((datetime.fromisoformat(ts), rest))
    return out


# Everything a year earlier than the corpus: 44 daily repetitions from its
# date would reach past today, and the exporter clamps lines stamped in the
# future to the present (so the copies would collide in time).
SHIFT = timedelta(days=-365)


def host_copy(lines, host, offset):
    for t, rest in lines:
        t = t + offset + SHIFT
        yield t, '%s %s %s\n' % (t.isoformat(timespec='microseconds'), host, rest)


def write_logs(tmp, hosts, reps):
    lines = parsed_corpus()
    fleet, single = os.path.join(tmp, 'fleet.log'), os.path.join(tmp, 'single.log')
    with open(fleet, 'w') as f:
        for r in range(reps):
            copies = [host_copy(lines, 'h%03d' % h, timedelta(days=r, microseconds=317 * h)) for h in range(hosts)]
            for _, line in heapq.merge(*copies, key=lambda x: x[0]):
                f.write(line)
    # One MTA: the corpus again and again, each copy after the previous one.
    span = lines[-1][0] - lines[0][0] + timedelta(seconds=1)
    with open(single, 'w') as f:
        for r in range(reps * hosts):
            for _, line in host_copy(lines, 'h000', span * r):
                f.write(line)
    return fleet, single


def once(binary, path, *flags):
    t = time.monotonic()
    p = subprocess.run(['/usr/bin/time', '-f', '%M', binary, '--once', '--source.start=beginning',
                        '--source.file=' + path, *flags], capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.returncode != 0:
        raise SystemExit('--once failed: ' + p.stderr)
    rss_kib = int(p.stderr.strip().splitlines()[-1])
    m = collections.defaultdict(dict)
    for line in p.stdout.splitlines():
        if line and not line.startswith('#'):
            g = SAMPLE_RE.match(line)
            m[g.group(1)][tuple(LABEL_RE.findall(g.group(3) or ''))] = float(g.group(4))
    return m, wall, rss_kib


def postfix(m):
    return {f: s for f, s in m.items() if f.startswith(('postfix_tls_inbound_', 'postfix_tls_outbound_'))}


def fleet_totals(m):
    """Postfix families with the host label summed away. Peer families are
    summed over peer_domain too: --peers.max ranks (host, domain) pairs, so
    with 100 hosts more of them fold into "other"."""
    out = collections.defaultdict(lambda: collections.defaultdict(float))
    for f, s in postfix(m).items():
        for labels, v in s.items():
            out[f][tuple(l for l in labels if l[0] not in ('host', 'peer_domain'))] += v
    # The series a single-host exporter creates at 0 (every failure reason of
    # each syslog name) are not created per host: compare the counts.
    return {f: {l: v for l, v in s.items() if v} for f, s in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--binary', default=os.environ.get('PTE_BINARY', os.path.join(ROOT, 'build/src/postfix_tls_exporter')))
    ap.add_argument('--hosts', type=int, default=100)
    ap.add_argument('--reps', type=int, default=4)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--dir', help='keep the logs here and reuse them when present (10 M lines take minutes to write)')
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = a.dir or tmp
        fleet, single = os.path.join(d, 'fleet.log'), os.path.join(d, 'single.log')
        if not (a.dir and os.path.exists(fleet) and os.path.exists(single)):
            os.makedirs(d, exist_ok=True)
            fleet, single = write_logs(d, a.hosts, a.reps)
        n_lines = sum(1 for _ in open(fleet))
        k = a.hosts * a.reps
        base, _, _ = once(a.binary, CORPUS)
        want = {f: {l: v * k for l, v in s.items()} for f, s in postfix(base).items()}
        base_k = dict(want)
        # peer families: the corpus's peers are the same domains on every host,
        # so the top-peer folding does not change the sums either.
        ok = True
        rows = []
        configs = (('single host', single, ()), ('%d hosts' % a.hosts, fleet, ()),
                   ('%d hosts, --postfix.host-label' % a.hosts, fleet, ('--postfix.host-label',)))
        # interleaved rounds, so that a change in machine load hits every log alike
        walls, rsss, last = collections.defaultdict(list), collections.defaultdict(list), {}
        for _ in range(a.runs):
            for name, path, flags in configs:
                m, wall, rss = once(a.binary, path, *flags)
                walls[name].append(wall)
                rsss[name].append(rss)
                last[name] = m
        for name, path, flags in configs:
            m = last[name]
            exact = (fleet_totals(m) == fleet_totals(base_k)) if flags else postfix(m) == want
            expired = sum(m['postfix_tls_exporter_sessions_expired_total'].values())
            ok &= exact and expired == 0
            w = statistics.median(walls[name])
            rows.append((name, n_lines, os.path.getsize(path) / 1e6, n_lines / w, statistics.median(rsss[name]) / 1024,
                         'exact' if exact else 'DIFFERENT', int(expired)))
        print('| log | lines | MB | lines/s | peak RSS MB | counts vs %d x corpus | expired |' % k)
        print('|---|---|---|---|---|---|---|')
        for r in rows:
            print('| %s | %d | %.0f | %.0f k | %.1f | %s | %d |' % (r[0], r[1], r[2], r[3] / 1e3, r[4], r[5], r[6]))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()

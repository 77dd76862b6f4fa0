#!/usr/bin/env python3
"""One exporter for many MTAs: correlation keyed by host, the host label,
and its bound (issue 12).

usage: check_fleet.py BINARY DATA_DIR

1. The shared corpus (host mx1) interleaved line by line with a copy whose
   host is mx2 (same PIDs, endpoints and queue IDs, as two identical MTAs
   log them): without the host label every Postfix family is exactly twice
   the single-host one (the issue's table: 638 sessions, 638 connections,
   80 TLS failures, 0 expired, 174 deliveries); with --postfix.host-label
   every host's series are exactly the single-host series.
2. The same with three hosts in the rsyslog RFC 3339 rendering, each copy's
   timestamps shifted by a few milliseconds and merged in time order.
   The report (issue 12 item 4): with the host label a "Per MTA" section
   and JSON "hosts"/"fleet" whose per-host verdict is the single-host one
   (49 plaintext mail sessions of 221, from localhost) and whose fleet line
   is their sum; without it, neither.
3. A host-cardinality attack: 100 000 invented hostnames, one session each.
   The label values stay at --postfix.hosts-max plus "other", the fold is
   counted, and peak memory does not grow with the number of hostnames.
"""
import collections
import heapq
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
POSTFIX = ('postfix_tls_inbound_', 'postfix_tls_outbound_')
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print('FAIL: ' + msg, file=sys.stderr)


def run(binary, path, *flags):
    """--once on path: {family: {labels: value}}."""
    p = subprocess.run([binary, '--once', '--source.start=beginning', f'--source.file={path}', *flags],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise SystemExit(f'--once failed ({p.returncode}): {p.stderr}')
    metrics = collections.defaultdict(dict)
    for line in p.stdout.splitlines():
        if not line or line.startswith('#'):
            continue
        m = SAMPLE_RE.match(line)
        metrics[m.group(1)][tuple(LABEL_RE.findall(m.group(3) or ''))] = float(m.group(4))
    return metrics


def peak_rss_kib(binary, path, *flags):
    p = subprocess.Popen([binary, '--once', '--source.start=beginning', f'--source.file={path}', *flags],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        raise SystemExit(f'--once on {path} failed: status {status}')
    return ru.ru_maxrss


def postfix_families(metrics):
    return {k: v for k, v in metrics.items() if k.startswith(POSTFIX)}


def total(metrics, family):
    return sum(metrics.get(family, {}).values())


def by_host(metrics):
    """{host: {family: {labels without host: value}}}"""
    out = collections.defaultdict(lambda: collections.defaultdict(dict))
    for fam, series in postfix_families(metrics).items():
        for labels, v in series.items():
            check(labels and labels[0][0] == 'host', f'{fam}{labels}: no host label first')
            out[labels[0][1]][fam][labels[1:]] = v
    return out


def scaled(metrics, k):
    return {f: {l: v * k for l, v in s.items()} for f, s in postfix_families(metrics).items()}


def check_fleet(binary, name, fleet_log, single, hosts):
    n = len(hosts)
    flat = run(binary, fleet_log)
    check(postfix_families(flat) == scaled(single, n),
          f'{name}: without the host label the Postfix families are not {n} x the single host')
    check(total(flat, 'postfix_tls_exporter_sessions_expired_total') == 0,
          f'{name}: sessions expired: {total(flat, "postfix_tls_exporter_sessions_expired_total")}')
    check('postfix_tls_exporter_hosts_labelled' not in flat, f'{name}: hosts_* families without the flag')
    labelled = run(binary, fleet_log, '--postfix.host-label')
    per = by_host(labelled)
    check(sorted(per) == sorted(hosts), f'{name}: host label values {sorted(per)}')
    # Without the host label the failure reasons of each instance start at 0;
    # with it they appear at their host's first increment: compare the counts.
    nonzero = lambda fams: {f: {l: v for l, v in s.items() if v} for f, s in fams.items() if any(s.values())}
    want = nonzero(postfix_families(single))
    for h in hosts:
        got = nonzero(per[h])
        check(got == want, f'{name}: host {h} differs from the single-host output: '
              f'{ {f for f in set(got) | set(want) if got.get(f) != want.get(f)} }')
    check(total(labelled, 'postfix_tls_exporter_hosts_labelled') == n, f'{name}: hosts_labelled')
    check(total(labelled, 'postfix_tls_exporter_hosts_folded_total') == 0, f'{name}: hosts_folded')
    return flat


def report(binary, path, fmt, *flags):
    p = subprocess.run([binary, 'report', f'--format={fmt}', *flags, path], capture_output=True, text=True,
                       timeout=300)
    if p.returncode != 0:
        raise SystemExit(f'report failed ({p.returncode}): {p.stderr}')
    return json.loads(p.stdout) if fmt == 'json' else p.stdout


def schema_errors(doc):
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location('check_report_json',
                                                  os.path.join(here, '..', 'peers', 'check-report-json.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with open(os.path.join(here, '..', 'peers', 'report.schema.json')) as f:
        root = json.load(f)
    errors = []
    mod.validate(doc, root, root, '$', errors)
    return errors


def per_host_lists(single, doc):
    """Every peer, destination and unknown client of each host carries "host"
    and is exactly the single host's; the policy snippet has one section per
    host whose keys and levels are the single host's (no "mx1/" in a key)."""
    lists = [('inbound', 'peers', 'peer'), ('inbound', 'unknown_clients', 'address'),
             ('outbound', 'destinations', 'destination'), ('outbound', 'always_tls', 'destination'),
             ('outbound', 'never_tls', 'destination')]
    for d, name, key in lists:
        want = sorted(json.dumps(x, sort_keys=True) for x in single[d][name])
        check(want != [], f'report: single host has no {d} {name}')
        for h in ('mx1', 'mx2'):
            got = [dict(x) for x in doc[d][name] if x.get('host') == h]
            for x in got:
                del x['host']
                x.pop('labelled', None)
            w = [json.loads(x) for x in want]
            for x in w:
                x.pop('labelled', None)
            got = sorted(json.dumps(x, sort_keys=True) for x in got)
            check(got == sorted(json.dumps(x, sort_keys=True) for x in w),
                  f'report: {d} {name} of {h} differ from the single host ({len(got)} vs {len(w)})')
        check(all(x.get('host') in ('mx1', 'mx2') for x in doc[d][name]), f'report: {d} {name} without host')
    lines = [l for l in single['outbound']['policy_map'].splitlines() if not l.startswith('#')]
    check(len(lines) == 14, f'report: single host policy map has {len(lines)} keys')
    sections = re.split(r'^# ---- (\S+): this host.s smtp_tls_policy_maps ----$', doc['outbound']['policy_map'], flags=re.M)
    hosts = sections[1::2]
    check(hosts == ['mx1', 'mx2'], f'report: policy map sections {hosts}')
    for h, body in zip(hosts, sections[2::2]):
        keys = [l for l in body.splitlines() if l and not l.startswith('#')]
        check([k.split() for k in keys] == [k.split() for k in lines], f'report: policy map of {h}: {keys[:3]}')


def two_hosts_report(binary, src, path):
    """Per MTA: each host's verdict is the single host's; the fleet is the sum."""
    single = report(binary, src, 'json')
    (v,) = [v for v in single['verdicts'] if v['syslog_name'] == 'postfix']
    mail = sum(v['mail_sessions'] for v in single['verdicts'])
    check((v['refused_mail_sessions'], mail) == (49, 221), f'report: single host {v["refused_mail_sessions"]} of {mail}')
    check('hosts' not in single and 'fleet' not in single, 'report: hosts without the host label')
    check('Per MTA' not in report(binary, path, 'text'), 'report: Per MTA without the host label')
    doc = report(binary, path, 'json', '--postfix.host-label')
    check(schema_errors(doc) == [], f'report: schema {schema_errors(doc)}')
    for h, name in zip(doc.get('hosts', []), ('mx1', 'mx2')):
        want = {'host': name, 'mail_sessions': 221, 'plaintext_mail': 49, 'share_of_mail': 0.2217,
                'refused_peers': [{'peer': 'localhost', 'count': 49}],
                'text': f'enforcing TLS on {name} would have refused 49 mail sessions from 1 peer (22.2 % of mail): '
                        'localhost (49)'}
        check(h == want, f'report: host {h}')
    check(len(doc.get('hosts', [])) == 2, f'report: {len(doc.get("hosts", []))} hosts')
    want = {'hosts': 2, 'mail_sessions': 442, 'plaintext_mail': 98, 'share_of_mail': 0.2217,
            'refused_peers': [{'peer': 'localhost', 'count': 98}],
            'text': 'on all 2 hosts, enforcing TLS would have refused 98 mail sessions from 1 peer (22.2 % of mail): '
                    'localhost (98)'}
    check(doc.get('fleet') == want, f'report: fleet {doc.get("fleet")}')
    per_host_lists(single, doc)
    text = report(binary, path, 'text', '--postfix.host-label')
    for line in ('Per MTA', want['text'],
                 '  mx1             221              49  22.2 %  enforcing TLS on mx1 would have refused 49',
                 '  mx2             221              49  22.2 %  enforcing TLS on mx2 would have refused 49'):
        check(line in text, f'report text: no line {line!r}')


def host_log(src, path, hosts):
    """src (host mx1) as each of hosts logs it, interleaved line by line: the
    same PIDs, endpoints and queue IDs, as identical MTAs log them (also used
    by tests/integration/test_backfill_fleet.py)."""
    with open(src) as f, open(path, 'w') as out:
        for line in f:
            for h in hosts:
                out.write(line.replace(' mx1 ', f' {h} ', 1))


def two_hosts(binary, data, tmp):
    src = os.path.join(data, 'postfix-3.7-maillog.log')
    single = run(binary, src)
    path = os.path.join(tmp, 'two.log')
    host_log(src, path, ['mx1', 'mx2'])
    flat = check_fleet(binary, 'two hosts', path, single, ['mx1', 'mx2'])
    # The table, literally.
    for fam, want in (('postfix_tls_inbound_sessions_total', 638), ('postfix_tls_inbound_connections_total', 638),
                      ('postfix_tls_inbound_tls_failures_total', 80),
                      ('postfix_tls_exporter_sessions_expired_total', 0),
                      ('postfix_tls_outbound_deliveries_total', 174)):
        check(total(flat, fam) == want, f'two hosts: {fam} = {total(flat, fam)}, want {want}')
    two_hosts_report(binary, src, path)


def three_hosts(binary, data, tmp):
    src = os.path.join(data, 'postfix-3.7-rsyslog-rfc3339.log')
    single = run(binary, src)
    lines = open(src).read().splitlines()
    hosts = ['mx1', 'mx2', 'mx3']

    def copy(i, h):
        # Slightly different clocks: mx2 1.3 ms, mx3 2.9 ms later.
        for line in lines:
            ts, rest = line.split(' ', 1)
            t = datetime.fromisoformat(ts) + timedelta(microseconds=1300 * i + 300 * (i > 1))
            yield t, t.isoformat(timespec='microseconds') + ' ' + rest.replace('mx1 ', h + ' ', 1)

    path = os.path.join(tmp, 'three.log')
    with open(path, 'w') as out:
        for _, line in heapq.merge(*(copy(i, h) for i, h in enumerate(hosts)), key=lambda x: x[0]):
            out.write(line + '\n')
    check_fleet(binary, 'three hosts (rsyslog RFC 3339)', path, single, hosts)


def attack_log(path, n):
    with open(path, 'w') as out:
        for i in range(n):
            h = f'h{i:06d}.attacker.test'
            out.write(f'Nov 28 15:48:34 {h} postfix/smtpd[100]: connect from a.example[192.0.2.1]\n')
            out.write(f'Nov 28 15:48:34 {h} postfix/smtpd[100]: disconnect from a.example[192.0.2.1] '
                      f'ehlo=1 quit=1 commands=2\n')


def attack(binary, tmp):
    big, small = os.path.join(tmp, 'attack-100k.log'), os.path.join(tmp, 'attack-10k.log')
    attack_log(big, 100000)
    attack_log(small, 10000)
    m = run(binary, big, '--postfix.host-label')
    values = {l[0][1] for l in m['postfix_tls_inbound_sessions_total']}
    check(len(values) == 257 and 'other' in values, f'attack: {len(values)} host label values')
    check(total(m, 'postfix_tls_exporter_hosts_labelled') == 256, 'attack: hosts_labelled != 256')
    # Each folded session is three increments: connections, sessions, its peer.
    check(total(m, 'postfix_tls_exporter_hosts_folded_total') == 3 * (100000 - 256),
          f'attack: hosts_folded_total = {total(m, "postfix_tls_exporter_hosts_folded_total")}')
    check(total(m, 'postfix_tls_inbound_sessions_total') == 100000, 'attack: sessions not exact')
    check(total(m, 'postfix_tls_exporter_series_dropped_total') == 0, 'attack: series dropped')
    rss_big = peak_rss_kib(binary, big, '--postfix.host-label')
    rss_small = peak_rss_kib(binary, small, '--postfix.host-label')
    print(f'attack: peak RSS {rss_small} KiB for 10k hostnames, {rss_big} KiB for 100k')
    if os.environ.get('ASAN_OPTIONS'):
        # AddressSanitizer keeps freed memory in quarantine: RSS says nothing there.
        print('attack: peak RSS not compared under AddressSanitizer')
    else:
        check(rss_big - rss_small < 4096, f'attack: memory grows with hostnames ({rss_small} -> {rss_big} KiB)')


def main():
    binary, data = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        two_hosts(binary, data, tmp)
        three_hosts(binary, data, tmp)
        attack(binary, tmp)
    if failures:
        sys.exit(1)
    print('ok')


if __name__ == '__main__':
    main()

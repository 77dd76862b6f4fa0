#!/usr/bin/env python3
"""Several whole-file inputs of `report` and `--once` (issue 11, item 7).

- The corpus split in two, named newest first as a shell globs mail.log*
  (mail.log, mail.log.1.gz), counts the same 319 inbound sessions as the
  whole file: inputs are read in the order of their first timestamp, so a
  session that crosses the split is joined.
- The corpus split into 40 files, all named by --source.file (the limit was
  32): same counts.
- A last line without its newline counts in --once and report.

usage: check_inputs.py BINARY MAILLOG
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

SESSIONS = 319      # inbound sessions of the corpus (ground truth)
LINES = 2267        # its lines
failed = []


def check(what, want, got):
    if want != got:
        failed.append(f'{what}: want {want!r}, got {got!r}')
        print(f'FAIL {what}: want {want!r}, got {got!r}')
    else:
        print(f'ok   {what}: {got!r}')


def run(binary, args):
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=120, env=env)
    if r.returncode != 0:
        raise SystemExit(f'{binary} {" ".join(args[:3])} ... failed ({r.returncode}): {r.stderr}')
    return r.stdout


def once(binary, files):
    """(inbound sessions, lines read) from --once over files."""
    sessions = lines = 0
    for line in run(binary, ['--once'] + ['--source.file=' + f for f in files]).splitlines():
        if line.startswith('postfix_tls_inbound_sessions_total{'):
            sessions += int(float(line.rsplit(' ', 1)[1]))
        elif line.startswith('postfix_tls_exporter_lines_read_total '):
            lines = int(float(line.rsplit(' ', 1)[1]))
    return sessions, lines


def report_sessions(binary, files):
    d = json.loads(run(binary, ['report', '--format=json'] + files))
    return sum(d['inbound']['totals']['sessions'].values())


def main():
    binary, maillog = sys.argv[1], sys.argv[2]
    lines = open(maillog, 'rb').read().splitlines(keepends=True)
    check('corpus lines', LINES, len(lines))
    # Split inside a session: the first "disconnect from" whose "connect
    # from" (same smtpd PID) is in the first half.
    half = len(lines) // 2
    with tempfile.TemporaryDirectory() as tmp:
        new, old = os.path.join(tmp, 'mail.log'), os.path.join(tmp, 'mail.log.1.gz')
        with gzip.open(old, 'wb') as f:
            f.writelines(lines[:half])
        with open(new, 'wb') as f:
            f.writelines(lines[half:])
        check('report, whole file: sessions', SESSIONS, report_sessions(binary, [maillog]))
        check('report mail.log mail.log.1.gz (newest first): sessions', SESSIONS, report_sessions(binary, [new, old]))
        check('report mail.log.1.gz mail.log: sessions', SESSIONS, report_sessions(binary, [old, new]))
        check('--once newest first: (sessions, lines)', (SESSIONS, LINES), once(binary, [new, old]))

        # 40 pieces in log order (many start within the same second, where
        # the command-line order decides)
        pieces = []
        step = len(lines) // 40 + 1
        for i in range(0, len(lines), step):
            p = os.path.join(tmp, f'piece.{i:05d}')
            with open(p, 'wb') as f:
                f.writelines(lines[i:i + step])
            pieces.append(p)
        check('pieces', 40, len(pieces))
        check('--once with 40 --source.file: (sessions, lines)', (SESSIONS, LINES), once(binary, pieces))

        # The last line (a disconnect) without its newline
        last = max(i for i, l in enumerate(lines) if b'smtpd[' in l and b': disconnect from ' in l)
        cut = os.path.join(tmp, 'cut.log')
        with open(cut, 'wb') as f:
            f.writelines(lines[:last])
            f.write(lines[last].rstrip(b'\n'))
        check('--once, last line without newline: (sessions, lines)', (SESSIONS, last + 1), once(binary, [cut]))
        check('report, last line without newline: sessions', SESSIONS, report_sessions(binary, [cut]))
    if failed:
        raise SystemExit(f'{len(failed)} check(s) failed')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""--source.pipeline: two threads give the same bytes as one.

--once, report and backfill parse in the reading thread and count in a
second (src/ingest.c, src/queue.c). This runs each of them with and without
the second thread and compares the outputs byte for byte (the process_*
samples aside), over:

- the genuine corpus in its three on-disk formats, one file per run, all
  three in one run, and gzipped;
- the corpus with --postfix.host-label;
- a generated log salted with what takes the rare paths: lines that are not
  UTF-8, lines stamped in 2099 (clamped), oversized lines, CRLF, lines that
  are not syslog, a line without its newline, and matching lines whose
  record does not fit in a queue block (a 200 000-byte client name with
  --source.max-line-length=1048576), which are applied after a sync, and
  sessions that never end (expired by the hourly sweep: the log spans 5.5
  hours).

The pipelined runs must say at debug level that they used the second
thread; on a machine with one CPU the test is skipped (exit 77).

usage: check_pipeline.py BINARY DATA_DIR GENLOG
"""
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

failed = []
ENV = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1', TZ='UTC')


def run(binary, args, pipeline):
    argv = [binary] + args + ['--log.level=debug']
    if not pipeline:
        argv.append('--no-source.pipeline')
    r = subprocess.run(argv, capture_output=True, timeout=300, env=ENV)
    if r.returncode != 0:
        raise SystemExit(f'{" ".join(argv)} failed ({r.returncode}): {r.stderr.decode(errors="replace")}')
    used = b'second thread' in r.stderr
    if used != pipeline:
        failed.append(f'{" ".join(args)}: second thread used: {used}, expected {pipeline}')
        print(f'FAIL {" ".join(args)}: second thread used: {used}')
    return r.stdout


def strip_process(out):
    return b'\n'.join(l for l in out.split(b'\n') if not l.startswith(b'process_'))


def same(what, args, out_file=None):
    outs = []
    for pipeline in (False, True):
        if out_file:
            run(BINARY, args + ['--output=' + out_file], pipeline)
            outs.append(open(out_file, 'rb').read())
        else:
            outs.append(strip_process(run(BINARY, args, pipeline)))
    a, b = outs
    if a != b:
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        failed.append(what)
        print(f'FAIL {what}: outputs differ at byte {i}: {a[i-80:i+80]!r} vs {b[i-80:i+80]!r}')
    elif len(a) < 200:
        failed.append(what)
        print(f'FAIL {what}: output too short to mean anything ({len(a)} bytes)')
    else:
        print(f'ok   {what}: {len(a)} bytes identical')


def salted_log(genlog, path):
    """A generated log with the rare paths salted in, deterministically."""
    base = subprocess.run([sys.executable, genlog, '--lines', '60000', '--hosts', '3000', '--seed', '7',
                           '--format', 'rfc3339', '--start', '2026-03-01T00:00:00', '--rate', '3'],
                          capture_output=True, check=True).stdout.split(b'\n')
    out = []
    for i, line in enumerate(base):
        if not line:
            continue
        out.append(line)
        if i % 997 == 0:
            out.append(line.replace(b'connect from ', b'connect from \xff\xfe', 1))  # not UTF-8
        if i % 1499 == 0:
            out.append(b'2099' + line[4:])                                          # from the future
        if i % 2003 == 0:
            out.append(line + b' ' + b'x' * 9000)                                 # oversized at 8192
        if i % 1009 == 0:
            out.append(line + b'\r')                                                # CRLF
        if i % 3001 == 0:
            out.append(b'not a syslog line at all')
            stamp = line.split(b' ', 1)[0]  # a session that never ends: the sweep expires it
            out.append(stamp + b' mx1 postfix/smtpd[%d]: connect from orphan.example.org[192.0.2.7]' % (90000 + i))
        if i % 7919 == 0:
            stamp = line.split(b' ', 1)[0]
            out.append(stamp + b' mx1 postfix/smtpd[4242]: connect from ' + b'a' * 200000 +
                       b'.example.net[192.0.2.9]')
            out.append(stamp + b' mx1 postfix/smtpd[4242]: disconnect from ' + b'a' * 200000 +
                       b'.example.net[192.0.2.9] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5')
    with open(path, 'wb') as f:
        f.write(b'\n'.join(out))  # the last line has no newline


def main():
    global BINARY
    BINARY, data, genlog = sys.argv[1], sys.argv[2], sys.argv[3]
    if (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()) < 2:
        print('SKIP: one CPU, the second thread is never used')
        sys.exit(77)
    tmp = tempfile.mkdtemp(prefix='pte-pipeline-')
    try:
        logs = [os.path.join(data, n) for n in ('postfix-3.7-maillog.log', 'postfix-3.7-syslog-bsd.log',
                                               'postfix-3.7-rsyslog-rfc3339.log')]
        gz = os.path.join(tmp, 'maillog.log.gz')
        with open(logs[0], 'rb') as src, gzip.open(gz, 'wb') as dst:
            shutil.copyfileobj(src, dst)
        salted = os.path.join(tmp, 'salted.log')
        salted_log(genlog, salted)
        bf = os.path.join(tmp, 'backfill.om')
        for log in logs + [gz]:
            name = os.path.basename(log)
            same(f'--once {name}', ['--once', '--source.file=' + log])
            same(f'report --format=json {name}', ['report', '--format=json', log])
        same('--once, three files', ['--once'] + ['--source.file=' + l for l in logs])
        for fmt in ('text', 'json', 'markdown', 'html'):
            same(f'report --format={fmt}, three files', ['report', '--format=' + fmt] + logs)
        same('backfill, three files', ['backfill', '--step=1m'] + ['--source.file=' + l for l in logs], bf)
        same('--once --postfix.host-label', ['--once', '--postfix.host-label', '--source.file=' + logs[0]])
        same('report --postfix.host-label', ['report', '--format=json', '--postfix.host-label', logs[0]])
        same('--once salted', ['--once', '--source.file=' + salted])
        same('--once salted, long lines', ['--once', '--source.max-line-length=1048576', '--source.file=' + salted])
        same('report salted, long lines', ['report', '--format=json', '--source.max-line-length=1048576', salted])
        same('backfill salted', ['backfill', '--step=5m', '--source.file=' + salted], bf)
        same('backfill salted, long lines', ['backfill', '--step=5m', '--source.max-line-length=1048576',
                                            '--source.file=' + salted], bf)
    finally:
        shutil.rmtree(tmp)
    print(f'{"FAILED" if failed else "passed"}: {len(failed)} failure(s)')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Several whole-file inputs of `report` and `--once` (issue 11, item 7).

- The corpus split in two, named newest first as a shell globs mail.log*
  (mail.log, mail.log.1.gz), counts the same 319 inbound sessions as the
  whole file: inputs are read in the order of their first timestamp, so a
  session that crosses the split is joined.
- The corpus split into 40 files, all named by --source.file (the limit was
  32): same counts.
- A last line without its newline counts in --once and report.
- A .gz of five gzip members and trailing garbage (1.4 MB inflated, more
  than the pieces inflated ahead on 3 or more CPUs) counts five times the
  corpus, with and without --source.pipeline; one damaged in its third
  member counts the same lines before the damage either way.
- A report over 40 rotated files, plain or .gz, releases each one's
  buffers at its end: its peak RSS is within 1.5 MiB of the report over 5
  (skipped under sanitizers, whose shadow memory makes RSS meaningless).
- One file named twice (the same path, a symlink, a hard link, standard
  input redirected from it) is read once, with a warning.
- The journal and a log file together: both are read, with a warning that
  a line in both counts twice.
- A pipe named by path (report <(zcat ...), /dev/stdin, a named FIFO) is
  read to its end even when the writer is slow: every line counts.

usage: check_inputs.py BINARY MAILLOG
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

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


def counts(prom):
    """(inbound sessions, lines read) of a --once output"""
    sessions = lines = 0
    for line in prom.splitlines():
        if line.startswith('postfix_tls_inbound_sessions_total{'):
            sessions += int(float(line.rsplit(' ', 1)[1]))
        elif line.startswith('postfix_tls_exporter_lines_read_total '):
            lines = int(float(line.rsplit(' ', 1)[1]))
    return sessions, lines


def once(binary, files):
    """(inbound sessions, lines read) from --once over files."""
    return counts(run(binary, ['--once'] + ['--source.file=' + f for f in files]))


def once_run(binary, args, stdin=None):
    """(inbound sessions, lines read, stderr) of --once with args"""
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    r = subprocess.run([binary, '--once'] + args, stdin=stdin, capture_output=True, text=True, timeout=120,
                       env=env)
    return counts(r.stdout) + (r.stderr,)


def peak_rss_kib(argv):
    """peak RSS (KiB) of one run of argv, by /usr/bin/time: a child spawned
    from Python itself would count Python's own pages (vfork, then exec
    keeps the high-water mark)"""
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    env.pop('MALLOC_PERTURB_', None)  # meson's: it writes, so touches, what malloc hands out and free takes
    with tempfile.NamedTemporaryFile('r') as out:
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', out.name] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=env, timeout=120, check=True)
        return int(out.read().split()[-1])


def report_sessions(binary, files, pass_fds=()):
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    r = subprocess.run([binary, 'report', '--format=json'] + files, capture_output=True, text=True,
                       timeout=120, env=env, pass_fds=pass_fds)
    if r.returncode != 0:
        raise SystemExit(f'report {files} failed ({r.returncode}): {r.stderr}')
    return sum(json.loads(r.stdout)['inbound']['totals']['sessions'].values())


def slow_writer(data, open_w):
    """Write data in 50 pieces with pauses, as zcat on a slow disk would:
    a reader that took "nothing to read yet" for the end would stop early."""
    def go():
        with open_w() as w:
            step = len(data) // 50 + 1
            for i in range(0, len(data), step):
                w.write(data[i:i + step])
                w.flush()
                time.sleep(0.01)
    t = threading.Thread(target=go)
    t.start()
    return t


def piped(binary, data, how):
    """(inbound sessions, lines) of --once or report reading data through a
    pipe named by path: an anonymous pipe as /dev/fd/N (what <(...) gives)
    or a named FIFO."""
    with tempfile.TemporaryDirectory() as tmp:
        if how.endswith('fifo'):
            path = os.path.join(tmp, 'fifo')
            os.mkfifo(path)
            t = slow_writer(data, lambda: open(path, 'wb'))
            fds = ()
        else:
            r, w = os.pipe()
            t = slow_writer(data, lambda: os.fdopen(w, 'wb'))
            path, fds = f'/dev/fd/{r}', (r,)
        try:
            if how.startswith('report'):
                return report_sessions(binary, [path], pass_fds=fds)
            env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
            return counts(subprocess.run([binary, '--once', '--source.file=' + path], capture_output=True,
                                         text=True, timeout=120, env=env, pass_fds=fds, check=True).stdout)
        finally:
            if fds:
                os.close(fds[0])
            t.join()


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

        sym, hard = os.path.join(tmp, 'maillog'), os.path.join(tmp, 'mail.log.hard')
        os.symlink(os.path.abspath(maillog), sym)
        os.link(new, hard)
        check('report FILE and a symlink to it: sessions', SESSIONS, report_sessions(binary, [maillog, sym]))
        check('report mail.log, a hard link to it, mail.log.1.gz: sessions', SESSIONS,
              report_sessions(binary, [new, hard, old]))
        s_, n_, err = once_run(binary, ['--source.file=' + maillog, '--source.file=' + maillog])
        check('--once with one path named twice: (sessions, lines, warned)', (SESSIONS, LINES, True),
              (s_, n_, 'named twice: reading it once' in err))
        with open(maillog, 'rb') as stdin:
            _, n_, err = once_run(binary, ['--source.file=' + maillog, '--source.file=-'], stdin=stdin)
        check('--once FILE and - < FILE: (lines, warned)', (LINES, True), (n_, "'-' is the same file as" in err))
        journal = os.path.join(os.path.dirname(maillog), 'postfix.journal')
        s_, n_, err = once_run(binary, ['--source.journal.file=' + journal, '--source.file=' + maillog])
        check('--once on the journal and the same lines in a file: (lines, warned)', (2 * LINES, True),
              (n_, 'counts twice' in err))

    data = b''.join(lines)
    sanitized = any(m in open(binary, 'rb').read() for m in (b'__asan_init', b'__tsan_init'))
    with tempfile.TemporaryDirectory() as tmp:
        for kind, content in (('plain', data), ('.gz', gzip.compress(data))):
            rotated = []
            for i in range(40):
                rotated.append(os.path.join(tmp, f'mail.log.{i + 1}' + ('.gz' if kind == '.gz' else '')))
                with open(rotated[-1], 'wb') as f:
                    f.write(content)
            if sanitized or not os.access('/usr/bin/time', os.X_OK):
                print(f'skip report over 40 {kind} files: RSS under a sanitizer, or no /usr/bin/time')
                continue
            few = peak_rss_kib([binary, 'report'] + rotated[:5])
            many = peak_rss_kib([binary, 'report'] + rotated)
            check(f'report over 40 {kind} files: peak RSS within 1.5 MiB of 5 files', True, many - few < 1536)
            print(f'     (5 files: {few} KiB, 40 files: {many} KiB)')

    with tempfile.TemporaryDirectory() as tmp:
        members = [gzip.compress(data) for _ in range(5)]
        multi = os.path.join(tmp, 'multi.log.gz')
        with open(multi, 'wb') as f:
            f.write(b''.join(members) + b'garbage after the last member\n')
        bad = bytearray(b''.join(members))
        third = len(members[0]) * 2 + len(members[2]) // 2
        bad[third:third + 64] = b'\xff' * 64
        damaged = os.path.join(tmp, 'damaged.log.gz')
        with open(damaged, 'wb') as f:
            f.write(bad)
        for how, flag in (('--source.pipeline', []), ('one thread', ['--no-source.pipeline'])):
            s_, n_, _ = once_run(binary, ['--source.file=' + multi] + flag)
            check(f'--once on 5 gzip members + garbage, {how}: (sessions, lines)', (5 * SESSIONS, 5 * LINES), (s_, n_))
            _, n_, err = once_run(binary, ['--source.file=' + damaged] + flag)
            check(f'--once on a .gz damaged in its third member, {how}: lines before the damage, message',
                  (True, True), (2 * LINES <= n_ < 3 * LINES, 'is damaged' in err))
            if flag:
                check('the damaged .gz: the same lines with and without --source.pipeline', damaged_lines, n_)
            else:
                damaged_lines = n_

    check('--once on a slow pipe by path: (sessions, lines)', (SESSIONS, LINES), piped(binary, data, 'once'))
    check('report on a slow pipe by path: sessions', SESSIONS, piped(binary, data, 'report'))
    check('--once on a named FIFO: (sessions, lines)', (SESSIONS, LINES), piped(binary, data, 'once-fifo'))
    check('report on a named FIFO: sessions', SESSIONS, piped(binary, data, 'report-fifo'))
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    r = subprocess.run([binary, 'report', '-'], input=gzip.compress(data), capture_output=True, timeout=120, env=env)
    check('report on gzip data through a pipe: refused with a message',
          (1, True), (r.returncode, b'gzip-compressed data on a pipe' in r.stderr))
    if failed:
        raise SystemExit(f'{len(failed)} check(s) failed')


if __name__ == '__main__':
    main()

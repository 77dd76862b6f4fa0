#!/usr/bin/env python3
"""test_cli_errors.py BINARY DATA_DIR - the first-run hard edges (issue 14, 15 item 4).

Each usage mistake exits non-zero with one line that names the flag, the
value and what is accepted (and --help shows the same range); a source that
cannot be used says why with a hint; a directory or FIFO never makes it
spin or hang; report/--once exit 1 when no Postfix line was read; the daemon
says where it listens and what it reads; known label values start at 0.
"""
import gzip
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, DATA = sys.argv[1], sys.argv[2]
LOG = os.path.join(DATA, 'postfix-3.7-maillog.log')
PORT = 18131  # fixed; re-run alone if busy
failures = []
passed = 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print('FAIL:', what, flush=True)


def as_user(user):
    """the setpriv prefix that runs a command as user (its own group, no others)"""
    if not user:
        return []
    pw = pwd.getpwnam(user)
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups']


def run(args, timeout=20, user=None):
    pre = as_user(user)
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
    p = subprocess.run(pre + [BIN] + args, capture_output=True, text=True, timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def usage_error(args, *needles):
    """exit 2, exactly one line on stderr, containing every needle"""
    rc, out, err = run(args)
    lines = err.strip().splitlines()
    what = f'{" ".join(args)}: rc={rc} stderr={err.strip()!r}'
    check(rc == 2, what + ' (want rc 2)')
    check(len(lines) == 1, what + ' (want one line)')
    for n in needles:
        check(n in err, f'{what} (want {n!r})')
    return err


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + ' ') or line.startswith(name + '{') and line.split(' ')[0] == name:
            return float(line.rsplit(' ', 1)[1])
    return None


class Daemon:
    def __init__(self, args, user=None):
        pre = as_user(user)
        env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT='1')
        self.err = tempfile.TemporaryFile(mode='w+')
        self.p = subprocess.Popen(pre + [BIN, f'--web.listen-address=127.0.0.1:{PORT}'] + args,
                                  stdout=subprocess.DEVNULL, stderr=self.err, env=env)

    def scrape(self, deadline=10):
        end = time.time() + deadline
        while time.time() < end:
            try:
                with urllib.request.urlopen(f'http://127.0.0.1:{PORT}/metrics', timeout=2) as r:
                    return r.read().decode()
            except OSError:
                if self.p.poll() is not None:
                    return None
                time.sleep(0.1)
        return None

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.err.seek(0)
        return self.err.read()


def main():
    tmp = tempfile.mkdtemp(prefix='pte-cli-')
    try:
        flags_and_ranges()
        listen_addresses()
        help_and_report_h()
        sources(tmp)
        daemon(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f'{passed} passed, {len(failures)} failed')
    return 1 if failures else 0


def flags_and_ranges():
    usage_error(['report', '--window=3650d', LOG], '--window=3650d', 'out of range', '1h to 366d')
    usage_error(['report', '--peers.track=100000000', LOG], '--peers.track=100000000', '1 to 1000000')
    usage_error(['--peers.max=0'], '--peers.max=0', '1 to 10000')
    usage_error(['--peers.track=0'], '--peers.track=0', '1 to 1000000')
    usage_error(['--window=1x'], '--window=1x', 'not a duration', '30s', '7d')
    usage_error(['--store.max-series=abc'], '--store.max-series=abc', 'not a whole number', 'at least 64')
    rc, out, _ = run(['--help'])
    check(rc == 0 and '(default 7d; 1h to 366d)' in out, '--help shows the window range')
    check('(default 100; 1 to 10000)' in out, '--help shows the peers.max range')
    check('(repeatable; default :10125)' in out, 'default port is 10125')


def listen_addresses():
    usage_error(['--web.listen-address=127.0.0.1:99999'], '--web.listen-address=127.0.0.1:99999',
                'out of range', '1 to 65535', '127.0.0.1:10125')
    usage_error(['--web.listen-address=127.0.0.1'], '--web.listen-address=127.0.0.1', 'no port')
    usage_error(['--web.listen-address=0.0.0.0:abc'], "port 'abc' is not a number")


def help_and_report_h():
    rc, out, err = run(['report', '-h'])
    check(rc == 0 and out.startswith('usage: postfix_tls_exporter report'), f'report -h is help: {rc} {err!r}')


def sources(tmp):
    rc, _, err = run(['report', os.path.join(tmp, 'mail.log')])
    check(rc == 2 and len(err.strip().splitlines()) == 1, f'missing file: one line, rc 2: {rc} {err!r}')
    check('--source.journal' in err and 'maillog_file' in err, f'missing file: hint: {err!r}')

    rc, _, err = run(['report', '/etc/passwd'])
    check(rc == 1 and 'no Postfix lines found in file:/etc/passwd' in err, f'report /etc/passwd: {rc} {err!r}')
    dpkg = os.path.join(tmp, 'dpkg.log')
    with open(dpkg, 'w') as f:
        f.write('2025-11-28 10:00:00 startup archives unpack\n' * 20)
    rc, _, err = run(['--once', '--source.file=' + dpkg])
    check(rc == 1 and 'no Postfix lines found' in err, f'--once dpkg.log: {rc} {err!r}')

    data = open(LOG, 'rb').read()
    whole = gzip.compress(data)
    trunc = os.path.join(tmp, 'mail.log.2.gz')
    with open(trunc, 'wb') as f:
        f.write(whole[:len(whole) // 2])
    rc, out, err = run(['report', trunc])
    check(rc == 0 and 'is truncated' in err and 'Postfix TLS' in out, f'truncated .gz with lines: {rc} {err!r}')
    with open(trunc, 'wb') as f:
        f.write(whole[:20])
    rc, _, err = run(['report', trunc])
    check(rc == 1 and 'is truncated' in err and 'no Postfix lines' in err, f'truncated .gz, nothing usable: {rc} {err!r}')

    d = os.path.join(tmp, 'logdir')
    os.mkdir(d)
    for args in (['--once', '--source.file=' + d], ['report', d]):
        rc, _, err = run(args, timeout=10)
        check(rc == 2 and len(err.strip().splitlines()) == 1 and 'Is a directory' in err,
              f'{args}: ends with one error: {rc} {err!r}')

    if os.geteuid() == 0:
        secret = os.path.join(tmp, 'secret.log')
        shutil.copy(LOG, secret)
        os.chmod(secret, 0o600)
        os.chmod(tmp, 0o755)
        rc, _, err = run(['report', secret], user='nobody')
        check(rc == 2 and 'Permission denied' in err and 'adm' in err, f'unreadable as nobody: {rc} {err!r}')


def daemon(tmp):
    os.chmod(tmp, 0o755)
    state = os.path.join(tmp, 'state')
    os.mkdir(state)
    os.mkfifo(os.path.join(state, 'peers.state'))
    log = os.path.join(tmp, 'mail.log')
    shutil.copy(LOG, log)
    d = Daemon(['--source.file=' + log, '--state.directory=' + state])
    text = d.scrape()
    err = d.stop()
    check(text is not None, f'a FIFO as peers.state does not hang start-up: {err!r}')
    check(f'listening on 127.0.0.1:{PORT} (TLS off, basic auth off)' in err, f'listen address logged: {err!r}')
    check('source type file: chosen by its flags' in err and 'reading from the end' in err, 'source choice logged')
    check(f'state directory: {state}' in err and 'limits: --source.max-line-length=8192' in err,
          'state directory and limits logged')
    if text:
        check('postfix_tls_exporter_unrecognized_lines_total{daemon="smtpd"} 0' in text,
              'unrecognized_lines_total starts at 0')

    # A directory in place of the log: one message, source_up 0, no spin.
    logdir = os.path.join(tmp, 'logdir2')
    os.mkdir(logdir)
    d = Daemon(['--source.file=' + logdir])
    text = d.scrape()
    time.sleep(3)
    err = d.stop()
    check(text is not None and f'postfix_tls_exporter_source_up{{source="file:{logdir}"}} 0' in text,
          f'directory: source_up 0: {text and [l for l in text.splitlines() if "source_up" in l]}')
    check(err.count('Is a directory') == 1, f'directory: said once: {err!r}')

    if os.geteuid() == 0:
        # Unreadable as a non-root user: one warning with the adm hint, source_up 0.
        secret = os.path.join(tmp, 'secret2.log')
        shutil.copy(LOG, secret)
        os.chmod(secret, 0o600)
        d = Daemon(['--source.file=' + secret], user='nobody')
        text = d.scrape()
        time.sleep(3)
        err = d.stop()
        check(text is not None and f'postfix_tls_exporter_source_up{{source="file:{secret}"}} 0' in text,
              'unreadable: source_up 0')
        check(err.count('Permission denied') == 1 and 'adm' in err, f'unreadable: said once, with a hint: {err!r}')


if __name__ == '__main__':
    sys.exit(main())

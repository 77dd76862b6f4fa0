#!/usr/bin/env python3
"""journal-fields: entry selection and field handling, with --once on small
journal files written by systemd-journal-remote.

  - default match SYSLOG_FACILITY=2: other facilities are not read at all;
    mail-facility programs that are not Postfix (dovecot) are read and
    counted as lines, and produce no Postfix metric;
  - an entry without MESSAGE is read but is not a line;
  - a MESSAGE longer than --source.max-line-length (8192) is stored
    compressed by journal-remote, cut by the data threshold, and counted
    once as an oversized line, never parsed;
  - SYSLOG_PID missing: _PID is used (the session still correlates);
  - --source.journal.match overrides the default; "+" makes a disjunction;
  - a malformed match is a startup error, not a crash.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jlib  # noqa: E402

ENTRIES = "postfix_tls_exporter_journal_entries_read_total"
LINES = "postfix_tls_exporter_lines_read_total"
OVERSIZED = "postfix_tls_exporter_oversized_lines_total"
CONN = "postfix_tls_inbound_connections_total"


def entry(ident, msg, facility=b"2", pid=b"4242", syslog_pid=True, rt=1795880911902400):
    e = [("__REALTIME_TIMESTAMP", str(rt).encode()), ("__MONOTONIC_TIMESTAMP", b"1296958528"),
         ("_BOOT_ID", b"efcb48076988432994b1e6b663695b21"), ("_HOSTNAME", b"mx1"),
         ("SYSLOG_FACILITY", facility), ("SYSLOG_IDENTIFIER", ident), ("_PID", pid)]
    if syslog_pid:
        e.append(("SYSLOG_PID", pid))
    if msg is not None:
        e.append(("MESSAGE", msg))
    return e


def main():
    jlib.require_tools()
    tmp = jlib.tmpdir("fields")
    wdir = jlib.workdir(tmp, "j")
    try:
        corpus = jlib.read_export()[:200]
        n_smtpd = sum(1 for e in corpus if jlib.field(e, "SYSLOG_IDENTIFIER") == b"postfix/smtpd")
        n_qmgr = sum(1 for e in corpus if jlib.field(e, "SYSLOG_IDENTIFIER") == b"postfix/qmgr")
        extra = [
            entry(b"systemd", b"Started Session 1 of user root.", facility=b"3"),
            entry(b"dovecot", b"imap-login: Login: user=<a>, method=PLAIN, rip=192.0.2.1"),
            entry(b"postfix/smtpd", None),
            entry(b"postfix/smtpd", b"connect from " + b"x" * 20000 + b"[192.0.2.9]"),
            # pid only in _PID: "connect from" must still count
            entry(b"postfix/smtpd", b"connect from mail.example.org[192.0.2.7]", pid=b"5151", syslog_pid=False),
        ]
        path = os.path.join(wdir, "f.journal")
        jlib.write_journal(path, corpus + extra)
        base = ["--source.start=beginning", "--source.journal.file=" + path]

        got, _ = jlib.run_once(base)
        n = len(corpus)
        # read: corpus + dovecot + no-MESSAGE + oversized + _PID-only (not systemd)
        jlib.check(jlib.value(got, ENTRIES) == n + 4, "entries read %s, want %d" % (jlib.value(got, ENTRIES), n + 4))
        # lines: everything read that has a MESSAGE
        jlib.check(jlib.value(got, LINES) == n + 3, "lines read %s, want %d" % (jlib.value(got, LINES), n + 3))
        jlib.check(jlib.value(got, OVERSIZED) == 1, "oversized %s, want 1" % jlib.value(got, OVERSIZED))
        both, _ = jlib.run_once(["--source.start=beginning", "--source.journal.file=" + path,
                                   "--source.journal.match=SYSLOG_FACILITY=2",
                                   "--source.journal.match=_HOSTNAME=mx1"])
        jlib.check(jlib.value(both, ENTRIES) == n + 4, "explicit facility+hostname match: %s" % jlib.value(both, ENTRIES))
        conn_corpus = sum(v for k, v in jlib.run_once(
            ["--source.start=beginning", "--source.journal.file=" + path,
             "--source.journal.match=SYSLOG_FACILITY=2", "--source.journal.match=_PID=0"])[0]
            .get(CONN, {}).get("samples", {}).items())
        jlib.check(conn_corpus == 0, "a match on _PID=0 selected something")
        # the _PID-only entry adds one inbound connection to the corpus prefix's
        only_corpus = os.path.join(wdir, "c.journal")
        jlib.write_journal(only_corpus, corpus)
        c0, _ = jlib.run_once(["--source.start=beginning", "--source.journal.file=" + only_corpus])
        k = CONN + '{syslog_name="postfix"}'
        jlib.check(got[CONN]["samples"].get(k) == c0[CONN]["samples"].get(k, 0) + 1,
                   "connections %s vs %s + 1" % (got[CONN]["samples"].get(k), c0[CONN]["samples"].get(k)))
        diffs = jlib.diff_families(c0, got, skip={LINES, OVERSIZED, CONN, "postfix_tls_exporter_sessions_open",
                                                  "postfix_tls_exporter_last_event_timestamp_seconds",
                                                  "postfix_tls_inbound_peer_connections_total",
                                                  "postfix_tls_exporter_peers_tracked"})
        jlib.check(not diffs, "the extra entries changed other families:\n" + "\n".join(diffs))
        print("ok - default match, non-Postfix, no MESSAGE, oversized (compressed) and _PID-only entries")

        one, _ = jlib.run_once(base + ["--source.journal.match=SYSLOG_IDENTIFIER=postfix/smtpd"])
        jlib.check(jlib.value(one, ENTRIES) == n_smtpd + 3, "match smtpd: %s, want %d" % (jlib.value(one, ENTRIES), n_smtpd + 3))
        two, _ = jlib.run_once(base + ["--source.journal.match=SYSLOG_IDENTIFIER=postfix/smtpd",
                                       "--source.journal.match=+",
                                       "--source.journal.match=SYSLOG_IDENTIFIER=postfix/qmgr"])
        jlib.check(jlib.value(two, ENTRIES) == n_smtpd + 3 + n_qmgr,
                   "match smtpd + qmgr: %s, want %d" % (jlib.value(two, ENTRIES), n_smtpd + 3 + n_qmgr))
        print("ok - --source.journal.match overrides the default (%d smtpd, +%d qmgr with '+')" % (n_smtpd + 3, n_qmgr))

        p = subprocess.run([jlib.BINARY, "--once"] + base + ["--source.journal.match=no equals sign"],
                           capture_output=True, timeout=30)
        err = p.stderr.decode(errors="replace")
        jlib.check(p.returncode > 0 and "bad match" in err,
                   "bad match: exit %d, stderr %r" % (p.returncode, err[-500:]))
        print("ok - a malformed match is a startup error (exit %d)" % p.returncode)
    finally:
        jlib.cleanup()
        jlib.rmtree(tmp)


if __name__ == "__main__":
    main()

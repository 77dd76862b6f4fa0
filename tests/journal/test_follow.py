#!/usr/bin/env python3
"""journal-follow: the daemon follows --source.journal.directory=DIR while
systemd-journal-remote writes real journal files into DIR, files are
rotated (closed, renamed to the archived name) and deleted.

After every step the scraped /metrics must equal, family by family, what
--once reads from one journal file holding exactly the entries written so
far, and journal_entries_read_total / lines_read_total must be the exact
number of entries written. The entries are the corpus's (2267), with their
timestamps moved to the last hour.

Steps (entries written so far):
  1. a.journal appears, 600 entries                        ->  600
  2. 400 more appended to a.journal                         -> 1000
  3. a.journal rotated to a@....journal, b.journal: +500    -> 1500
  4. the rotated file is deleted, b.journal: +300           -> 1800
  5. b.journal closed, c.journal: +300, b.journal deleted,
     c.journal: +167                                        -> 2267
  6. quiet for a second: nothing is read twice              -> 2267
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jlib  # noqa: E402

PORTS = range(19710, 19740)
ENTRIES = "postfix_tls_exporter_journal_entries_read_total"
LINES = "postfix_tls_exporter_lines_read_total"
UP = "postfix_tls_exporter_source_up"


def oracle(tmp, entries, n):
    path = os.path.join(tmp, "oracle", "%d.journal" % n)
    jlib.write_journal(path, entries[:n])
    fams, _ = jlib.run_once(["--source.start=beginning", "--source.journal.file=" + path])
    os.unlink(path)
    return fams


def expect(d, tmp, entries, n, step):
    got = d.wait_for(ENTRIES, n)
    jlib.check(jlib.value(got, LINES) == n, "step %s: lines_read %s, want %d" % (step, jlib.value(got, LINES), n))
    jlib.check(jlib.value(got, UP, '{source="journal"}') == 1, "step %s: source_up is not 1" % step)
    want = oracle(tmp, entries, n)
    diffs = jlib.diff_families(want, got)
    jlib.check(not diffs, "step %s: metrics differ from --once over the same %d entries:\n%s"
               % (step, n, "\n".join(diffs)))
    print("ok - step %s: %d entries, every family equals --once" % (step, n))


def main():
    jlib.require_tools()
    entries = jlib.shifted_to_recent(jlib.read_export())
    jlib.check(len(entries) == jlib.CORPUS_ENTRIES, "corpus has %d entries" % len(entries))
    tmp = jlib.tmpdir("follow")
    jdir = jlib.workdir(tmp, "journal")
    jlib.workdir(tmp, "oracle")
    try:
        d = jlib.Daemon(["--source.journal.directory=" + jdir, "--source.start=end"], PORTS,
                        os.path.join(tmp, "daemon.log")).start()
        d.wait_for(UP, 1, labels='{source="journal"}')
        jlib.check(jlib.value(d.scrape(), ENTRIES) == 0, "entries read before anything was written")

        a = jlib.RemoteWriter(os.path.join(jdir, "a.journal"))
        a.feed(entries[0:600])
        expect(d, tmp, entries, 600, "1 new file")
        a.feed(entries[600:1000])
        expect(d, tmp, entries, 1000, "2 append")

        a.close()
        rotated = os.path.join(jdir, "a@0123456789abcdef0123456789abcdef-0000000000000001-0000000000000001.journal")
        os.rename(os.path.join(jdir, "a.journal"), rotated)
        b = jlib.RemoteWriter(os.path.join(jdir, "b.journal"))
        b.feed(entries[1000:1500])
        expect(d, tmp, entries, 1500, "3 rotate")

        os.unlink(rotated)
        b.feed(entries[1500:1800])
        expect(d, tmp, entries, 1800, "4 delete rotated")

        b.close()
        c = jlib.RemoteWriter(os.path.join(jdir, "c.journal"))
        c.feed(entries[1800:2100])
        d.wait_for(ENTRIES, 2100)
        os.unlink(os.path.join(jdir, "b.journal"))
        c.feed(entries[2100:])
        expect(d, tmp, entries, len(entries), "5 new file, delete old")

        time.sleep(1.0)
        fams = d.scrape()
        jlib.check(jlib.value(fams, ENTRIES) == len(entries) and jlib.value(fams, LINES) == len(entries),
                   "step 6: counts moved while idle: %s entries" % jlib.value(fams, ENTRIES))
        print("ok - step 6: idle, nothing read twice")
        c.close()
        rc = d.stop()
        jlib.check(rc == 0, "exporter exit status %d after SIGTERM" % rc)
    finally:
        jlib.cleanup()
        jlib.rmtree(tmp)


if __name__ == "__main__":
    main()

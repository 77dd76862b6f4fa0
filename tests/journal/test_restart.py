#!/usr/bin/env python3
"""journal-restart: cursor persistence across SIGTERM, and bad state files.

A systemd-journal-remote keeps appending the corpus (2267 entries, timestamps
moved to three hours ago) to DIR/system.journal for the whole test.

  1. daemon 1 (--source.start=beginning --state.directory=S) reads the first
     K entries; SIGTERM; the cursor file must exist.
  2. while it is down, entries K..K2 are written.
  3. daemon 2, same flags: the cursor wins over --source.start=beginning; it
     reads K2-K entries, then the rest (N-K2) is written.
     Counters of daemon 1 + daemon 2 == --once over all N entries, family by
     family; gauges of daemon 2 == that run's. Exact entry counts throughout.
  4. the cursor file is corrupted: daemon 3 logs a warning, starts at the end
     (0 entries), reads exactly the M new entries written after it started,
     and its metrics equal --once over those M entries.
  5. the cursor file is valid but older than --source.journal.max-resume-age:
     daemon 4 warns, starts at the end, reads exactly the M2 new entries.
  6. really mid-stream: while the corpus is appended again in chunks, daemon
     5 gets SIGTERM once it has read 700 of them. The saved cursor names entry P
     (timestamps are unique here), which must not be past what was written;
     daemon 6 must then read exactly the entries after P: none twice, none
     lost. (What daemon 5 counted after its last scrape is not observable,
     so this half checks that the resume starts right after the saved entry.)

K is a point where no inbound session is open (checked against --once):
in-flight sessions live in memory and a restart legitimately forgets them;
what must never happen is an entry counted twice or skipped.
"""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jlib  # noqa: E402

PORTS = range(19740, 19770)
ENTRIES = "postfix_tls_exporter_journal_entries_read_total"
LINES = "postfix_tls_exporter_lines_read_total"
OPEN = "postfix_tls_exporter_sessions_open"
K, K2 = 1381, 1800
M, M2 = 300, 200
HOUR_US = 3600 * 1000000


def shifted(entries, delta_us):
    """The same entries delta_us later (realtime and monotonic clock)."""
    out = []
    for e in entries:
        rt = int(jlib.field(e, "__REALTIME_TIMESTAMP")) + delta_us
        mono = int(jlib.field(e, "__MONOTONIC_TIMESTAMP")) + delta_us
        e = jlib.set_field(e, "__REALTIME_TIMESTAMP", str(rt).encode())
        out.append(jlib.set_field(e, "__MONOTONIC_TIMESTAMP", str(mono).encode()))
    return out


def unique_times(entries, first_rt):
    """Strictly increasing timestamps 1 ms apart, so a cursor's realtime
    names exactly one entry."""
    out = []
    for i, e in enumerate(entries):
        e = jlib.set_field(e, "__REALTIME_TIMESTAMP", str(first_rt + i * 1000).encode())
        out.append(jlib.set_field(e, "__MONOTONIC_TIMESTAMP", str(10**13 + i * 1000).encode()))
    return out


def once_over(tmp, entries, name):
    path = os.path.join(tmp, "oracle", name + ".journal")
    jlib.write_journal(path, entries)
    fams, _ = jlib.run_once(["--source.start=beginning", "--source.journal.file=" + path])
    return fams


def counters_sum_equal(full, before, after):
    bad = []
    for name, fam in sorted(full.items()):
        if not jlib.comparable(name):
            continue
        for key, want in fam["samples"].items():
            a = before.get(name, {}).get("samples", {}).get(key, 0.0)
            b = after.get(name, {}).get("samples", {}).get(key, 0.0)
            got = a + b if fam["type"] == "counter" else b
            if got != want:
                bad.append("%s: before %s + after %s, uninterrupted %s (%s)" % (key, a, b, want, fam["type"]))
        for fams in (before, after):
            extra = set(fams.get(name, {}).get("samples", {})) - set(fam["samples"])
            bad += ["%s: not in the uninterrupted run" % k for k in extra]
    return bad


def main():
    jlib.require_tools()
    corpus = jlib.read_export()
    # three hours back: inside the default 6h max-resume-age; the extra
    # batches for steps 4 and 5 follow one and two hours later
    entries = jlib.shifted_to_recent(corpus, margin_s=3 * 3600)
    extra1 = shifted(entries[:M], HOUR_US)
    extra2 = shifted(entries[M:M + M2], 2 * HOUR_US)
    n = len(entries)
    tmp = jlib.tmpdir("restart")
    jdir = jlib.workdir(tmp, "journal")
    state = jlib.workdir(tmp, "state")
    jlib.workdir(tmp, "oracle")
    cursor_file = os.path.join(state, "journal.cursor")
    args = ["--source.journal.directory=" + jdir, "--source.start=beginning", "--state.directory=" + state]
    try:
        full = once_over(tmp, entries, "full")
        prefix = once_over(tmp, entries[:K], "prefix")
        jlib.check(jlib.value(prefix, OPEN) == 0, "precondition: sessions open at K=%d: %s" % (K, jlib.value(prefix, OPEN)))

        w = jlib.RemoteWriter(os.path.join(jdir, "system.journal"))
        w.feed(entries[:K])
        d1 = jlib.Daemon(args, PORTS, os.path.join(tmp, "d1.log")).start()
        before = d1.wait_for(ENTRIES, K)
        jlib.check(jlib.value(before, LINES) == K, "daemon 1: lines_read %s" % jlib.value(before, LINES))
        jlib.check(d1.stop() == 0, "daemon 1: exit status after SIGTERM")
        jlib.check(os.path.exists(cursor_file), "no cursor file after SIGTERM")
        saved = open(cursor_file).read()
        jlib.check(saved.startswith("cursor=s=") and "\nrealtime=" in saved, "cursor file: %r" % saved)
        print("ok - daemon 1 read %d entries, saved the cursor on SIGTERM" % K)

        w.feed(entries[K:K2])
        d2 = jlib.Daemon(args, PORTS, os.path.join(tmp, "d2.log")).start()
        d2.wait_for(ENTRIES, K2 - K)
        w.feed(entries[K2:])
        after = d2.wait_for(ENTRIES, n - K)
        jlib.check(jlib.value(after, LINES) == n - K, "daemon 2: lines_read %s" % jlib.value(after, LINES))
        bad = counters_sum_equal(full, before, after)
        jlib.check(not bad, "before + after != uninterrupted:\n  " + "\n  ".join(bad[:20]))
        jlib.check(d2.stop() == 0, "daemon 2: exit status after SIGTERM")
        print("ok - daemon 2 resumed: %d + %d entries, every family equals one uninterrupted run" % (K, n - K))

        with open(cursor_file, "w") as f:
            f.write("cursor=\x01\x02 this is not a cursor\nrealtime=yesterday\n")
        d3 = jlib.Daemon(args, PORTS, os.path.join(tmp, "d3.log")).start()
        d3.wait_for("postfix_tls_exporter_source_up", 1, labels='{source="journal"}')
        jlib.check(jlib.value(d3.scrape(), ENTRIES) == 0, "daemon 3 read old entries despite the bad state")
        w.feed(extra1)
        got = d3.wait_for(ENTRIES, M)
        jlib.check(jlib.value(got, LINES) == M, "daemon 3: lines_read %s" % jlib.value(got, LINES))
        diffs = jlib.diff_families(once_over(tmp, extra1, "extra1"), got)
        jlib.check(not diffs, "daemon 3 differs from --once over the new entries:\n" + "\n".join(diffs))
        jlib.check(d3.stop() == 0, "daemon 3: exit status after SIGTERM")
        log = d3.read_log()
        jlib.check("level=warn" in log and "ignoring state file" in log and "malformed" in log,
                   "daemon 3 did not warn about the corrupt state file:\n" + log)
        print("ok - corrupt state file: warning logged, started at the end, read exactly %d new entries" % M)

        # valid cursor (daemon 3 saved it), but from too long ago
        lines = open(cursor_file).read().splitlines()
        jlib.check(len(lines) == 2 and lines[0].startswith("cursor="), "daemon 3 cursor file: %r" % lines)
        with open(cursor_file, "w") as f:
            f.write(lines[0] + "\nrealtime=1000000\n")
        d4 = jlib.Daemon(args + ["--source.journal.max-resume-age=1h"], PORTS, os.path.join(tmp, "d4.log")).start()
        d4.wait_for("postfix_tls_exporter_source_up", 1, labels='{source="journal"}')
        jlib.check(jlib.value(d4.scrape(), ENTRIES) == 0, "daemon 4 resumed from a stale cursor")
        w.feed(extra2)
        got = d4.wait_for(ENTRIES, M2)
        jlib.check(jlib.value(got, LINES) == M2, "daemon 4: lines_read %s" % jlib.value(got, LINES))
        jlib.check(d4.stop() == 0, "daemon 4: exit status after SIGTERM")
        log = d4.read_log()
        jlib.check("ignoring state file" in log and "max-resume-age" in log,
                   "daemon 4 did not warn about the stale cursor:\n" + log)
        print("ok - stale cursor (older than max-resume-age): warning logged, read exactly %d new entries" % M2)

        extra3 = unique_times(corpus, int((time.time() - 1800) * 1e6))
        n3 = len(extra3)
        d5 = jlib.Daemon(args, PORTS, os.path.join(tmp, "d5.log")).start()
        d5.wait_for("postfix_tls_exporter_source_up", 1, labels='{source="journal"}')
        fed = [0]

        def feeder():
            for i in range(0, n3, 37):
                fed[0] = min(i + 37, n3)  # an upper bound before the write
                w.feed(extra3[i:i + 37])
                time.sleep(0.01)

        t = threading.Thread(target=feeder)
        t.start()
        seen = 0
        deadline = time.time() + 20
        while seen < 700 and time.time() < deadline:
            seen = jlib.value(d5.scrape(), ENTRIES)
        fed_at_term = fed[0]
        jlib.check(d5.stop() == 0, "daemon 5: exit status after SIGTERM")
        t.join()
        rt = [l for l in open(cursor_file).read().splitlines() if l.startswith("realtime=")]
        rts = [jlib.field(e, "__REALTIME_TIMESTAMP").decode() for e in extra3]
        jlib.check(len(rt) == 1 and rt[0][9:] in rts, "daemon 5 saved a cursor outside the stream: %r" % rt)
        done = rts.index(rt[0][9:]) + 1
        jlib.check(seen <= done <= fed_at_term, "saved entry %d, but scraped %d and written %d" % (done, seen, fed_at_term))
        d6 = jlib.Daemon(args, PORTS, os.path.join(tmp, "d6.log")).start()
        got = d6.wait_for(ENTRIES, n3 - done)
        jlib.check(jlib.value(got, LINES) == n3 - done, "daemon 6: lines_read %s" % jlib.value(got, LINES))
        time.sleep(0.5)
        jlib.check(jlib.value(d6.scrape(), ENTRIES) == n3 - done, "daemon 6 read more than the rest")
        jlib.check(d6.stop() == 0, "daemon 6: exit status after SIGTERM")
        print("ok - SIGTERM mid-stream after entry %d of %d (%d written): the restart read exactly the other %d"
              % (done, n3, fed_at_term, n3 - done))
        w.close()
    finally:
        jlib.cleanup()
        jlib.rmtree(tmp)


if __name__ == "__main__":
    main()

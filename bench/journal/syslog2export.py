#!/usr/bin/env python3
"""syslog2export.py - BSD syslog lines on stdin -> journal export format on
stdout, with the fields journald stores for a syslog(3) datagram (as the
corpus's tools/convert_formats.py does), ready for systemd-journal-remote.

  genlog.py --lines 1000000 | syslog2export.py --year 2024 | \\
      systemd-journal-remote --output=bench.journal --split-mode=none -

Facility follows the program: postfix* -> mail (2), CRON -> cron (9),
sshd -> authpriv (10), kernel -> kern (0), anything else -> daemon (3).
The monotonic clock is the realtime offset from the first line (one boot).
"""
import argparse
import calendar
import re
import sys

LINE_RE = re.compile(rb"^([A-Z][a-z]{2}) ([ 0-9]\d) (\d\d):(\d\d):(\d\d) (\S+) ([^\s\[:]+)(?:\[(\d+)\])?: (.*)$")
CTRL_RE = re.compile(rb"[\x00-\x08\x0a-\x1f]")
MONTHS = {m.encode(): i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}


def facility(tag):
    if tag.startswith(b"postfix"):
        return b"2"
    return {b"CRON": b"9", b"sshd": b"10", b"kernel": b"0"}.get(tag, b"3")


def priority(msg):
    for pfx, prio in ((b"warning: ", b"4"), (b"error: ", b"3"), (b"fatal: ", b"2"), (b"panic: ", b"2")):
        if msg.startswith(pfx):
            return prio
    return b"6"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2024)
    a = ap.parse_args()
    boot = b"5f1c0ffee0000000000000000000b007"  # fixed: same input, same journal
    out = sys.stdout.buffer
    first = None
    sub = 0
    last_sec = None
    buf = []
    for line in sys.stdin.buffer:
        m = LINE_RE.match(line.rstrip(b"\n"))
        if not m:
            continue
        mon, day, hh, mi, ss, host, tag, pid, msg = m.groups()
        sec = calendar.timegm((a.year, MONTHS[mon], int(day), int(hh), int(mi), int(ss)))
        # distinct, increasing microseconds within a second
        sub = sub + 1 if sec == last_sec else 0
        last_sec = sec
        rt = sec * 1000000 + min(sub, 999999)
        if first is None:
            first = rt
        e = [b"__REALTIME_TIMESTAMP=%d" % rt, b"__MONOTONIC_TIMESTAMP=%d" % (rt - first + 1000000),
             b"_BOOT_ID=" + boot, b"_HOSTNAME=" + host, b"_TRANSPORT=syslog", b"PRIORITY=" + priority(msg),
             b"SYSLOG_FACILITY=" + facility(tag), b"SYSLOG_IDENTIFIER=" + tag]
        if pid:
            e += [b"SYSLOG_PID=" + pid, b"_PID=" + pid]
        if CTRL_RE.search(msg):
            # export format's binary field: name, newline, 64-bit LE size, data
            body = b"\n".join(e) + b"\nMESSAGE\n" + len(msg).to_bytes(8, "little") + msg + b"\n\n"
        else:
            body = b"\n".join(e) + b"\nMESSAGE=" + msg + b"\n\n"
        buf.append(body)
        if len(buf) >= 4096:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))


if __name__ == "__main__":
    main()

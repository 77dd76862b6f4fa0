#!/usr/bin/env python3
"""journal-fleet: journal-remote files of three MTAs, read by one exporter.

systemd-journal-remote keeps each sender's _HOSTNAME, _MACHINE_ID and
_BOOT_ID. The corpus export is written three times, as mx1, mx2 and mx3
(each with its own machine and boot ID, clocks a few milliseconds apart:
the same PIDs, endpoints and queue IDs at nearly the same time), into one
file per host, as journal-remote does for a remote directory.

  --source.journal.file=remote-mx1.journal ... (three files)
  --source.journal.directory=DIR (the same three files)

Both must read every host's entries in time order: with --postfix.host-label
every host's Postfix series equal the single-host journal exactly, and
without it every Postfix family is exactly 3 x, with no session expired.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jlib  # noqa: E402

HOSTS = ("mx1", "mx2", "mx3")
POSTFIX = ("postfix_tls_inbound_", "postfix_tls_outbound_")


def host_copy(entries, i, host):
    out = []
    for e in entries:
        rt = int(jlib.field(e, "__REALTIME_TIMESTAMP")) + 1300 * i
        e = jlib.set_field(e, "__REALTIME_TIMESTAMP", str(rt).encode())
        e = jlib.set_field(e, "_HOSTNAME", host.encode())
        e = jlib.set_field(e, "_MACHINE_ID", ("%032x" % (0xabc0 + i)).encode())
        e = jlib.set_field(e, "_BOOT_ID", ("%032x" % (0xb000 + i)).encode())
        out.append(e)
    return out


def postfix_samples(fams):
    return {k: v for name, f in fams.items() if name.startswith(POSTFIX) for k, v in f["samples"].items()}


def without_host(sample, host):
    """'fam{host="mx1",a="b"}' -> 'fam{a="b"}' when the host matches, else None."""
    pre = '{host="%s"' % host
    i = sample.find(pre)
    if i < 0:
        return None
    rest = sample[i + len(pre):]
    return sample[:i] + ("{" + rest[1:] if rest.startswith(",") else rest)


def check_fleet(name, args, single):
    flat, _ = jlib.run_once(["--source.start=beginning"] + args)
    want3 = {k: 3 * v for k, v in postfix_samples(single).items()}
    jlib.check(postfix_samples(flat) == want3, "%s: Postfix families are not 3 x the single host" % name)
    jlib.check(jlib.value(flat, "postfix_tls_exporter_sessions_expired_total") == 0,
               "%s: sessions expired %s" % (name, jlib.value(flat, "postfix_tls_exporter_sessions_expired_total")))
    jlib.check(jlib.value(flat, "postfix_tls_exporter_journal_entries_read_total") == 3 * jlib.CORPUS_ENTRIES,
               "%s: entries read" % name)
    labelled, _ = jlib.run_once(["--source.start=beginning", "--postfix.host-label"] + args)
    # Without the host label the failure reasons of each instance start at 0;
    # with it they appear at their host's first increment: compare the counts.
    got = {k: v for k, v in postfix_samples(labelled).items() if v}
    want = {k: v for k, v in postfix_samples(single).items() if v}
    for h in HOSTS:
        per = {without_host(k, h): v for k, v in got.items() if without_host(k, h)}
        bad = sorted(k for k in set(per) | set(want) if per.get(k) != want.get(k))
        jlib.check(not bad, "%s: host %s differs from the single host: %s" % (name, h, bad[:5]))
    jlib.check(len(got) == 3 * len(want), "%s: %d series, want %d" % (name, len(got), 3 * len(want)))
    print("ok - %s: 3 hosts, %d series each, exact" % (name, len(want)))


def main():
    jlib.require_tools()
    entries = jlib.read_export()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # journal-remote may run as nobody
        single_path = os.path.join(tmp, "single.journal")
        jlib.write_journal(single_path, host_copy(entries, 0, "mx1"))
        single, _ = jlib.run_once(["--source.start=beginning", "--source.journal.file=" + single_path])
        remote = os.path.join(tmp, "remote")
        os.mkdir(remote)
        os.chmod(remote, 0o777)
        files = []
        for i, h in enumerate(HOSTS):
            path = os.path.join(remote, "remote-%s.journal" % h)
            jlib.write_journal(path, host_copy(entries, i, h))
            files.append(path)
        check_fleet("journal files", ["--source.journal.file=" + f for f in files], single)
        check_fleet("journal directory", ["--source.journal.directory=" + remote], single)


if __name__ == "__main__":
    try:
        main()
    finally:
        jlib.cleanup()

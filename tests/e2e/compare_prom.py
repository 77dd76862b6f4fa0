#!/usr/bin/env python3
"""compare_prom.py A.prom B.prom [EXPECTED.json]

Exit 0 if the two expositions agree on every series except those that
describe the process itself (process_*, build_info), and, when
EXPECTED.json (written by postfix-e2e.py) is given, A's non-zero series of
each family listed there equal the expectation exactly."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promtext  # noqa: E402

SKIP = ("process_", "postfix_tls_exporter_build_info")


def main():
    a = promtext.parse(open(sys.argv[1]).read())
    b = promtext.parse(open(sys.argv[2]).read())
    bad = 0
    for fam in sorted(set(a) | set(b)):
        if fam.startswith(SKIP):
            continue
        if a.get(fam) != b.get(fam):
            bad += 1
            print("  %s differs:\n    A %s\n    B %s" % (fam, a.get(fam), b.get(fam)))
    if len(sys.argv) > 3 and sys.argv[3]:
        exp = json.load(open(sys.argv[3]))
        for fam, series in exp.items():
            want = {tuple(sorted(l.items())): v for l, v in series}
            got = promtext.nonzero(a, fam)
            if got != want:
                bad += 1
                print("  %s differs from the e2e expectation:\n    want %s\n    got  %s" % (fam, want, got))
    n = len([f for f in a if not f.startswith(SKIP)])
    print("  compared %d families%s: %s" % (n, " and the e2e expectation" if len(sys.argv) > 3 else "",
                                           "equal" if not bad else "%d differ" % bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

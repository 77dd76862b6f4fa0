#!/usr/bin/env python3
"""check_metrics_documented.py BINARY METRICS_C LOG MANPAGE README

Every metric family the exporter exposes must be named in the man page and
in the README. The families are those "BINARY --once" prints for LOG (what a
scrape really shows) together with every name in the family table of
METRICS_C (so a family that stays empty on the log, and is therefore not
printed, is not missed). A family counts as documented where its full name
appears; the man page is compared after removing roff escapes.
"""
import re
import subprocess
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# [M_INBOUND_CONNECTIONS] = { "postfix_tls_inbound_connections_total", ...
TABLE_ENTRY = re.compile(r"\[M_[A-Z0-9_]+\]\s*=\s*\{\s*\"([a-zA-Z_:][a-zA-Z0-9_:]*)\"")


def exposed_families(binary, log):
    r = subprocess.run([binary, "--once", "--source.file=" + log, "--source.start=beginning"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit("FAIL: %s --once exited %d:\n%s" % (binary, r.returncode, r.stderr))
    return {line.split()[2] for line in r.stdout.splitlines() if line.startswith("# TYPE ")}


def table_families(metrics_c):
    return set(TABLE_ENTRY.findall(open(metrics_c, encoding="utf-8").read()))


def roff_text(path):
    s = open(path, encoding="utf-8").read()
    s = s.replace("\\-", "-").replace("\\&", "").replace("\\(em", " ")
    return re.sub(r"\\f[BIRP]", "", s)


def main():
    binary, metrics_c, log, man, readme = sys.argv[1:6]
    exposed, table = exposed_families(binary, log), table_families(metrics_c)
    # Both sources must work, or the check would pass on an empty list.
    if len(exposed) < 10 or len(table) < 10:
        print("FAIL: too few families found: %d in --once output, %d in %s" % (len(exposed), len(table), metrics_c))
        return 1
    families = exposed | table
    docs = {"man page": roff_text(man), "README.md": open(readme, encoding="utf-8").read()}
    failed = 0
    for name, text in docs.items():
        words = set(NAME.findall(text))
        missing = sorted(families - words)
        if missing:
            failed += 1
            print("FAIL: %d of %d metric families missing from the %s: %s"
                  % (len(missing), len(families), name, " ".join(missing)))
        else:
            print("ok   all %d metric families appear in the %s" % (len(families), name))
    print("%d passed, %d failed" % (len(docs) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

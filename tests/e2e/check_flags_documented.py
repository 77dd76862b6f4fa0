#!/usr/bin/env python3
"""check_flags_documented.py BINARY MANPAGE README

Every long flag that "BINARY --help" (and "BINARY report --help", when the
subcommand has its own help) prints must appear in the man page and in the
README. In the roff source a "-" may be written "\\-", so the man page is
compared after removing roff escapes. A missing README.md makes the README
half a skip (exit 77) rather than a failure, so the man page is still checked.
"""
import os
import re
import subprocess
import sys

FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*)")


def help_flags(binary):
    flags = set()
    for args in (["--help"], ["report", "--help"]):
        r = subprocess.run([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=30)
        if args == ["--help"] and r.returncode != 0:
            sys.exit("FAIL: %s --help exited %d:\n%s" % (binary, r.returncode, r.stdout))
        if r.returncode == 0:
            flags |= set(FLAG.findall(r.stdout))
    return flags


def roff_text(path):
    s = open(path, encoding="utf-8").read()
    s = s.replace("\\-", "-").replace("\\&", "").replace("\\(em", " ")
    s = re.sub(r"\\f[BIRP]", "", s)
    return s


def main():
    binary, man, readme = sys.argv[1:4]
    flags = help_flags(binary)
    if len(flags) < 5:
        print("FAIL: only %d flags found in --help output: %s" % (len(flags), sorted(flags)))
        return 1
    docs = {"man page": roff_text(man)}
    readme_missing = not os.path.exists(readme)
    if not readme_missing:
        docs["README.md"] = open(readme, encoding="utf-8").read()
    failed = 0
    passed = 0
    for name, text in docs.items():
        found = set(FLAG.findall(text))
        missing = sorted(f for f in flags if f not in found)
        if missing:
            failed += 1
            print("FAIL: %d of %d --help flags missing from the %s: %s"
                  % (len(missing), len(flags), name, " ".join(missing)))
        else:
            passed += 1
            print("ok   all %d --help flags appear in the %s" % (len(flags), name))
    if readme_missing:
        print("SKIP README.md check: %s does not exist" % readme)
    print("%d passed, %d failed" % (passed, failed))
    if failed:
        return 1
    return 77 if readme_missing else 0


if __name__ == "__main__":
    sys.exit(main())

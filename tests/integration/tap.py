"""tap.py - the "ok - ..." / "not ok - ..." lines the integration scripts
print, and the exit status they end with."""
import sys

failures = 0


def check(cond, what):
    """print one result; count it when it failed"""
    global failures
    print(("ok - " if cond else "not ok - ") + what)
    if not cond:
        failures += 1
    return cond


def finish():
    """exit 1 if any check failed, else 0"""
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)

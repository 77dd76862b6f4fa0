#!/usr/bin/env python3
"""The HTML report in a real headless browser (Debian's chromium): it
renders, takes a screenshot (left in the build directory as
peers-report.png), logs no console message, loads nothing from the
network, and the rendered DOM shows the verdict and the tables.

Usage: html_browser.py LOG   (exit 77 when chromium is not installed)
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("skipped: chromium is not installed (apt-get install chromium)")
        return 77
    exe = os.environ["PTE_BINARY"]
    env = dict(os.environ, POSTFIX_TLS_EXPORTER_ALLOW_ROOT="1")
    tmp = tempfile.mkdtemp(prefix="pte-peers-html-")
    failures = []
    try:
        html = subprocess.run([exe, "report", "--format", "html", sys.argv[1]], env=env, check=True,
                              capture_output=True, text=True).stdout
        page = os.path.join(tmp, "report.html")
        with open(page, "w") as f:
            f.write(html)
        png = os.path.join(os.environ.get("PTE_BUILD_ROOT", tmp), "peers-report.png")
        common = [browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  f"--user-data-dir={tmp}/profile", "--enable-logging=stderr", "--v=0",
                  "--window-size=1280,2000", "--virtual-time-budget=2000"]
        shot = subprocess.run(common + [f"--screenshot={png}", "file://" + page], capture_output=True, text=True, timeout=120)
        dom = subprocess.run(common + ["--dump-dom", "file://" + page], capture_output=True, text=True, timeout=120)
        console = [l for l in (shot.stderr + dom.stderr).splitlines() if "CONSOLE" in l or "Uncaught" in l]
        net = [l for l in (shot.stderr + dom.stderr).splitlines() if re.search(r"https?://", l)]
        checks = [
            (shot.returncode == 0 and os.path.getsize(png) > 20000, f"screenshot {png}"),
            (not console, f"console messages: {console}"),
            (not net, f"network references: {net[:3]}"),
            ("would have refused" in dom.stdout, "the verdict is in the rendered DOM"),
            (dom.stdout.count("<table") >= 8, "the tables are in the rendered DOM"),
            ("<svg" in dom.stdout, "the charts are in the rendered DOM"),
            ("<script" not in html, "no script"),
        ]
        for ok, what in checks:
            if not ok:
                failures.append(what)
                print("FAIL:", what)
        print(f"screenshot: {png}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(checks) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

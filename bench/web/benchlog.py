"""benchlog - the generated benchmark log of the bench/web scripts, made
once with bench/genlog.py (--seed 1, BSD stamps) and kept in
$PTE_BENCH_CACHE (default /tmp/pte-bench-cache), readable by the
unprivileged user the daemon runs as."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GENLOG = os.path.join(HERE, "..", "genlog.py")


def cached_log(lines, hosts):
    """(path, number of lines) of the log of `lines` lines from `hosts` hosts."""
    cache = os.environ.get("PTE_BENCH_CACHE", "/tmp/pte-bench-cache")
    os.makedirs(cache, exist_ok=True)
    os.chmod(cache, 0o755)
    log = os.path.join(cache, f"genlog-l{lines}-h{hosts}-s1-bsd.log")
    if not os.path.exists(log):
        subprocess.run([sys.executable, GENLOG, "--lines", str(lines), "--hosts", str(hosts), "--seed", "1",
                        "--out", log + ".tmp"], check=True)
        os.rename(log + ".tmp", log)
    os.chmod(log, 0o644)
    with open(log, "rb") as f:
        return log, sum(1 for _ in f)

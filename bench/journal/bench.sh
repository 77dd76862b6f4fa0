#!/bin/bash
# bench/journal/bench.sh - journal ingest speed of postfix_tls_exporter next
# to `journalctl --file X -o cat > /dev/null` on the same journal file.
#
# usage: bench/journal/bench.sh [BUILD_DIR [LINES]]   (defaults: build 1000000)
#
# The journal is generated once and kept in $BENCH_WORK (default
# /tmp/pte-bench-journal): genlog.py (synthetic Postfix + noise, fixed seed)
# -> syslog2export.py -> systemd-journal-remote. Every timing is the best of
# $BENCH_RUNS (default 3) runs with a warm page cache.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
lines=${2:-1000000}
runs=${BENCH_RUNS:-3}
work=${BENCH_WORK:-/tmp/pte-bench-journal}
bin=$build/src/postfix_tls_exporter
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/usr/lib/systemd/systemd-journal-remote

[ -x "$bin" ] || { echo "no exporter at $bin (build first)" >&2; exit 1; }
[ -x "$remote" ] || { echo "systemd-journal-remote missing: apt-get install systemd-journal-remote" >&2; exit 1; }
mkdir -p "$work"
journal=$work/bench-$lines.journal

if [ ! -s "$journal" ]; then
	echo "generating $lines entries into $journal ..." >&2
	rm -f "$work"/bench-"$lines"*.journal
	python3 "$root/bench/genlog.py" --lines "$lines" --seed 1 --format bsd |
		python3 "$here/syslog2export.py" --year 2024 |
		"$remote" --output="$journal" --split-mode=none - 2>"$work/remote.log"
fi
# journal-remote rotates a file that outgrows its size limit: take them all
files=("$work"/bench-"$lines"*.journal)
fileargs=()
for f in "${files[@]}"; do fileargs+=("--source.journal.file=$f"); done
pattern="$work/bench-$lines*.journal"

entries=$(journalctl --file "$pattern" -o cat | wc -l)
postfix=$(journalctl --file "$pattern" -o cat SYSLOG_FACILITY=2 | wc -l)
size=$(du -cm "${files[@]}" | tail -1 | cut -f1)
cat "${files[@]}" >/dev/null
echo "journal: ${#files[@]} file(s), $size MB, $entries entries ($postfix with SYSLOG_FACILITY=2)"

# Interleaved runs (so a load spike hits both sides alike); best wall time
# and best CPU time (user+sys, less sensitive to other load) of each command.
python3 - "$runs" "$entries" "$postfix" "$bin" "$pattern" "${fileargs[@]}" <<'PY'
import os, re, resource, subprocess, sys, time

runs, entries, postfix, binary, pattern = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
fileargs = sys.argv[6:]
cmds = [
    ("journalctl --file X -o cat > /dev/null", ["journalctl", "--file", pattern, "-o", "cat"], entries),
    ("journalctl --file X -o cat SYSLOG_FACILITY=2 > /dev/null",
     ["journalctl", "--file", pattern, "-o", "cat", "SYSLOG_FACILITY=2"], postfix),
    ("postfix_tls_exporter --once --source.start=beginning --source.journal.file=X",
     [binary, "--once", "--source.start=beginning"] + fileargs, None),
]
best = {}
for _ in range(runs):
    for name, argv, _n in cmds:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        out = subprocess.run(argv, stdout=subprocess.PIPE if argv[0] == binary else subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, check=True).stdout
        wall = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        w, c = best.get(name, (wall, cpu))
        best[name] = (min(w, wall), min(c, cpu))
        if out:
            m = re.search(rb"^postfix_tls_exporter_journal_entries_read_total (\S+)$", out, re.M)
            read = int(float(m.group(1)))
print("%-80s %8s %14s %8s %14s" % ("", "wall s", "entries/s", "cpu s", "entries/cpu-s"))
for name, argv, n in cmds:
    n = n if n is not None else read
    w, c = best[name]
    print("%-80s %8.3f %14.0f %8.3f %14.0f" % (name, w, n / w, c, n / c))
print("exporter read %d entries (match SYSLOG_FACILITY=2) and parsed them" % read)
jw, jc = best[cmds[0][0]]
ew, ec = best[cmds[2][0]]
print("exporter / journalctl -o cat: wall time %.2f, CPU time %.2f" % (ew / jw, ec / jc))
PY

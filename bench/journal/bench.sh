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
shared=${PTE_SHARED:-$root/../shared}
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
	python3 "$shared/bench/genlog.py" --lines "$lines" --seed 1 --format bsd |
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

# best - run "$@" $runs times, print the best wall time in seconds
best() {
	local b="" t
	for _ in $(seq "$runs"); do
		t=$( { /usr/bin/env TIMEFORMAT=%R bash -c 'time "$@" >/dev/null 2>&1' _ "$@"; } 2>&1 | tail -1)
		if [ -z "$b" ] || awk "BEGIN{exit !($t < $b)}"; then b=$t; fi
	done
	echo "$b"
}

t_cat=$(best journalctl --file "$pattern" -o cat)
t_cat_mail=$(best journalctl --file "$pattern" -o cat SYSLOG_FACILITY=2)
t_exp=$(best "$bin" --once --source.start=beginning "${fileargs[@]}")
read_total=$("$bin" --once --source.start=beginning "${fileargs[@]}" |
	awk '$1 == "postfix_tls_exporter_journal_entries_read_total" {print $2}')

rate() { awk "BEGIN{printf \"%.0f\", $1 / $2}"; }
echo "journal: ${#files[@]} file(s), $size MB, $entries entries ($postfix with SYSLOG_FACILITY=2)"
printf '%-72s %7.3f s  %9s entries/s\n' "journalctl --file X -o cat > /dev/null" "$t_cat" "$(rate "$entries" "$t_cat")"
printf '%-72s %7.3f s  %9s entries/s\n' "journalctl --file X -o cat SYSLOG_FACILITY=2 > /dev/null" "$t_cat_mail" "$(rate "$postfix" "$t_cat_mail")"
printf '%-72s %7.3f s  %9s entries/s\n' "postfix_tls_exporter --once --source.start=beginning --source.journal.file=X" "$t_exp" "$(rate "$read_total" "$t_exp")"
echo "exporter read $read_total entries (match SYSLOG_FACILITY=2) and parsed them"
awk "BEGIN{printf \"exporter wall time / journalctl -o cat wall time: %.2f (same selection: %.2f)\n\", $t_exp / $t_cat, $t_exp / $t_cat_mail}"

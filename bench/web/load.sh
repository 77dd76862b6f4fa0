#!/bin/bash
# load.sh - /metrics under load while postfix_tls_exporter ingests a 1M-line log.
#
# Usage: bench/web/load.sh [path-to-binary]
#   The binary defaults to $PTE_BINARY, then build/src/postfix_tls_exporter.
#   The log is bench/genlog.py --lines 1000000 --hosts 20000
#   --seed 1, cached in $PTE_BENCH_CACHE (default /tmp/pte-bench-cache) under
#   the same name bench/ingest.sh uses.
#
# What it does, on 127.0.0.1:19890 (and :19891 for the comparison):
#   1. --once over the log gives the reference metric values.
#   2. The daemon starts reading the log from the beginning; at once wrk
#      sends GET /metrics over 50 connections for 10 s, then over 10
#      connections for 10 s (keep-alive, 2 threads), then over 1 (the
#      service time of one scrape, without queueing).
#   3. When ingest has finished, every postfix_tls_* sample must equal the
#      --once reference: load may slow ingest, never change its result.
#   4. If prometheus-postfix-exporter (Debian) is installed, the same two
#      wrk runs against it on the same log, for comparison.
# Prints req/s, p50 and p99 latency per run, errors, lines ingested during
# each run, and exits non-zero on request errors or a count mismatch.
# Needs wrk, curl, python3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${PTE_BINARY:-$here/../../build/src/postfix_tls_exporter}}
[ -x "$bin" ] || { echo "load.sh: no executable '$bin'; pass the binary as the first argument" >&2; exit 2; }
for t in wrk curl python3; do
	command -v "$t" >/dev/null || { echo "load.sh: '$t' is not installed (Debian package '$t')" >&2; exit 2; }
done
port=19890
peer_port=19891
duration=${PTE_LOAD_DURATION:-10s}

cache=${PTE_BENCH_CACHE:-/tmp/pte-bench-cache}
log=$cache/genlog-l1000000-h20000-s1-bsd.log
mkdir -p "$cache"
chmod 755 "$cache"
if [ ! -s "$log" ]; then
	echo "# generating $log"
	python3 "$here/../genlog.py" --lines 1000000 --hosts 20000 --seed 1 --out "$log.tmp"
	mv "$log.tmp" "$log"
fi
chmod 644 "$log"
lines=$(wc -l < "$log")

work=$(mktemp -d /tmp/pte-web-load.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

user_args=()
[ "$(id -u)" = 0 ] && user_args=(--user=nobody)

metric() { # metric URL NAME -> value or empty
	curl -s --max-time 5 "$1" | awk -v n="$2" '$1 == n { print $2 }'
}

wait_port() {
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/metrics" && return 0
		sleep 0.1
	done
	echo "load.sh: nothing listens on 127.0.0.1:$1" >&2
	return 1
}

# to_ms VALUE - wrk prints 812.00us, 1.52ms or 1.01s
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else printf "?" }'
}

failures=0
# run_wrk LABEL URL CONNECTIONS LINES_METRIC_URL
run_wrk() {
	local threads=2
	[ "$3" -lt 2 ] && threads=1
	local label=$1 url=$2 conns=$3 lines_url=$4 out before after
	out=$work/wrk-$label-$conns.txt
	before=$(metric "$lines_url" postfix_tls_exporter_lines_read_total || true)
	wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url" > "$out" 2>&1
	after=$(metric "$lines_url" postfix_tls_exporter_lines_read_total || true)
	local rps p50 p99 non2xx sockerr
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
	sockerr=$(awk '/Socket errors:/ { sub(/.*Socket errors: /, ""); print }' "$out")
	printf '%-28s %5s conns  %10s req/s  p50 %8s ms  p99 %8s ms  non-2xx %s  socket errors %s' \
		"$label" "$conns" "${rps:-?}" "$p50" "$p99" "${non2xx:-0}" "${sockerr:-none}"
	[ -n "$before" ] && printf '  ingest %s -> %s lines' "${before%.*}" "${after%.*}"
	printf '\n'
	if [ -n "${non2xx:-}" ] || [ -n "${sockerr:-}" ]; then
		failures=$((failures + 1))
	fi
}

echo "# log: $log ($lines lines)"
echo "# reference: $bin --once"
start=$(date +%s.%N)
"$bin" --once --source.file="$log" > "$work/once.prom"
echo "# --once took $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s"

# wrk's 50 connections all come from 127.0.0.1: lift the per-address
# limit (default 8) so the benchmark measures serving, not refusals.
"$bin" --web.listen-address="127.0.0.1:$port" --source.file="$log" --source.start=beginning \
	--web.max-connections-per-ip=64 "${user_args[@]}" > "$work/daemon.log" 2>&1 &
pids+=($!)
wait_port "$port"
url="http://127.0.0.1:$port/metrics"
echo "# wrk -t2 -d$duration --latency $url (keep-alive)"
run_wrk postfix_tls_exporter "$url" 50 "$url"
run_wrk postfix_tls_exporter "$url" 10 "$url"
# One connection: the service time of a scrape without queueing.
run_wrk postfix_tls_exporter "$url" 1 "$url"
echo "# body $(curl -s "$url" | wc -c) bytes, gzip $(curl -s -H 'Accept-Encoding: gzip' "$url" | wc -c) bytes"

for _ in $(seq 600); do
	n=$(metric "$url" postfix_tls_exporter_lines_read_total || true)
	[ "${n%.*}" = "$lines" ] && break
	sleep 0.5
done
curl -s "$url" > "$work/live.prom"
series=$(grep -vc '^#' "$work/live.prom")
grep '^postfix_tls_' "$work/once.prom" | sort > "$work/once.sorted"
grep '^postfix_tls_' "$work/live.prom" | sort > "$work/live.sorted"
if cmp -s "$work/once.sorted" "$work/live.sorted"; then
	echo "ok: after the load, all $(wc -l < "$work/live.sorted") postfix_tls_* samples equal the --once reference ($series series exposed)"
else
	echo "FAIL: ingest under load differs from --once:"
	diff "$work/once.sorted" "$work/live.sorted" | head -20
	failures=$((failures + 1))
fi

if command -v prometheus-postfix-exporter >/dev/null; then
	prometheus-postfix-exporter --web.listen-address="127.0.0.1:$peer_port" --postfix.logfile_path="$log" \
		--postfix.showq_path="$work/no-showq" > "$work/peer.log" 2>&1 &
	pids+=($!)
	if wait_port "$peer_port"; then
		purl="http://127.0.0.1:$peer_port/metrics"
		echo "# same against prometheus-postfix-exporter $(dpkg-query -W -f '${Version}' prometheus-postfix-exporter 2>/dev/null) ($(curl -s "$purl" | grep -vc '^#') series)"
		run_wrk prometheus-postfix-exporter "$purl" 50 ""
		run_wrk prometheus-postfix-exporter "$purl" 10 ""
		run_wrk prometheus-postfix-exporter "$purl" 1 ""
		echo "# body $(curl -s "$purl" | wc -c) bytes"
	fi
else
	echo "# prometheus-postfix-exporter not installed: no comparison"
fi

[ "$failures" = 0 ] || { echo "load.sh: $failures failure(s)"; exit 1; }

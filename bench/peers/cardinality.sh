#!/bin/sh
# cardinality.sh - the cardinality attack benchmark for the peer tables:
# 1M distinct client host names (and recipient domains) over 100k
# registrable domains, against the 1k-host case. Prints both; fails if a
# series count exceeds its limit, a sum is not exact, a heavy hitter lost
# its label, or RSS grew by more than 4 MiB over the 1k case.
#
# Usage: cardinality.sh BENCH_BINARY [HOSTS [DOMAINS]]
set -eu
bench=$1
hosts=${2:-1000000}
domains=${3:-100000}

run() {
	echo "== $1 hosts over $2 domains" >&2
	"$bench" "$1" "$2" | tee /dev/stderr
}
small=$(run 1000 1000)
big=$(run "$hosts" "$domains")

get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
fail=0
for v in "$small" "$big"; do
	[ "$(get "$v" series_inbound)" -le "$(get "$v" max_series_inbound)" ] || { echo "inbound series over the limit"; fail=1; }
	[ "$(get "$v" series_outbound)" -le "$(get "$v" max_series_outbound)" ] || { echo "outbound series over the limit"; fail=1; }
	[ "$(get "$v" tracked_inbound)" -le "$(get "$v" max_tracked)" ] || { echo "tracking over the limit"; fail=1; }
	[ "$(get "$v" exact)" = yes ] || { echo "sums not exact"; fail=1; }
	[ "$(get "$v" heavy_hitters_labelled)" = yes ] || { echo "heavy hitters lost their labels"; fail=1; }
done
rss_small=$(get "$small" rss_kib)
rss_big=$(get "$big" rss_kib)
delta=$((rss_big - rss_small))
echo "RSS: 1k hosts ${rss_small} KiB, $hosts hosts ${rss_big} KiB, difference ${delta} KiB"
[ "$delta" -le 4096 ] || { echo "RSS grew by more than 4 MiB"; fail=1; }
if [ "$fail" = 0 ]; then echo "cardinality: 1 passed, 0 failed"; else echo "cardinality: 0 passed, 1 failed"; fi
exit "$fail"

#!/bin/sh
# cardinality.sh - the cardinality attack benchmark for the peer tables:
# 1M distinct client host names (and recipient domains) over 100k
# registrable domains, against the 1k-host case. Prints both; fails if a
# series count exceeds its limit, a sum is not exact, a heavy hitter lost
# its label, or RSS is not bounded. First through the API
# (bench-cardinality.c), then through the daemon when PTE_BINARY is set.
#
# The tables' memory is reserved for their bounds (--peers.track) but
# becomes resident only as entries are used, so RSS grows with the peers
# until the tables are full and not after: through the API, 100k and 1M
# distinct hosts (both fill every table) must be within 1 MiB of each
# other; the daemon's 1M-host run within 4 MiB of its 1k-host run.
#
# Usage: cardinality.sh BENCH_BINARY [HOSTS [DOMAINS]]
set -eu
bench=$1
hosts=${2:-1000000}
domains=${3:-100000}

run() {
	"$bench" "$1" "$2"
}
small=$(run 1000 1000)
echo "api: $small" | tr '\n' ' '; echo
mid=$(run $((hosts / 10)) "$domains")
echo "api: $mid" | tr '\n' ' '; echo
big=$(run "$hosts" "$domains")
echo "api: $big" | tr '\n' ' '; echo

get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
fail=0
# AddressSanitizer's quarantine keeps freed memory resident: RSS says
# nothing about the tables there, so the RSS limits are not enforced.
sanitized=0
grep -q __asan_init "$bench" && sanitized=1
rss_limit() { # what delta limit_kib
	if [ "$2" -le "$3" ]; then return 0; fi
	if [ "$sanitized" = 1 ]; then echo "($1 RSS limit not enforced under AddressSanitizer)"; return 0; fi
	echo "$1 RSS grew by more than $3 KiB"; fail=1
}
for v in "$small" "$mid" "$big"; do
	[ "$(get "$v" series_inbound)" -le "$(get "$v" max_series_inbound)" ] || { echo "inbound series over the limit"; fail=1; }
	[ "$(get "$v" series_outbound)" -le "$(get "$v" max_series_outbound)" ] || { echo "outbound series over the limit"; fail=1; }
	[ "$(get "$v" tracked_inbound)" -le "$(get "$v" max_tracked)" ] || { echo "tracking over the limit"; fail=1; }
	[ "$(get "$v" exact)" = yes ] || { echo "sums not exact"; fail=1; }
	[ "$(get "$v" heavy_hitters_labelled)" = yes ] || { echo "heavy hitters lost their labels"; fail=1; }
done
rss_small=$(get "$small" rss_kib)
rss_mid=$(get "$mid" rss_kib)
rss_big=$(get "$big" rss_kib)
[ "$(get "$mid" tracked_inbound)" = "$(get "$mid" max_tracked)" ] || { echo "the $((hosts / 10))-host run did not fill the table"; fail=1; }
delta=$((rss_big - rss_mid))
echo "RSS: 1k hosts ${rss_small} KiB, $((hosts / 10)) hosts ${rss_mid} KiB, $hosts hosts ${rss_big} KiB; full tables, 10x the hosts: ${delta} KiB more"
rss_limit api "$delta" 1024
# The same attack through the daemon (header scanner, rules, sessions):
# `--once` on a generated log, peak RSS from /proc via GNU time's %M.
if [ -n "${PTE_BINARY:-}" ] && [ -x "$PTE_BINARY" ] && [ -x /usr/bin/time ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	here=$(dirname "$0")
	for n in 1000 "$hosts"; do
		d=$domains
		[ "$n" -lt "$d" ] && d=$n
		python3 "$here/genlog.py" "$n" "$d" > "$tmp/mail.log"
		start=$(date +%s)
		POSTFIX_TLS_EXPORTER_ALLOW_ROOT=1 /usr/bin/time -f "%M" -o "$tmp/rss" \
			"$PTE_BINARY" --once --source.file="$tmp/mail.log" > "$tmp/out.prom"
		secs=$(( $(date +%s) - start ))
		rss=$(tail -1 "$tmp/rss")
		series=$(grep -c '^postfix_tls_inbound_peer_sessions_total{' "$tmp/out.prom" || true)
		peers=$(awk '/^postfix_tls_inbound_peer_sessions_total\{/ { s += $2 } END { print s + 0 }' "$tmp/out.prom")
		total=$(awk '/^postfix_tls_inbound_sessions_total\{/ { s += $2 } END { print s + 0 }' "$tmp/out.prom")
		heavy=$(grep -cE '^postfix_tls_inbound_peer_sessions_total\{peer_domain="(google|outlook|amazonses)\.com"' "$tmp/out.prom" || true)
		echo "daemon: hosts=$n domains=$d lines=$((2 * n)) seconds=$secs peak_rss_kib=$rss series_inbound=$series sum_peers=$peers sum_total=$total heavy_labelled=$heavy"
		[ "$series" -le 606 ] || { echo "daemon: inbound series over the limit"; fail=1; }
		[ "$peers" = "$total" ] && [ "$total" = "$n" ] || { echo "daemon: sums not exact"; fail=1; }
		[ "$heavy" = 3 ] || { echo "daemon: heavy hitters not labelled"; fail=1; }
		eval "daemon_rss_$n=$rss"
	done
	eval "big_rss=\$daemon_rss_$hosts"
	ddelta=$((big_rss - daemon_rss_1000))
	echo "daemon RSS: 1k hosts ${daemon_rss_1000} KiB, $hosts hosts ${big_rss} KiB, difference ${ddelta} KiB"
	rss_limit daemon "$ddelta" 4096
fi
if [ "$fail" = 0 ]; then echo "cardinality: 1 passed, 0 failed"; else echo "cardinality: 0 passed, 1 failed"; fi
exit "$fail"

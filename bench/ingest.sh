#!/bin/sh
# ingest.sh - file ingest (lines/s, MB/s, peak RSS) and /metrics scrape
# latency of postfix_tls_exporter on the generated benchmark log.
#
# Usage: bench/ingest.sh [path-to-binary] [ingest_bench.py options]
#   The binary defaults to $PTE_BINARY, then build/src/postfix_tls_exporter.
#   The generated logs (about 140 MB each) are cached in $PTE_BENCH_CACHE
#   (default /tmp/pte-bench-cache). See bench/ingest_bench.py for options
#   (--runs, --requests, --lines, --hosts, --seed, --skip-scrape).
# Needs python3, /usr/bin/time (Debian package 'time').
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${PTE_BINARY:-$here/../build/src/postfix_tls_exporter}
case ${1:-} in
''|-*) ;;
*) bin=$1; shift ;;
esac
[ -x "$bin" ] || { echo "ingest.sh: no executable '$bin'; pass the binary as the first argument" >&2; exit 2; }
exec python3 "$here/ingest_bench.py" --binary "$bin" "$@"

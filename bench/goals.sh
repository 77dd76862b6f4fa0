#!/bin/sh
# goals.sh - issue 16's performance goals side by side (see bench/goals.py).
#
# Usage: bench/goals.sh [path-to-binary] [goals.py options: --runs N,
#        --cache-dir DIR, --peers N, --skip-ppe, --skip-journal]
#   The binary defaults to $PTE_BINARY, then build/src/postfix_tls_exporter.
#   Installs Debian's prometheus-postfix-exporter when absent (as root).
#   Needs python3, /usr/bin/time (package 'time'), systemd-journal-remote
#   for the journal goal.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${PTE_BINARY:-$here/../build/src/postfix_tls_exporter}
case ${1:-} in
''|-*) ;;
*) bin=$1; shift ;;
esac
[ -x "$bin" ] || { echo "goals.sh: no executable '$bin'; pass the binary as the first argument" >&2; exit 2; }
exec python3 "$here/goals.py" --binary "$bin" "$@"

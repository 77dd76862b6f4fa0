#!/usr/bin/env bash
# quickstart.sh - install the build dependencies, build, and run the daemon
# on this machine's Postfix log: the journal when Postfix logs there, else
# /var/log/mail.log, else the bundled sample (a genuine Postfix 3.7 log, read
# from the beginning) so that the metrics show real numbers straight away.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

port=${PORT:-10125}
args=(--web.listen-address=":$port")
if [ -n "$(journalctl -q -n 1 SYSLOG_FACILITY=2 2>/dev/null)" ]; then
  args+=(--source.journal --source.start=beginning)
  echo "quickstart: reading Postfix from the systemd journal"
elif [ -r /var/log/mail.log ]; then
  args+=(--source.file=/var/log/mail.log --source.start=beginning)
  echo "quickstart: following /var/log/mail.log"
else
  args+=(--source.file="$PWD/packaging/sample/mail.log" --source.start=beginning)
  echo "quickstart: no Postfix log here; using the bundled sample packaging/sample/mail.log"
fi
echo "quickstart: open http://localhost:$port/ (metrics at /metrics, readiness report at /report); Ctrl-C stops"
if [ "$(id -u)" -eq 0 ]; then
  # Reading the journal or mail.log needs root or the adm group; serving does
  # not: the daemon opens its sources, then drops to nobody.
  args+=(--user=nobody)
fi
exec build/src/postfix_tls_exporter "${args[@]}"

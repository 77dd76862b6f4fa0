#!/usr/bin/env bash
# quickstart.sh - install the build dependencies, build, and run the daemon
# on this machine's Postfix log: the journal when Postfix logs there, else
# /var/log/mail.log, else the bundled sample (a genuine Postfix 3.7 log, read
# from the beginning) so that the metrics show real numbers straight away.
#
# It listens on 127.0.0.1 only: /report names your mail peers. LISTEN=:10125
# (or another [HOST]:PORT) opens it up; do that only with a web configuration
# file (TLS and basic auth), WEB_CONFIG=/etc/postfix_tls_exporter/web.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
packaging/deps.sh
[ -d build ] || meson setup build --buildtype=release >/dev/null
ninja -C build >/dev/null

port=${PORT:-10125}
listen=${LISTEN:-127.0.0.1:$port}
args=(--web.listen-address="$listen")
if [ -n "${WEB_CONFIG:-}" ]; then
  args+=(--web.config.file="$WEB_CONFIG")
elif [ "${listen%%:*}" != 127.0.0.1 ] && [ "${listen:0:5}" != "[::1]" ]; then
  echo "quickstart: warning: $listen is reachable from other hosts without TLS or a password;" \
       "/report names your peers. Set WEB_CONFIG to a web configuration file with tls_server_config" \
       "and basic_auth_users (see docs/http.md)" >&2
fi
# Without a TLS summary line per session, protocol, cipher and trust are "unknown".
if command -v postconf >/dev/null 2>&1; then
  level=$(postconf -h smtpd_tls_loglevel 2>/dev/null || echo "?")
  if [ "$level" = 0 ]; then
    echo "quickstart: smtpd_tls_loglevel is 0: Postfix logs no TLS summary, so protocol, cipher and" \
         "trust will be 'unknown'. Fix: postconf -e smtpd_tls_loglevel=1 smtp_tls_loglevel=1 && postfix reload" >&2
  else
    echo "quickstart: smtpd_tls_loglevel is $level"
  fi
fi
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
echo "quickstart: open http://${listen/#:/localhost:}/ (metrics at /metrics, readiness report at /report); Ctrl-C stops"
if [ "$(id -u)" -eq 0 ]; then
  # Reading the journal or mail.log needs root or the adm group; serving does
  # not: the daemon opens its sources, then drops to nobody.
  args+=(--user=nobody)
fi
exec build/src/postfix_tls_exporter "${args[@]}"

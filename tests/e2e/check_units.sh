#!/bin/bash
# check_units.sh SOURCE_ROOT BUILD_ROOT BINARY
# systemd-analyze verify of the units as meson generates them (ExecStart
# pointed at the built binary, so the check runs before installation), and
# the offline "systemd-analyze security" exposure score of the service,
# which must stay at or below 2.0 ("OK").
set -u
src=$1 build=$2 bin=$3
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze not installed"; exit 77
fi
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
unit=$build/packaging/postfix_tls_exporter.service
[ -f "$unit" ] || { echo "FAIL: $unit not generated"; exit 1; }
sed "s|^ExecStart=[^ ]*|ExecStart=$bin|" "$unit" > "$tmp/postfix_tls_exporter.service"
cp "$src/packaging/systemd/postfix_tls_exporter.socket" "$tmp/"
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# --man=no: the man page is not installed yet (the package test verifies
# the installed units with it).
if out=$(cd "$tmp" && systemd-analyze verify --man=no ./postfix_tls_exporter.service ./postfix_tls_exporter.socket 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify: service and socket clean"
else
	bad "systemd-analyze verify:"; echo "$out"
fi

sec=$(cd "$tmp" && systemd-analyze security --offline=yes ./postfix_tls_exporter.service 2>&1)
score=$(printf '%s\n' "$sec" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "systemd-analyze security --offline: exposure $score (<= 2.0)"
else
	bad "systemd-analyze security: exposure '${score:-?}' > 2.0"; printf '%s\n' "$sec" | grep '✗'
fi

for want in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'StateDirectory=postfix_tls_exporter' \
	'User=postfix_tls_exporter' 'SupplementaryGroups=systemd-journal adm' \
	'EnvironmentFile=-/etc/default/postfix_tls_exporter' 'MemoryDenyWriteExecute=yes' \
	'ProtectSystem=strict' 'CapabilityBoundingSet=$' 'SystemCallFilter=@system-service'; do
	if grep -q "^$want" "$tmp/postfix_tls_exporter.service"; then ok "unit has $want"; else bad "unit lacks $want"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

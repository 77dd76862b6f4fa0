#!/bin/bash
# systemd-boot.sh - the Debian package under a real, booted systemd.
#
# Boots a minimal Debian 12 (debootstrap, cached in /var/tmp/pte-nspawn-root
# and used read-only through "systemd-nspawn --ephemeral") with the host's
# network, installs the .deb there with apt-get, and checks what only a
# running service manager can show: the service starts under its full
# sandbox (Type=notify READY, User=, SupplementaryGroups=, SystemCallFilter=,
# MemoryDenyWriteExecute= with the PCRE2 interpreter fallback,
# ProtectSystem=strict), reads Postfix lines from the journal through the
# systemd-journal group, "systemctl reload" works, "systemctl stop" ends with
# status 0 and a saved cursor, the socket unit activates the service, the
# online "systemd-analyze security" score, and apt-get purge.
#
# Runs as root and only with CI=true or PTE_PACKAGE_TEST=1 (like
# package-install.sh); skips (77) when systemd-nspawn cannot boot a
# container here. Environment: PTE_SOURCE_ROOT, PTE_BUILD_ROOT.
set -u
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if [ "${CI:-}" != true ] && [ "${PTE_PACKAGE_TEST:-}" != 1 ]; then
	echo "SKIP: boots a container and downloads Debian packages; run with PTE_PACKAGE_TEST=1 (CI=true does)"
	exit 77
fi
src=${PTE_SOURCE_ROOT:?} build=${PTE_BUILD_ROOT:?}
root=/var/tmp/pte-nspawn-root
machine=pte-boot-$$
t0=$(date +%s)

need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null || {
		echo "SKIP: cannot install ${need[*]}"; exit 77; }
fi

# the package: the one package-install.sh built, unless the tree changed since
deb=$(ls "$build"/tests/e2e/deb/prometheus-postfix-tls-exporter_*.deb 2>/dev/null | tail -1)
if [ -z "$deb" ] || [ -n "$(find "$src/src" "$src/include" "$src/packaging" "$src/man" "$src/dashboards" \
	"$src/meson.build" -newer "$deb" -type f -print -quit 2>/dev/null)" ]; then
	bash "$src/packaging/build-deb.sh" --install-build-deps --no-lintian "$build/tests/e2e/deb" > /dev/null 2>&1 ||
		{ bad "build-deb.sh failed"; echo "$pass passed, $fail failed"; exit 1; }
	deb=$(ls "$build"/tests/e2e/deb/prometheus-postfix-tls-exporter_*.deb | tail -1)
fi

# the image (cached; the container never writes to it)
if [ ! -x "$root/lib/systemd/systemd" ] || [ ! -f "$root/.pte-complete" ]; then
	rm -rf "$root"
	echo "debootstrap bookworm -> $root (cached for later runs)"
	if ! debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates \
		bookworm "$root" > /tmp/pte-debootstrap.log 2>&1; then
		tail -5 /tmp/pte-debootstrap.log
		echo "SKIP: debootstrap failed (no Debian mirror?)"; exit 77
	fi
	echo pte-nspawn > "$root/etc/hostname"
	touch "$root/.pte-complete"
fi
t_image=$(date +%s)

# test ports on the shared network: service and socket unit
free_port() {
	python3 -c 'import socket,sys
for p in range(int(sys.argv[1]), 19700):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()' "$1"
}
port=$(free_port 19680)
sport=$(free_port $((port + 1)))
debdir=$(dirname "$(realpath "$deb")")

log=$(mktemp /tmp/pte-nspawn.XXXXXX)
systemd-nspawn -q -D "$root" --ephemeral --boot --register=no --keep-unit --machine="$machine" \
	--bind-ro="$debdir:/mnt/deb" > "$log" 2>&1 &
nspawn=$!
cleanup() {
	if kill -0 "$nspawn" 2>/dev/null; then
		kill -TERM "$nspawn" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$nspawn" 2>/dev/null
	fi
	rm -f "$log"
}
trap cleanup EXIT

pid1=
for _ in $(seq 100); do
	pid1=$(pgrep -P "$nspawn" | head -1)
	[ -n "$pid1" ] && [ "$(cat /proc/"$pid1"/comm 2>/dev/null)" = systemd ] && break
	kill -0 "$nspawn" 2>/dev/null || break
	sleep 0.2
done
if [ -z "$pid1" ] || ! kill -0 "$nspawn" 2>/dev/null; then
	tail -5 "$log"
	echo "SKIP: systemd-nspawn cannot boot a container on this machine"; exit 77
fi
ct() { nsenter -t "$pid1" -a "$@"; }
for _ in $(seq 150); do
	state=$(ct systemctl is-system-running 2>/dev/null)
	case "$state" in running|degraded) break ;; esac
	sleep 0.2
done
ok "container booted (systemd $(ct systemctl --version | head -1 | awk '{print $2}'), state $state"

# Listen on test ports, not :10125, before the package starts the service.
ct mkdir -p /etc/systemd/system/postfix_tls_exporter.service.d /etc/systemd/system/postfix_tls_exporter.socket.d
ct sh -c "printf '[Service]\nEnvironment=TEST_LISTEN=--web.listen-address=127.0.0.1:$port\nExecStart=\nExecStart=/usr/bin/postfix_tls_exporter \$TEST_LISTEN \$ARGS\n' > /etc/systemd/system/postfix_tls_exporter.service.d/test.conf"
ct sh -c "printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:$sport\n' > /etc/systemd/system/postfix_tls_exporter.socket.d/test.conf"

if ct sh -c "DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /mnt/deb/$(basename "$deb")" > /tmp/pte-nspawn-apt.log 2>&1; then
	ok "apt-get install in the container (postinst creates the user, enables and starts the service)"
else
	bad "apt-get install in the container"; tail -20 /tmp/pte-nspawn-apt.log
fi
for _ in $(seq 50); do [ "$(ct systemctl is-active postfix_tls_exporter.service)" = active ] && break; sleep 0.2; done
if [ "$(ct systemctl is-active postfix_tls_exporter.service)" = active ]; then
	ok "service active (Type=notify: READY=1 received) with status '$(ct systemctl show -p StatusText --value postfix_tls_exporter.service)'"
else
	bad "service not active"; ct systemctl status --no-pager postfix_tls_exporter.service | tail -20
fi
mpid=$(ct systemctl show -p MainPID --value postfix_tls_exporter.service)
st=$(ct cat /proc/"$mpid"/status 2>/dev/null)
uid=$(printf '%s\n' "$st" | awk '/^Uid:/ {print $2}')
if [ "$(ct id -u postfix_tls_exporter)" = "$uid" ] && printf '%s\n' "$st" | grep -q '^Seccomp:[[:space:]]*2' &&
	printf '%s\n' "$st" | grep -q '^NoNewPrivs:[[:space:]]*1' && printf '%s\n' "$st" | grep -q '^CapEff:[[:space:]]*0000000000000000'; then
	ok "daemon runs as postfix_tls_exporter with seccomp filter, no_new_privs, no capabilities"
else
	bad "daemon credentials/sandbox: $(printf '%s\n' "$st" | grep -E '^(Uid|Seccomp|NoNewPrivs|CapEff)' | tr '\n' ' ')"
fi

# Postfix lines into the journal (facility mail), one logger process per
# smtpd "process" so that the pid is the same on every line of a session.
ct sh -c 'printf "%s\n" "connect from mail.example.org[192.0.2.10]" \
  "Anonymous TLS connection established from mail.example.org[192.0.2.10]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256" \
  "disconnect from mail.example.org[192.0.2.10] ehlo=2 starttls=1 quit=1 commands=4" | logger --id -p mail.info -t postfix/smtpd'
ct sh -c 'printf "%s\n" "connect from plain.example.net[192.0.2.11]" \
  "disconnect from plain.example.net[192.0.2.11] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" | logger --id -p mail.info -t postfix/smtpd'
sleep 1
m=
for _ in $(seq 50); do
	m=$(curl -s "http://127.0.0.1:$port/metrics")
	printf '%s\n' "$m" | grep -q '^postfix_tls_inbound_sessions_total{syslog_name="postfix",encryption="plaintext",mail="true"} 1' && break
	sleep 0.2
done
want=(
	'postfix_tls_inbound_connections_total{syslog_name="postfix"} 2'
	'postfix_tls_inbound_sessions_total{syslog_name="postfix",encryption="tls",mail="false"} 1'
	'postfix_tls_inbound_sessions_total{syslog_name="postfix",encryption="plaintext",mail="true"} 1'
	'postfix_tls_inbound_handshakes_total{syslog_name="postfix",trust="anonymous",protocol="TLSv1.3",cipher="TLS_AES_256_GCM_SHA384",key_exchange="x25519"} 1'
	'postfix_tls_exporter_source_up{source="journal"} 1'
)
missing=0
for w in "${want[@]}"; do printf '%s\n' "$m" | grep -qxF "$w" || { echo "    missing: $w"; missing=1; }; done
if [ $missing = 0 ]; then
	ok "journal read through group systemd-journal under the sandbox: exact session counts (PCRE2 without JIT under MemoryDenyWriteExecute)"
else
	bad "metrics from the journal"; printf '%s\n' "$m" | grep '^postfix_tls_inbound' | sed 's/^/    /'
fi
ct journalctl -u postfix_tls_exporter --no-pager -o cat | grep -i jit | head -2 | sed 's/^/     daemon: /'

if ct systemctl reload postfix_tls_exporter.service && [ "$(ct systemctl is-active postfix_tls_exporter.service)" = active ]; then
	ok "systemctl reload (SIGHUP through ExecReload=)"
else
	bad "systemctl reload"; ct journalctl -u postfix_tls_exporter --no-pager | tail -5
fi
sec=$(ct systemd-analyze security --no-pager postfix_tls_exporter.service 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: //p')
if awk -v s="${sec%% *}" 'BEGIN { exit !(s != "" && s <= 2.0) }'; then
	ok "systemd-analyze security on the booted system: $sec"
else
	bad "systemd-analyze security: '$sec'"
fi
ct systemctl stop postfix_tls_exporter.service
res=$(ct systemctl show -p Result --value postfix_tls_exporter.service)
code=$(ct systemctl show -p ExecMainStatus --value postfix_tls_exporter.service)
if [ "$res" = success ] && [ "$code" = 0 ] && ct test -s /var/lib/postfix_tls_exporter/journal.cursor; then
	ok "systemctl stop: exit status 0, journal cursor saved in the StateDirectory"
else
	bad "stop: Result=$res ExecMainStatus=$code, state: $(ct ls -A /var/lib/postfix_tls_exporter 2>&1)"
fi

# socket activation: ARGS gets --web.systemd-socket, the first connection starts the service
ct sh -c 'sed -i "s/^ARGS=.*/ARGS=\"--web.systemd-socket\"/" /etc/default/postfix_tls_exporter'
ct sh -c 'sed -i "s/^Environment=TEST_LISTEN=.*/Environment=TEST_LISTEN=/" /etc/systemd/system/postfix_tls_exporter.service.d/test.conf'
ct systemctl daemon-reload
ct systemctl start postfix_tls_exporter.socket
if curl -s -m 10 "http://127.0.0.1:$sport/metrics" | grep -q '^postfix_tls_exporter_build_info' &&
	[ "$(ct systemctl is-active postfix_tls_exporter.service)" = active ]; then
	ok "socket unit: first scrape on 127.0.0.1:$sport activated the service"
else
	bad "socket activation"; ct journalctl -u postfix_tls_exporter.socket -u postfix_tls_exporter --no-pager | tail -8
fi
ct systemctl stop postfix_tls_exporter.socket postfix_tls_exporter.service

if ct sh -c 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq prometheus-postfix-tls-exporter' > /dev/null 2>&1 &&
	! ct test -e /var/lib/postfix_tls_exporter && ! ct test -e /lib/systemd/system/postfix_tls_exporter.service &&
	! ct test -e /etc/default/postfix_tls_exporter; then
	ok "apt-get purge in the container: units, default file and state removed"
else
	bad "purge in the container"
fi
echo "timing: image $((t_image - t0)) s, boot+tests $(( $(date +%s) - t_image )) s"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

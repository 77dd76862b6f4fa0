#!/bin/bash
# package-install.sh - build the Debian package, install it with apt-get,
# run the installed binary as the packaged user against a real Postfix log,
# purge it and check that nothing is left behind.
#
# It installs and removes a package on this machine, so it runs only as
# root and only when asked: CI=true or PTE_PACKAGE_TEST=1 (exit 77 = skip
# otherwise). Environment from tests/meson.build: PTE_SOURCE_ROOT,
# PTE_BUILD_ROOT, PTE_BINARY.
#
# The log is the one tests/e2e/postfix-e2e.py leaves in
# <build>/tests/e2e/artifacts (with its expected metrics); without it the
# genuine Postfix log in tests/data is used and the installed binary
# must agree with the built one.
set -u
pkg=prometheus-postfix-tls-exporter
user=postfix_tls_exporter
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" = 0 ] && exit 0 || exit 1; }

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (installs a package)"; exit 77; fi
if [ "${CI:-}" != true ] && [ "${PTE_PACKAGE_TEST:-}" != 1 ]; then
	echo "SKIP: installs a package on this machine; run with PTE_PACKAGE_TEST=1 (CI=true does)"
	exit 77
fi
src=${PTE_SOURCE_ROOT:?} build=${PTE_BUILD_ROOT:?} built_bin=${PTE_BINARY:?}
here=$(cd "$(dirname "$0")" && pwd)
out=$build/tests/e2e/deb
tmp=$(mktemp -d /tmp/pte-pkg.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)

# leftovers of an interrupted run
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed\|config-files'; then
	echo "purging a leftover $pkg"
	dpkg --purge "$pkg" >/dev/null
fi

need=()
for p in dpkg-dev debhelper lintian fakeroot; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- build ---------------------------------------------------------------------
if bash "$src/packaging/build-deb.sh" --install-build-deps "$out" > "$tmp/build.out" 2>&1; then
	ok "build-deb.sh: package built, lintian without errors"
else
	bad "build-deb.sh failed"
fi
sed 's/^/    /' "$tmp/build.out"
deb=$(ls "$out"/${pkg}_*.deb 2>/dev/null | tail -1)
[ -n "$deb" ] || { bad "no .deb in $out"; finish; }
t_build=$(date +%s)
# the libraries src/dynlib.c loads with dlopen() are dependencies all the same
deps=$(dpkg-deb -f "$deb" Depends)
for lib in libmicrohttpd12 libgnutls30 libsystemd0; do
	if [[ ",$deps" == *[\ ,]$lib* ]]; then ok "Depends names $lib"; else bad "Depends lacks $lib: $deps"; fi
done

# ---- snapshot, install -------------------------------------------------------------
snapshot() {
	find /etc /usr /lib /var/lib /var/cache /run/systemd -xdev \
		\( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache/apt \
		   -o -path /var/cache/debconf -o -path /var/cache/man -o -path /var/cache/ldconfig \
		   -o -path /var/lib/systemd/catalog -o -path /var/lib/postfix-pte-e2e \
		   -o -path /var/lib/postfix-pte-e2e-sink \) -prune -o -print 2>/dev/null | sort
}
snapshot > "$tmp/before"
if DEBIAN_FRONTEND=noninteractive apt-get install -y "$(realpath "$deb")" > "$tmp/install.out" 2>&1; then
	ok "apt-get install $(basename "$deb")"
else
	bad "apt-get install failed"; sed 's/^/    /' "$tmp/install.out"; finish
fi

for f in /usr/bin/postfix_tls_exporter /lib/systemd/system/postfix_tls_exporter.service \
	/lib/systemd/system/postfix_tls_exporter.socket /usr/lib/sysusers.d/postfix_tls_exporter.conf \
	/etc/default/postfix_tls_exporter /usr/share/man/man8/postfix_tls_exporter.8.gz \
	/usr/share/postfix_tls_exporter/dashboards; do
	if [ -e "$f" ]; then ok "installed $f"; else bad "missing $f"; fi
done
if dpkg-query -W -f='${Conffiles}\n' "$pkg" | grep -q /etc/default/postfix_tls_exporter; then
	ok "/etc/default/postfix_tls_exporter is a conffile"
else
	bad "/etc/default/postfix_tls_exporter is not a conffile"
fi
if grep -q '^ARGS=""' /etc/default/postfix_tls_exporter; then ok "default file has ARGS=\"\""; else bad "default file lacks ARGS=\"\""; fi
groups=$(id -nG "$user" 2>/dev/null)
if getent passwd "$user" >/dev/null && [[ " $groups " == *" systemd-journal "* ]] && [[ " $groups " == *" adm "* ]]; then
	ok "user $user exists, groups: $groups"
else
	bad "user $user missing or not in systemd-journal and adm (groups: '$groups')"
fi
if [ -L /etc/systemd/system/multi-user.target.wants/postfix_tls_exporter.service ]; then
	ok "service enabled (multi-user.target.wants)"
else
	bad "service not enabled"
fi
if [ ! -e /etc/systemd/system/sockets.target.wants/postfix_tls_exporter.socket ]; then
	ok "socket unit installed but not enabled"
else
	bad "socket unit enabled by the package"
fi
man_opt=--man=no
command -v man >/dev/null && man_opt=--man=yes
if v=$(systemd-analyze verify $man_opt /lib/systemd/system/postfix_tls_exporter.service \
	/lib/systemd/system/postfix_tls_exporter.socket 2>&1) && [ -z "$v" ]; then
	ok "systemd-analyze verify ($man_opt) of the installed units"
else
	bad "systemd-analyze verify of the installed units: $v"
fi
if /usr/bin/postfix_tls_exporter --version 2>&1 | grep -q "$(sed -n "s/^  version : '\(.*\)',/\1/p" "$src/meson.build")"; then
	ok "--version prints the project version"
else
	bad "--version: $(/usr/bin/postfix_tls_exporter --version 2>&1 | head -1)"
fi

# ---- run the installed binary as the packaged user -----------------------------
art=$build/tests/e2e/artifacts
mkdir -p "$tmp/logs"
if [ -f "$art/maillog.log" ]; then
	cp "$art/maillog.log" "$art/sink-maillog.log" "$tmp/logs/"
	logs=("$tmp/logs/maillog.log" "$tmp/logs/sink-maillog.log")
	expected=$art/expected.json
	echo "     log: the e2e run's Postfix logs ($art)"
else
	cp "$here/../data/postfix-3.7-maillog.log" "$tmp/logs/maillog.log"
	logs=("$tmp/logs/maillog.log")
	expected=
	echo "     log: tests/data/postfix-3.7-maillog.log (no e2e artifacts in $art)"
fi
# as /var/log/mail.log on Debian: root:adm 0640, readable through the adm group
chmod 0755 "$tmp" "$tmp/logs"
chgrp adm "${logs[@]}" && chmod 0640 "${logs[@]}"
args=(--once)
for l in "${logs[@]}"; do args+=("--source.file=$l"); done
if setpriv --reuid="$user" --regid="$user" --init-groups --inh-caps=-all \
	/usr/bin/postfix_tls_exporter "${args[@]}" > "$tmp/installed.prom" 2> "$tmp/installed.err"; then
	ok "installed binary --once as $user (log readable through group adm)"
else
	bad "installed binary --once as $user failed: $(tail -5 "$tmp/installed.err")"
fi
"$built_bin" "${args[@]}" > "$tmp/built.prom" 2>/dev/null
if python3 "$here/compare_prom.py" "$tmp/installed.prom" "$tmp/built.prom" $expected; then
	ok "installed binary: metrics equal the built binary's${expected:+ and the e2e expectations}"
else
	bad "installed binary: metrics differ (above)"
fi

# ---- run it the way the service unit does (no booted systemd needed) -------------
# StateDirectory= as systemd creates it, User=, Type=notify, WatchdogSec=; then the
# socket unit's way (LISTEN_FDS + --web.systemd-socket).
install -d -o "$user" -g "$user" -m 0750 /var/lib/postfix_tls_exporter
free_port() {
	python3 -c 'import socket,sys
for p in range(int(sys.argv[1]), 19700):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError: pass
    finally: s.close()' "$1"
}
n_lines=$(cat "${logs[@]}" | wc -l)
src_args=()
for l in "${logs[@]}"; do src_args+=("--source.file=$l"); done
port=$(free_port 19600)
if python3 "$here/sdnotify_run.py" --user "$user" --state-dir /var/lib/postfix_tls_exporter --port "$port" \
	--wait-lines "$n_lines" --metrics-out "$tmp/service.prom" -- /usr/bin/postfix_tls_exporter \
	"${src_args[@]}" --source.start=beginning --web.listen-address="127.0.0.1:$port" > "$tmp/sd.out" 2>&1; then
	ok "installed daemon under an emulated service manager (notify, watchdog, SIGTERM)"
else
	bad "installed daemon under an emulated service manager"
fi
sed 's/^/    /' "$tmp/sd.out"
if python3 "$here/compare_prom.py" "$tmp/service.prom" "$tmp/installed.prom" $expected; then
	ok "service-style run: metrics equal --once${expected:+ and the e2e expectations}"
else
	bad "service-style run: metrics differ (above)"
fi
if [ -n "$(ls -A /var/lib/postfix_tls_exporter)" ]; then
	ok "state saved in /var/lib/postfix_tls_exporter: $(ls /var/lib/postfix_tls_exporter | tr '\n' ' ')"
else
	bad "nothing saved in the state directory on SIGTERM"
fi
port=$(free_port $((port + 1)))
if python3 "$here/sdnotify_run.py" --socket-activation --user "$user" --state-dir /var/lib/postfix_tls_exporter \
	--port "$port" -- /usr/bin/postfix_tls_exporter "${src_args[@]}" --web.systemd-socket > "$tmp/sd2.out" 2>&1; then
	ok "installed daemon with socket activation (--web.systemd-socket)"
else
	bad "installed daemon with socket activation"
fi
sed 's/^/    /' "$tmp/sd2.out"

# ---- purge --------------------------------------------------------------------------
files=$(dpkg -L "$pkg" | grep -v -e '^/\.$')
if dpkg --purge "$pkg" > "$tmp/purge.out" 2>&1; then ok "dpkg --purge $pkg"; else bad "dpkg --purge failed"; cat "$tmp/purge.out"; fi
left=()
while read -r f; do
	[ -z "$f" ] && continue
	# directories shared with other packages (/usr/bin, /usr/share/man/man8 ...) stay
	if [ -e "$f" ] && ! { [ -d "$f" ] && dpkg -S "$f" >/dev/null 2>&1; }; then left+=("$f"); fi
done <<< "$files"
if [ ${#left[@]} = 0 ]; then ok "every packaged file removed"; else bad "left behind: ${left[*]}"; fi
[ ! -e /var/lib/postfix_tls_exporter ] && ok "state directory removed on purge" || bad "/var/lib/postfix_tls_exporter left behind"
snapshot > "$tmp/after"
diff "$tmp/before" "$tmp/after" > "$tmp/diff"
ours=$(grep -iE 'postfix[_-]tls[_-]exporter' "$tmp/diff" || true)
if [ -z "$ours" ]; then
	ok "file system after purge equals the one before install (for our paths)"
else
	bad "paths left behind after purge:"; echo "$ours"
fi
other=$(grep -viE 'postfix[_-]tls[_-]exporter' "$tmp/diff" | grep '^[<>]' || true)
[ -n "$other" ] && { echo "     other changes meanwhile (not ours, e.g. concurrent apt runs):"; echo "$other" | head -20 | sed 's/^/       /'; }
if getent passwd "$user" >/dev/null; then
	echo "     note: system user $user stays after purge (Debian keeps system accounts)"
fi
echo "timing: build $((t_build - t0)) s, install+run+purge $(( $(date +%s) - t_build )) s"
finish

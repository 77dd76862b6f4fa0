#!/bin/bash
# check-spec.sh - verify the RPM spec on a machine without Fedora's macro
# packages (e.g. Debian with the "rpm" and "rpmlint" packages):
#   1. rpmlint on the spec;
#   2. rpmbuild -bb --nodeps from a tarball of this tree, with stand-ins for
#      the macros systemd-rpm-macros and meson's RPM macros provide (they only
#      echo in the scriptlets), so that %build, %install, %check and %files are
#      exercised for real and the file list is checked against what meson
#      installs;
#   3. rpmlint on the built package, and its file list.
# What this cannot check: Fedora's real macro expansions, BuildRequires
# resolution, the scriptlets on an RPM system.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
spec=$src/packaging/rpm/postfix_tls_exporter.spec
if ! command -v rpmbuild >/dev/null || ! command -v rpmlint >/dev/null; then
	if [ "$(id -u)" = 0 ] && { [ "${CI:-}" = true ] || [ "${PTE_PACKAGE_TEST:-}" = 1 ]; }; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rpm rpmlint >/dev/null
	else
		echo "SKIP: rpmbuild/rpmlint not installed (apt-get install rpm rpmlint)"; exit 77
	fi
fi
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
top=$(mktemp -d /tmp/pte-rpm.XXXXXX)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}

# 1. the spec
echo "rpmlint $spec:"
out=$(rpmlint "$spec" 2>&1 || true)
printf '%s\n' "$out" | sed 's/^/  /'
if printf '%s\n' "$out" | grep -qE ' [1-9][0-9]* errors'; then
	echo "FAIL: rpmlint reported errors in the spec"
	exit 1
fi

# 2. build
name=postfix_tls_exporter-$version
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read --transform "s|^|$name/|" -cJf "$top/SOURCES/$name.tar.xz" 2>/dev/null)
else
	tar -C "$src" --exclude='./build*' --transform "s|^\.|$name|" -cJf "$top/SOURCES/$name.tar.xz" .
fi
cp "$src/packaging/systemd/postfix_tls_exporter.sysusers" "$top/SOURCES/"
cat > "$top/macros" <<'MACROS'
%_unitdir /usr/lib/systemd/system
%_sysusersdir /usr/lib/sysusers.d
%_vpath_builddir redhat-linux-build
%meson meson setup --prefix=%{_prefix} --sysconfdir=%{_sysconfdir} --localstatedir=%{_localstatedir} --sharedstatedir=%{_sharedstatedir} --mandir=%{_mandir} --datadir=%{_datadir} --buildtype=plain %{_vpath_builddir} .
%meson_build ninja -C %{_vpath_builddir}
%meson_install DESTDIR=%{buildroot} meson install -C %{_vpath_builddir} --no-rebuild
%sysusers_requires_compat %{nil}
%sysusers_create_compat() echo "stand-in: systemd-sysusers %{basename:%{1}}"
%systemd_post() echo "stand-in: systemd_post %*"
%systemd_preun() echo "stand-in: systemd_preun %*"
%systemd_postun() echo "stand-in: systemd_postun %*"
%systemd_postun_with_restart() echo "stand-in: systemd_postun_with_restart %*"
%debug_package %{nil}
MACROS
echo "rpmbuild -bb (stand-in macros):"
if ! rpmbuild -bb --nodeps --define "_topdir $top" --load "$top/macros" "$spec" > "$top/build.log" 2>&1; then
	tail -40 "$top/build.log"
	echo "FAIL: rpmbuild"
	exit 1
fi
grep -E '^(Wrote|Checking for unpackaged)' "$top/build.log" | sed 's/^/  /'
rpm=$(ls "$top"/RPMS/*/postfix_tls_exporter-"$version"-*.rpm | head -1)
echo "files in $(basename "$rpm"):"
rpm -qlvp "$rpm" | awk '{print "  " $1, $3, $4, $9}'
echo "scriptlets:"
rpm -qp --scripts "$rpm" | sed 's/^/  /'

# 3. the package
echo "rpmlint $(basename "$rpm"):"
out=$(rpmlint -r "$src/packaging/rpm/rpmlint-filters.conf" "$rpm" 2>&1 || true)
printf '%s\n' "$out" | sed 's/^/  /'
if printf '%s\n' "$out" | grep -qE ' [1-9][0-9]* errors'; then
	echo "FAIL: rpmlint reported errors in the package"
	exit 1
fi
echo "ok: spec builds, installs every file meson installs, rpmlint without errors"

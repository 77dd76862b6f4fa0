#!/bin/bash
# build-deb.sh [OUTDIR] - build the Debian package from this source tree.
#
# The Debian recipe lives in packaging/debian (not ./debian, so that a
# distribution's own debian/ never clashes with ours when it imports the
# upstream tree). This script copies the tree - the files git knows about,
# tracked or not ignored, or everything but build directories outside a git
# checkout - into a temporary directory, puts packaging/debian at ./debian
# there, and runs "dpkg-buildpackage -us -uc -b". The .deb, .buildinfo and
# .changes files end up in OUTDIR (default: ./build-deb), then lintian runs
# on them and the script fails if lintian reports an error.
#
#   --install-build-deps   apt-get install what dpkg-checkbuilddeps lacks
#   --no-lintian           skip lintian
set -euo pipefail

install_deps=0
run_lintian=1
outdir=
for a in "$@"; do
	case "$a" in
	--install-build-deps) install_deps=1 ;;
	--no-lintian) run_lintian=0 ;;
	-*) echo "usage: $0 [--install-build-deps] [--no-lintian] [OUTDIR]" >&2; exit 2 ;;
	*) outdir=$a ;;
	esac
done

src=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(mkdir -p "${outdir:-$src/build-deb}" && cd "${outdir:-$src/build-deb}" && pwd)
work=$(mktemp -d /tmp/pte-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

tree=$work/postfix-tls-exporter
mkdir -p "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$src" && xargs -0 -r cp --parents -a -t "$tree" 2>/dev/null || true)
	# files deleted in the work tree but still in the index are skipped above
else
	(cd "$src" && tar --exclude='./build*' --exclude='./debian' -cf - .) | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"
cp -a "$tree/packaging/debian" "$tree/debian"

if [ "$install_deps" = 1 ]; then
	if ! missing=$(cd "$tree" && dpkg-checkbuilddeps 2>&1); then
		pkgs=$(printf '%s\n' "$missing" | sed -n 's/.*Unmet build dependencies: //p' |
			sed -E 's/\([^)]*\)//g; s/\|[^ ]*//g')
		echo "installing build dependencies: $pkgs"
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $pkgs dpkg-dev
	fi
fi

start=$(date +%s)
(cd "$tree" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1 || {
	tail -60 "$work/build.log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
echo "dpkg-buildpackage: $(( $(date +%s) - start )) s"

shopt -s nullglob
rm -f "$outdir"/postfix-tls-exporter_* "$outdir"/prometheus-postfix-tls-exporter_* "$outdir"/prometheus-postfix-tls-exporter-dbgsym_*
files=("$work"/*.deb "$work"/*.buildinfo "$work"/*.changes)
cp -a "${files[@]}" "$outdir"/
changes=$(ls "$outdir"/*.changes | tail -1)
for f in "$work"/*.deb; do
	echo "built $outdir/$(basename "$f")"
done

if [ "$run_lintian" = 1 ]; then
	if command -v lintian >/dev/null; then
		echo "lintian $changes:"
		# --fail-on error: warnings and info are printed, only errors fail
		lintian --fail-on error --info --display-info "$changes" | sed 's/^/  /' || {
			echo "build-deb.sh: lintian reported errors" >&2
			exit 1
		}
		echo "lintian: no errors"
	else
		echo "lintian not installed; skipped"
	fi
fi

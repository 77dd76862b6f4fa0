#!/usr/bin/env bash
# deps.sh [--test] - install what building (and, with --test, testing)
# postfix_tls_exporter needs on Debian 12. The single list of packages.
set -euo pipefail

build=(
  gcc meson ninja-build pkg-config
  libmicrohttpd-dev libsystemd-dev libpcre2-dev libpsl-dev publicsuffix
  libyaml-dev zlib1g-dev libcrypt-dev libgnutls28-dev
  libisal-dev                              # optional: fast .gz reading (ISA-L inflate)
  curl ca-certificates python3
)
test=(
  clang llvm libclang-rt-14-dev            # ASan/UBSan and libFuzzer builds
  prometheus                               # promtool, and a real Prometheus for the e2e tests
  systemd systemd-journal-remote           # journal files written by journal-remote, systemd-analyze
  openssl gnutls-bin                       # test CAs and TLS clients
  postfix swaks                            # the end-to-end test drives a real Postfix
  wrk                                      # HTTP load benchmark
  chromium                                 # renders the HTML report headless
  dpkg-dev debhelper fakeroot lintian      # the Debian package test
  rpm rpmlint                              # RPM spec check
  systemd-container debootstrap            # the .deb under a booted systemd (nspawn)
  time procps psmisc iproute2 file
  jsonnet python3-yaml                     # dashboard mixin, rule files (Node.js and npm come with
                                           # the machine; the schema check skips without them)
)

pkgs=("${build[@]}")
if [ "${1:-}" = "--test" ]; then
  pkgs+=("${test[@]}")
fi

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
# Installing postfix must not ask questions or start a mail system on *:25.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "deps.sh: installed ${#pkgs[@]} packages"

#!/usr/bin/env bash
# run-all.sh - install what the tests need, build, and run the whole suite:
#   1. gcc, warnings as errors: every suite (unit, corpus, fuzz-regression,
#      integration, journal, web, peers, dashboards, e2e with a real Postfix,
#      package build/install)
#   2. clang with ASan+UBSan: the suites that exercise our C code in-process
#      or through the daemon
#   3. clang with TSan: the corpus suite, whose --once, report and backfill
#      runs count in a second thread (--source.pipeline), and the queue's test
#   4. clang with libFuzzer: each fuzz target for a short run from its corpus
# Ends with one line "N passed, N failed, N skipped" (a skipped test, e.g. one
# whose tool is missing, is not counted as passed).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
packaging/deps.sh --test || exit 1
export POSTFIX_TLS_EXPORTER_ALLOW_ROOT=1
fuzz_seconds=${FUZZ_SECONDS:-30}
status=0
logs=()

run_suite() { # build-dir meson-test-args...
  local dir=$1; shift
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

echo "== gcc, -Dwerror=true"
rm -rf build-ci build-asan build-tsan build-fuzz
meson setup build-ci -Dwerror=true -Dbuildtype=debugoptimized >/dev/null || exit 1
ninja -C build-ci || exit 1
run_suite build-ci
cp build-ci/meson-logs/testlog.json build-ci/meson-logs/testlog-gcc.json

echo "== clang, ASan+UBSan"
CC=clang meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Db_lto=false -Dbuildtype=debug >/dev/null || exit 1
ninja -C build-asan || exit 1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
run_suite build-asan --suite unit --suite corpus --suite fuzz-regression --suite integration \
  --suite journal --suite web --suite peers --timeout-multiplier 3

echo "== clang, TSan"
CC=clang meson setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
  -Db_lto=false -Dbuildtype=debug >/dev/null || exit 1
ninja -C build-tsan || exit 1
TSAN_OPTIONS=halt_on_error=1:exitcode=66 run_suite build-tsan --suite corpus --timeout-multiplier 3
cp build-tsan/meson-logs/testlog.json build-tsan/meson-logs/testlog-corpus.json
TSAN_OPTIONS=halt_on_error=1:exitcode=66 run_suite build-tsan unit-queue unit-gz --timeout-multiplier 3

echo "== clang, libFuzzer (${fuzz_seconds}s per target)"
CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dc_args=-fsanitize=fuzzer-no-link -Db_lto=false -Dbuildtype=debugoptimized >/dev/null || exit 1
ninja -C build-fuzz || exit 1
fuzz_pass=0 fuzz_fail=0
for t in $(find build-fuzz -maxdepth 3 -type f -executable -name 'fuzz-*' ! -name '*-replay'); do
  name=$(basename "$t")
  case "$name" in
    fuzz-ingest) corpus=tests/fuzz/corpus/ingest ;;
    fuzz-ingest-peers) corpus=tests/fuzz/corpus/ingest-peers ;;
    fuzz-webconfig) corpus=tests/web/fuzz-corpus ;;
    fuzz-peers-state) corpus=tests/peers/fuzz-corpus ;;
    *) corpus=tests/fuzz/corpus/${name#fuzz-} ;;
  esac
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null
  if "$t" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 "$work" >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz $name: ok ($(grep -c . "build-fuzz/$name.log") log lines)"; fuzz_pass=$((fuzz_pass+1))
  else
    echo "fuzz $name: FAILED"; tail -30 "build-fuzz/$name.log"; fuzz_fail=$((fuzz_fail+1)); status=1
  fi
  rm -rf "$work"
done

python3 - "$fuzz_pass" "$fuzz_fail" build-ci/meson-logs/testlog-gcc.json build-asan/meson-logs/testlog.json \
  build-tsan/meson-logs/testlog-corpus.json build-tsan/meson-logs/testlog.json <<'PY'
import json, sys
passed, failed, skipped = int(sys.argv[1]), int(sys.argv[2]), 0
for path in sys.argv[3:]:
    try:
        for line in open(path):
            r = json.loads(line).get('result')
            if r in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif r == 'SKIP':
                skipped += 1
            elif r:
                failed += 1
    except OSError:
        failed += 1
print(f'{passed} passed, {failed} failed, {skipped} skipped')
PY
exit $status

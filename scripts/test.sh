#!/usr/bin/env bash
# The whole test suite: type check, build, then every test under out/test with node's test runner.
# TEST_FILTER=path-substring runs only matching compiled test files (for development).
# scripts/test-guard.cjs gives every test a timeout and reaps what a test process leaves running;
# a last sweep here kills anything of this run still alive (e.g. the runner itself was killed).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . --noEmit
node scripts/build.mjs
mapfile -t files < <(find out/test -name '*.test.js' | sort | grep -- "${TEST_FILTER:-}")
export SEMU_TEST_RUN="$$-$RANDOM"
export SEMU_TEST_REAP_LOG="${SEMU_TEST_REAP_LOG:-$PWD/out/test-reaped.log}"
rm -f "$SEMU_TEST_REAP_LOG"
rc=0
# --test-timeout bounds each file (a backstop: each test has its own timeout, 180 s by default).
node --require ./scripts/test-guard.cjs --test --test-concurrency=1 --test-timeout=2700000 "${files[@]}" || rc=$?
bash scripts/test-sweep.sh "$SEMU_TEST_RUN"
if [ -s "$SEMU_TEST_REAP_LOG" ]; then
  echo "test watchdog: processes left running by tests (killed):" >&2
  cat "$SEMU_TEST_REAP_LOG" >&2
fi
exit $rc

#!/usr/bin/env bash
# The whole test suite: type check, build, then every test under out/test with node's test runner.
# TEST_FILTER=path-substring runs only matching compiled test files (for development).
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p . --noEmit
node scripts/build.mjs
mapfile -t files < <(find out/test -name '*.test.js' | sort | grep -- "${TEST_FILTER:-}")
exec node --test --test-concurrency=1 "${files[@]}"

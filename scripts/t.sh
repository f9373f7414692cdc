#!/usr/bin/env bash
# Develop one area's tests without building the whole tree: bundles just the given test files
# (TypeScript) into out/dev-test/ and runs them with node's test runner.
#   scripts/t.sh test/unit/ring.test.ts [more.test.ts ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/dev-test/$$
mkdir -p "$out"
npx esbuild "$@" --bundle --platform=node --target=node20 --format=cjs --packages=external \
  --sourcemap --log-level=warning --outbase=test --outdir="$out"
mapfile -t files < <(find "$out" -name '*.test.js' | sort)
rc=0; node --enable-source-maps --require ./scripts/test-guard.cjs --test --test-concurrency=1 --test-timeout=2700000 "${files[@]}" || rc=$?
rm -rf "$out"
exit $rc

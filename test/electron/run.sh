#!/usr/bin/env bash
# `npm run test:electron`: the e2e scenarios in a downloaded VS Code (Electron) through
# @vscode/test-electron. Needs network access to update.code.visualstudio.com; without it, it
# says so and exits non-zero (npm run test:e2e runs the same story in code-server, offline).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=out/electron
mkdir -p "$out"
npx esbuild test/electron/run.ts --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --log-level=warning --outfile="$out/run.js"
npx esbuild test/electron/suite.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:vscode --log-level=warning --outfile="$out/suite.js"
# Electron needs a display: use a virtual one when there is none.
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run > /dev/null; then
  exec xvfb-run -a node "$out/run.js" "$@"
fi
exec node "$out/run.js" "$@"

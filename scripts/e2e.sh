#!/usr/bin/env bash
# The end-to-end test: the packaged .vsix in a real VS Code (code-server), driven from headless
# Chromium by test/e2e/driver.ts. `npm run test:e2e`.
#
# 1. tools (scripts/code-server.sh, cached) and the .vsix (scripts/package.mjs), which carries the
#    prebuilt default guest;
# 2. a run folder: a workspace with no launch.json (F5 boots the shipped guest), user settings
#    with PortAudio audio, a file-backed ALSA config (no sound card), fresh user-data and
#    extensions, an EMPTY guest cache, and a PATH without the Debian build tools (no compiler,
#    make, dpkg or apt): nothing may be built;
# 3. code-server with the .vsix installed, on 127.0.0.1 and a free port, in its own process group;
# 4. the driver, then the server's whole process group is killed, always.
# Screenshots and logs: test-results/e2e/ (SEMU_E2E_OUT). The last line of stdout is always
# "N passed, N failed"; the exit status is 0 only when nothing failed.
# Environment: SEMU_E2E_VSIX (use this .vsix, do not package), SEMU_E2E_GUEST (guest/build.sh's
# JSON line for another guest: a launch.json with it instead of the shipped guest), SEMU_E2E_KEEP=1 (keep the run
# folder), SEMU_E2E_DOC_SHOT=1 (also copy the session screenshot to docs/images/session.png),
# SEMU_E2E_TIMEOUT (seconds for the driver, default 420), SEMU_TOOLS_CACHE, SEMU_GUEST_CACHE,
# SEMU_LINUX_SRC (the kernel tree whose console font the Screen step expects).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${SEMU_E2E_OUT:-$ROOT/test-results/e2e}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/semu-e2e.XXXXXX")
SPID=
DPID=

note() { echo "e2e: $*" >&2; }
setup_failed() {
  echo "FAIL setup: $*"
  echo "0 passed, 1 failed"
  exit 1
}

cleanup() {
  # The driver and its Chromium (own process group, so an interrupt here must end them too).
  [ -n "$DPID" ] && kill -KILL -- "-$DPID" 2>/dev/null
  if [ -n "$SPID" ]; then
    # The server was started by setsid: its pid is its process group, which holds the extension
    # host, the emulator's audio hosts and the file watcher. TERM, then KILL what is left.
    kill -TERM -- "-$SPID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 -- "-$SPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
  fi
  [ -d "$RUN/data/logs" ] && cp -r "$RUN/data/logs" "$OUT/vscode-logs" 2>/dev/null
  cp "$RUN/server.log" "$OUT/server.log" 2>/dev/null
  if [ "${SEMU_E2E_KEEP:-0}" = 1 ]; then note "run folder kept: $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$OUT"
mkdir -p "$OUT"
cd "$ROOT"

tools=$(scripts/code-server.sh --env) || setup_failed "scripts/code-server.sh could not install the tools"
eval "$tools"

VSIX=${SEMU_E2E_VSIX:-}
if [ -z "$VSIX" ]; then
  VSIX="$RUN/vscode-semu.vsix"
  node scripts/package.mjs --out "$VSIX" > "$OUT/package.log" 2>&1 \
    || { tail -20 "$OUT/package.log" >&2; setup_failed "packaging (log: $OUT/package.log)"; }
fi
[ -f "$VSIX" ] || setup_failed "no .vsix at $VSIX"

# ---- the run folder ----
mkdir -p "$RUN/workspace" "$RUN/data/User" "$RUN/ext" "$RUN/xdg" "$RUN/alsa" "$RUN/guest-cache" "$RUN/path"
sed "s|@DIR@|$RUN/alsa|g" test/fixtures/alsa/file-pcms.conf > "$RUN/alsa/asound.conf"
# Capture reads past the end of its infile as stale data: make it longer than any run.
head -c $((48000 * 2 * 2 * 60)) /dev/zero > "$RUN/alsa/in.raw"
if [ -n "${SEMU_E2E_GUEST:-}" ]; then
  mkdir -p "$RUN/workspace/.vscode"
  node -e '
    const [guestJson, file] = process.argv.slice(1);
    const g = JSON.parse(guestJson);
    const config = { type: "semu", request: "launch", name: "Boot semu", kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap };
    require("fs").writeFileSync(file, JSON.stringify({ version: "0.2.0", configurations: [config] }, null, 2));
  ' "$SEMU_E2E_GUEST" "$RUN/workspace/.vscode/launch.json" || setup_failed "SEMU_E2E_GUEST is not guest/build.sh JSON: $SEMU_E2E_GUEST"
fi
echo 'A workspace made by scripts/e2e.sh for the end-to-end test.' > "$RUN/workspace/README.txt"
# The user's settings: the test's, plus PortAudio for both directions (through the ALSA files).
node -e '
  const fs = require("fs");
  const s = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  Object.assign(s, { "semu.audioOut": "portaudio", "semu.audioIn": "portaudio" });
  fs.writeFileSync(process.argv[2], JSON.stringify(s, null, 2));
' test/e2e/settings.json "$RUN/data/User/settings.json"
# A PATH with everything of the system's but the guest's build tools: a build would fail at once.
for d in /usr/local/bin /usr/bin /bin; do
  for f in "$d"/*; do
    n=${f##*/}
    case "$n" in
      gcc*|g++*|cc|c++|cpp*|*-linux-gnu-*|make|gmake|ld|ld.*|as|bc|bison|flex|yacc|lex|m4|dpkg*|apt*) continue ;;
    esac
    [ -e "$RUN/path/$n" ] || ln -s "$f" "$RUN/path/$n"
  done
done

PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$RUN/config.yaml"
# The kernel tree of the guest cache packaging used (not the run's empty one): the Screen step
# checks the console's text against the kernel's own font (lib/fonts/font_8x16.c).
LINUX_SRC=${SEMU_LINUX_SRC:-$(ls -d "${SEMU_GUEST_CACHE:-$HOME/.cache/vscode-semu/guest}"/src-* 2>/dev/null | grep -v '\.tmp\.' | sort | tail -n 1)}
export XDG_CONFIG_HOME="$RUN/xdg" XDG_DATA_HOME="$RUN/xdg" SEMU_GUEST_CACHE="$RUN/guest-cache"
export ALSA_CONFIG_PATH="$RUN/alsa/asound.conf"
CS_ARGS=(--config "$RUN/config.yaml" --user-data-dir "$RUN/data" --extensions-dir "$RUN/ext")

# The server runs with the bare PATH (the tools above were found with the full one).
SAVED_PATH=$PATH
export PATH="$SEMU_NODE24:$RUN/path"
"$SEMU_CODE_SERVER" "${CS_ARGS[@]}" --install-extension "$VSIX" > "$OUT/install-extension.log" 2>&1 \
  || { cat "$OUT/install-extension.log" >&2; setup_failed "code-server --install-extension"; }

setsid "$SEMU_CODE_SERVER" "${CS_ARGS[@]}" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-workspace-trust > "$RUN/server.log" 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 300); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && { up=1; break; }
  kill -0 "$SPID" 2>/dev/null || break
  sleep 0.1
done
[ "$up" = 1 ] || { tail -20 "$RUN/server.log" >&2; setup_failed "code-server did not come up on port $PORT"; }
export PATH=$SAVED_PATH
note "code-server on 127.0.0.1:$PORT (process group $SPID), run folder $RUN"

# ---- the driver ----
mkdir -p "$RUN/driver"
npx esbuild test/e2e/driver.ts --bundle --platform=node --target=node20 --format=cjs \
  --packages=external --log-level=warning --outfile="$RUN/driver/driver.js" \
  || setup_failed "bundling test/e2e/driver.ts"
# playwright-core: the project's devDependency, else the tools cache's.
export NODE_PATH="$ROOT/node_modules:$(dirname "$SEMU_PLAYWRIGHT")"
export SEMU_E2E_URL="http://127.0.0.1:$PORT" SEMU_E2E_WORKSPACE="$RUN/workspace" SEMU_E2E_OUT="$OUT"
export SEMU_E2E_PGID="$SPID" SEMU_E2E_ALSA_DIR="$RUN/alsa" SEMU_E2E_EXTENSIONS="$RUN/ext"
export SEMU_E2E_DOC_SHOT="${SEMU_E2E_DOC_SHOT:-0}" SEMU_E2E_ROOT="$ROOT" SEMU_E2E_USER_DATA="$RUN/data"
export SEMU_E2E_LINUX_SRC="$LINUX_SRC" SEMU_E2E_GUEST_CACHE="$RUN/guest-cache" SEMU_E2E_SHIPPED="$([ -n "${SEMU_E2E_GUEST:-}" ] && echo 0 || echo 1)"
export SEMU_CHROMIUM
# Own process group too, so Chromium goes with it if the driver must be killed; its temp files
# (the Chromium profile) in the run folder, so they go with it too.
mkdir -p "$RUN/tmp"
TMPDIR="$RUN/tmp" setsid timeout -k 5 "${SEMU_E2E_TIMEOUT:-420}" node --enable-source-maps "$RUN/driver/driver.js" &
DPID=$!
wait "$DPID"
rc=$?
kill -KILL -- "-$DPID" 2>/dev/null
DPID=
if [ "$rc" -gt 1 ]; then
  # The driver died before its summary (timeout, crash): the last line must still be a summary.
  echo "FAIL driver: exit status $rc"
  echo "0 passed, 1 failed"
fi
exit "$rc"

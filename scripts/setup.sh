#!/usr/bin/env bash
# Sets up everything the project needs on a fresh Debian 12 machine, idempotently and quickly
# when already done: Debian packages (installed when run as root; otherwise the exact apt-get
# line is printed and we stop), npm packages, the default guest (cached outside the repo), the
# bundles. Usage: scripts/setup.sh boot|test
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-boot}

boot_pkgs=(linux-source-6.12 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu make bc bison flex
  libssl-dev libelf-dev cpio xz-utils build-essential libasound2)
test_pkgs=(device-tree-compiler libasound2-plugins pulseaudio sox chromium gdb-multiarch)
pkgs=("${boot_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    $line >&2
  else
    echo "setup: these Debian packages are missing: ${missing[*]}" >&2
    echo "setup: run as root:  sudo $line" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "setup: Node.js 20 or newer is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm packages: reinstall only when the lock file changed since the last install.
stamp=node_modules/.setup-stamp
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
  touch "$stamp"
fi

echo "setup: default guest" >&2
bash guest/build.sh >/dev/null
echo "setup: bundles" >&2
node scripts/build.mjs

#!/usr/bin/env bash
# Usage: guest/build.sh [--rebuild]
# Builds (or reuses) the default guest and prints one JSON line with absolute paths:
#   {"kernel":".../Image","initrd":".../initramfs.cpio","vmlinux":".../vmlinux","systemMap":".../System.map",
#    "source":".../src-<version>"}   (vmlinux has DWARF; its source files are under "source")
# Progress goes to stderr. Cache: ${SEMU_GUEST_CACHE:-$HOME/.cache/vscode-semu/guest}, one entry per
# hash of the inputs; the kernel and the userland are keyed and cached separately.
# Entries are built in <entry>.tmp.<pid> and renamed into place when complete.
# --rebuild builds the kernel and the userland again and replaces their entries.
# Environment: SEMU_GUEST_CACHE, SEMU_LINUX_SRC (an extracted kernel tree to use instead of
# extracting /usr/src/linux-source-6.12.tar.xz), JOBS (default: nproc).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/kernel.sh
. "$HERE/lib/kernel.sh"
# shellcheck source=lib/userland.sh
. "$HERE/lib/userland.sh"

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]}"; do rm -rf "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

json_str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

usage() {
  sed -n '2,/^set -euo/p' "$HERE/build.sh" | sed '$d; s/^# \{0,1\}//' >&2
  exit "$1"
}

main() {
  REBUILD=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --rebuild) REBUILD=1 ;;
      -h|--help) usage 0 ;;
      *) echo "guest: unknown argument: $1" >&2; usage 2 ;;
    esac
    shift
  done
  ensure_packages
  local cache
  cache=$(cache_root)
  build_kernel "$cache"
  build_userland "$cache"
  # The tree the kernel was compiled from: vmlinux's DWARF names its files there.
  local src
  src=$(linux_tree "$cache")
  printf '{"kernel":%s,"initrd":%s,"vmlinux":%s,"systemMap":%s,"source":%s}\n' \
    "$(json_str "$KERNEL_OUT/Image")" "$(json_str "$USERLAND_OUT/initramfs.cpio")" \
    "$(json_str "$KERNEL_OUT/vmlinux")" "$(json_str "$KERNEL_OUT/System.map")" "$(json_str "$src")"
}
main "$@"

#!/usr/bin/env bash
# Builds (or reuses) the default guest and prints one JSON line with absolute paths:
#   {"kernel":".../Image","initrd":".../initramfs.cpio","vmlinux":".../vmlinux","systemMap":".../System.map"}
# Progress goes to stderr. Cache: ${SEMU_GUEST_CACHE:-$HOME/.cache/vscode-semu/guest}, one entry per
# hash of the inputs; the kernel and the userland are keyed and cached separately.
# Entries are built in <entry>.tmp.<pid> and renamed into place when complete.
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

main() {
  ensure_packages
  local cache
  cache=$(cache_root)
  build_kernel "$cache"
  build_userland "$cache"
  printf '{"kernel":%s,"initrd":%s,"vmlinux":%s,"systemMap":%s}\n' \
    "$(json_str "$KERNEL_OUT/Image")" "$(json_str "$USERLAND_OUT/initramfs.cpio")" \
    "$(json_str "$KERNEL_OUT/vmlinux")" "$(json_str "$KERNEL_OUT/System.map")"
}
main "$@"

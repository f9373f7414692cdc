# shellcheck shell=bash
# Kernel: tinyconfig + guest/kernel.config, checked, built out of tree, cached by its own inputs.
# Sourced by build.sh after common.sh. Sets KERNEL_OUT to the cache entry holding
# Image, vmlinux, System.map and config.

# Every fragment line must be in the final .config: "CONFIG_X=v" verbatim, "# CONFIG_X is not set"
# as absent or unset. Kconfig silently drops options whose dependencies fail; we want to know.
verify_fragment() {
  local frag=$1 cfg=$2 line sym bad=0
  while IFS= read -r line; do
    case "$line" in
      "# CONFIG_"*" is not set")
        sym=${line#\# }; sym=${sym%% *}
        if grep -q "^$sym=" "$cfg"; then
          echo "guest: config: $sym should be unset but is $(grep "^$sym=" "$cfg")" >&2; bad=1
        fi ;;
      CONFIG_*)
        if ! grep -qxF "$line" "$cfg"; then
          sym=${line%%=*}
          echo "guest: config: want '$line', got '$(grep -E "^(# )?$sym[= ]" "$cfg" || echo absent)'" >&2
          bad=1
        fi ;;
    esac
  done < "$frag"
  [ $bad -eq 0 ] || die "kernel.config lines did not survive olddefconfig (see above)"
}

build_kernel() {
  local cache=$1
  local key
  # common.sh holds cache plumbing, not kernel inputs: the toolchain versions it reports are in
  # every key already, so editing it does not cost a kernel build.
  key=$(hash_of "$GUEST_DIR/kernel.config" "$GUEST_DIR/lib/kernel.sh")
  KERNEL_OUT=$cache/kernel-$key
  have "$KERNEL_OUT" Image && return 0

  take_lock "$cache"
  have "$KERNEL_OUT" Image && return 0
  clean_stale_tmp "$cache"
  local src
  src=$(linux_tree "$cache")
  local tmp=$KERNEL_OUT.tmp.$$
  TMP_DIRS+=("$tmp")
  rm -rf "$tmp" && mkdir -p "$tmp/build"
  local o=$tmp/build
  # fixed build stamps: the same inputs give the same Image (uname -v, /proc/version)
  local mk=(make -C "$src" O="$o" ARCH=riscv CROSS_COMPILE="$CROSS" KBUILD_BUILD_USER=vscode-semu
    KBUILD_BUILD_HOST=guest KBUILD_BUILD_VERSION=1 "KBUILD_BUILD_TIMESTAMP=Thu Jan  1 00:00:00 UTC 1970")
  log "kernel $key: configuring (tinyconfig + kernel.config)"
  "${mk[@]}" -s tinyconfig >&2 || die "make tinyconfig failed"
  KCONFIG_CONFIG="$o/.config" "$src/scripts/kconfig/merge_config.sh" -m -O "$o" \
    "$o/.config" "$GUEST_DIR/kernel.config" >&2 || die "merge_config.sh failed"
  "${mk[@]}" -s olddefconfig >&2 || die "make olddefconfig failed"
  verify_fragment "$GUEST_DIR/kernel.config" "$o/.config"
  log "kernel $key: building Image with -j$JOBS (about 5 minutes on 2 cores)"
  local t0=$SECONDS
  "${mk[@]}" -j"$JOBS" Image >&2 || die "kernel build failed"
  log "kernel $key: built in $((SECONDS - t0)) s"
  cp "$o/arch/riscv/boot/Image" "$o/vmlinux" "$o/System.map" "$tmp/" || die "copying kernel artifacts"
  cp "$o/.config" "$tmp/config"
  rm -rf "$o"
  publish "$tmp" "$KERNEL_OUT"
  prune_cache "$cache" kernel 3
  prune_cache "$cache" src 1
}

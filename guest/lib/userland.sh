# shellcheck shell=bash
# Userland: the kernel's UAPI headers (cached per kernel source), the nolibc programs in
# guest/src, and the newc initramfs made by the kernel's usr/gen_init_cpio (no root needed).
# Sourced by build.sh after common.sh. Sets USERLAND_OUT to the cache entry holding
# initramfs.cpio, initramfs.list and bin/ (the unstripped programs, for symbols).

# Compiler flags: RV32IMA + Zicsr + Zifencei only (no C: every instruction 32 bits), soft-float
# ABI, no libc and no libgcc (Debian's cross libgcc is rv64-only; rt_div.c supplies 64-bit division).
USER_CFLAGS=(-march=rv32ima_zicsr_zifencei -mabi=ilp32 -Os -static -nostdlib -ffreestanding
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-ident -ffunction-sections
  -fdata-sections -Wall -Wextra -Werror -Wno-unused-parameter -Wl,--gc-sections
  -Wl,--build-id=none)

# program name -> its C files (rt_div.c is added to every program)
USER_PROGS=(init sh pcm cpubench counters fsbench fbtest evtest dhcp http forkbench pfbench pipebench sysbench)
user_prog_srcs() {
  case "$1" in
    pcm) echo "pcm.c dsp.c" ;;
    sh) echo "sh.c fileutil.c" ;;
    *) echo "$1.c" ;;
  esac
}

# UAPI headers (`make headers` needs no rsync, unlike headers_install), cached by source version.
build_headers() {
  local cache=$1 src=$2 key
  key=$(hash_of) # the kernel source and toolchain versions only
  HEADERS_OUT=$cache/headers-$key
  have "$HEADERS_OUT" include/sound/asound.h && return 0
  local tmp=$HEADERS_OUT.tmp.$$
  TMP_DIRS+=("$tmp")
  rm -rf "$tmp" && mkdir -p "$tmp"
  log "headers $key: make headers"
  make -C "$src" O="$tmp/build" ARCH=riscv -s headers >&2 || die "make headers failed"
  mv "$tmp/build/usr/include" "$tmp/include"
  rm -rf "$tmp/build"
  publish "$tmp" "$HEADERS_OUT"
}

# Fails if any instruction is not 4 bytes wide (a compressed one slipped in).
check_insn_width() {
  local bin=$1 bad
  bad=$("${CROSS}objdump" -d "$bin" | awk -F'\t' '/^ *[0-9a-f]+:\t/ { h=$2; gsub(/ /, "", h); if (length(h) != 8) { print; n++ } } END { exit n > 0 }') ||
    die "$(basename "$bin"): instructions that are not 32 bits wide:
$bad"
}

build_userland() {
  local cache=$1 key
  local inputs=("$GUEST_DIR"/src/*.c "$GUEST_DIR"/src/*.h "$GUEST_DIR/lib/userland.sh")
  key=$(hash_of "${inputs[@]}")
  USERLAND_OUT=$cache/userland-$key
  have "$USERLAND_OUT" initramfs.cpio && return 0

  take_lock "$cache"
  have "$USERLAND_OUT" initramfs.cpio && return 0
  clean_stale_tmp "$cache"
  local src
  src=$(linux_tree "$cache")
  build_headers "$cache" "$src"
  local tmp=$USERLAND_OUT.tmp.$$
  TMP_DIRS+=("$tmp")
  rm -rf "$tmp" && mkdir -p "$tmp/bin"
  log "userland $key: compiling ${USER_PROGS[*]}"
  local p f srcs
  for p in "${USER_PROGS[@]}"; do
    srcs=()
    for f in $(user_prog_srcs "$p") rt_div.c; do srcs+=("$GUEST_DIR/src/$f"); done
    "${CROSS}gcc" "${USER_CFLAGS[@]}" -I "$HEADERS_OUT/include" -I "$src/tools/include/nolibc" \
      -I "$GUEST_DIR/src" "${srcs[@]}" -o "$tmp/bin/$p" || die "compiling $p failed"
    check_insn_width "$tmp/bin/$p"
  done
  gcc -O2 -o "$tmp/gen_init_cpio" "$src/usr/gen_init_cpio.c" || die "compiling gen_init_cpio failed"
  cat > "$tmp/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /proc 0555 0 0
dir /sys 0555 0 0
dir /tmp 1777 0 0
dir /mnt 0755 0 0
dir /bin 0755 0 0
file /init $tmp/bin/init 0755 0 0
LIST
  for p in "${USER_PROGS[@]}"; do
    [ "$p" = init ] || echo "file /bin/$p $tmp/bin/$p 0755 0 0" >> "$tmp/initramfs.list"
  done
  # gen_init_cpio stamps each file with its mtime: pin them so the archive is reproducible.
  touch -d @0 "$tmp"/bin/*
  "$tmp/gen_init_cpio" -t 0 "$tmp/initramfs.list" > "$tmp/initramfs.cpio" || die "gen_init_cpio failed"
  rm "$tmp/gen_init_cpio"
  sed -i "s#$tmp/#./#" "$tmp/initramfs.list"
  log "userland $key: initramfs $(stat -c %s "$tmp/initramfs.cpio") bytes"
  publish "$tmp" "$USERLAND_OUT"
  prune_cache "$cache" userland 3
  prune_cache "$cache" headers 2
}

# shellcheck shell=bash
# Shared by guest/build.sh, lib/kernel.sh and lib/userland.sh: paths, logging, package checks,
# input hashing and the kernel source tree. Everything here writes progress to stderr only,
# because build.sh's stdout carries exactly one JSON line.

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CROSS=${CROSS:-riscv64-linux-gnu-}
JOBS=${JOBS:-$(nproc)}
LINUX_PKG=linux-source-6.12
LINUX_TARBALL=/usr/src/linux-source-6.12.tar.xz
# The Debian packages the build uses (kernel build, cross compiler, kernel host tools).
REQUIRED_PKGS=(linux-source-6.12 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu make bc bison
  flex libssl-dev libelf-dev xz-utils build-essential)

log() { echo "guest: $*" >&2; }
die() { echo "guest: error: $*" >&2; exit 1; }

# Installs missing packages as root; otherwise prints the exact command and fails. With
# SEMU_GUEST_NO_INSTALL=1 (the extension and the CLI: they never run apt on a person's behalf) it
# only prints the command, and exits 3 so the caller can offer to run it.
ensure_packages() {
  command -v dpkg-query >/dev/null ||
    die "dpkg-query not found: building the guest needs a Debian-like host with ${REQUIRED_PKGS[*]} (the packaged extension ships a prebuilt guest; a kernel can also be given with -k / \"kernel\")"
  local missing=() p
  for p in "${REQUIRED_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo="sudo "
  [ "$(id -u)" -eq 0 ] && sudo=""
  if [ "$(id -u)" -ne 0 ] || [ "${SEMU_GUEST_NO_INSTALL:-0}" = 1 ]; then
    echo "guest: missing Debian packages: ${missing[*]}" >&2
    echo "guest: install them with:" >&2
    echo "  ${sudo}apt-get install -y --no-install-recommends ${missing[*]}" >&2
    [ "${SEMU_GUEST_NO_INSTALL:-0}" = 1 ] && exit 3
    exit 1
  fi
  log "installing missing packages: ${missing[*]}"
  apt-get update >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get install ${missing[*]} failed"
}

# The cache root, absolute, created on demand.
cache_root() {
  local c=${SEMU_GUEST_CACHE:-${HOME:-/tmp}/.cache/vscode-semu/guest}
  mkdir -p "$c" || die "cannot create cache dir $c"
  (cd "$c" && pwd)
}

# Versions of the tools that shape the artifacts; part of every cache key.
toolchain_id() {
  echo "linux-source: $(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null)"
  echo "cross-gcc: $("${CROSS}gcc" --version | head -n1)"
  echo "cross-ld: $("${CROSS}ld" --version | head -n1)"
  echo "host-gcc: $(gcc --version | head -n1)"
  [ -n "${SEMU_LINUX_SRC:-}" ] && echo "linux-src-override: $SEMU_LINUX_SRC"
  return 0
}

# hash_of FILE... : a short hash of the files' names (relative to guest/), contents and the
# toolchain (kernel source package, cross and host compilers): the cache key of an entry.
hash_of() {
  local f
  {
    toolchain_id
    for f in "$@"; do
      echo "== ${f#"$GUEST_DIR"/}"
      cat "$f"
    done
  } | sha256sum | cut -c1-16
}

# Removes temp dirs left by builds that were killed (their pid no longer runs).
# Called with the cache lock held, so no live build's temp dir can match a dead pid.
clean_stale_tmp() {
  local d pid
  for d in "$1"/*.tmp.*; do
    [ -d "$d" ] || continue
    pid=${d##*.}
    kill -0 "$pid" 2>/dev/null || rm -rf "$d"
  done
}

# One builder at a time per cache (2 cores: a second concurrent kernel build only slows both).
take_lock() {
  exec 9>"$1/.lock"
  if ! flock -n 9; then
    log "another guest build holds $1/.lock; waiting"
    flock 9
  fi
}

# publish TMPDIR FINAL: atomic rename; a concurrent winner is kept and our copy dropped.
# With --rebuild (REBUILD=1) an existing FINAL is replaced instead.
publish() {
  if [ "${REBUILD:-0}" = 1 ] && [ -d "$2" ]; then
    local old=$2.tmp.old.$$
    TMP_DIRS+=("$old")
    mv -T "$2" "$old" || die "cannot move $2 aside"
  fi
  if ! mv -T "$1" "$2" 2>/dev/null; then
    [ -d "$2" ] || die "cannot move $1 to $2"
    rm -rf "$1"
  fi
}

# have ENTRY FILE: the cache entry is complete and may be reused (its mtime records the use,
# for prune_cache).
have() {
  [ "${REBUILD:-0}" != 1 ] && [ -f "$1/$2" ] && { touch "$1" 2>/dev/null || true; }
}

# prune_cache CACHE PREFIX KEEP: every edit of the inputs makes a new entry, so drop entries of
# one kind beyond the KEEP most recently used, if unused for an hour (another checkout or a
# running emulator may still read a recent one). Called with the lock held, after a build.
prune_cache() {
  local cache=$1 prefix=$2 keep=$3 n=0 d
  while IFS= read -r d; do
    case "$d" in *.tmp.*) continue ;; esac
    n=$((n + 1))
    [ $n -le "$keep" ] && continue
    if [ -n "$(find "$d" -maxdepth 0 -mmin +60)" ]; then
      log "pruning unused cache entry $(basename "$d")"
      rm -rf "$d"
    fi
  done < <(ls -1dt "$cache/$prefix"-* 2>/dev/null)
}

# Prints the path of a pristine kernel tree: $SEMU_LINUX_SRC, or the Debian tarball extracted
# once into the cache (atomically: a half-extracted tree is never used).
linux_tree() {
  local cache=$1
  if [ -n "${SEMU_LINUX_SRC:-}" ]; then
    [ -f "$SEMU_LINUX_SRC/Makefile" ] || die "SEMU_LINUX_SRC=$SEMU_LINUX_SRC is not a kernel tree"
    echo "$SEMU_LINUX_SRC"
    return
  fi
  local ver
  ver=$(dpkg-query -W -f='${Version}' "$LINUX_PKG")
  local dst=$cache/src-$ver
  # Kept for vmlinux's source lines: a use refreshes it for prune_cache (most recent kept).
  [ -f "$dst/Makefile" ] && { touch "$dst" 2>/dev/null || true; }
  if [ ! -f "$dst/Makefile" ]; then
    [ -f "$LINUX_TARBALL" ] || die "$LINUX_TARBALL missing (package $LINUX_PKG)"
    log "extracting $LINUX_TARBALL (once)"
    local tmp=$dst.tmp.$$
    rm -rf "$tmp" && mkdir -p "$tmp"
    tar -xJf "$LINUX_TARBALL" -C "$tmp" --strip-components=1 || die "extracting $LINUX_TARBALL failed"
    publish "$tmp" "$dst"
  fi
  echo "$dst"
}

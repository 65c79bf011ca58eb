#!/usr/bin/env bash
# Builds kju's tiny demo/test guest from Debian packages: a bookworm kernel plus a busybox
# initramfs that loads the display, input and USB drivers and opens root shells on tty1 (the
# framebuffer console) and ttyS0 (the back door integration tests use).
# Kernel command line switches the init honours: kju.nodrm (load no DRM display driver, so the
# VGA stays in text mode and its registers are free for /bin/vbe-storm); kju.modeset (run
# /bin/kju-modeset, which applies each head's preferred mode on hotplug the way a desktop session
# does, logging to /tmp/kju-modeset.log); kju.modeset=all (the same with -a: every head lit).
# kju.net (bring up eth0 as 10.0.2.15/24 with gateway 10.0.2.2, QEMU's user network, and start
# busybox httpd on port 80 serving /www, which holds kju.txt with the line "kju demo guest httpd").
# Guest tools: scripts/guest-tools/*.c, each built static with the host's cc into /bin/<name>
# (skipped with a warning when there is no C compiler or static libc).
#
# Output (outside git): ${KJU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kju}/guest/
#   vmlinuz  initrd.img  guest.json  ({kernel, initrd, append, kernelVersion, scriptVersion})
# Idempotent: does nothing when guest.json carries this script's version stamp.
# Needs: apt-get (download works unprivileged), dpkg-deb, cpio, gzip; xz/zstd only if the
# kernel package ships compressed modules.
# Usage: scripts/build-demo-guest.sh [--force] [--verify]   (--verify boots it under TCG with
# virtio-vga and std VGA and prints the boot-to-prompt time)
set -euo pipefail

# Bump when the image's contents change so cached guests are rebuilt.
SCRIPT_VERSION=11
APPEND='console=tty1 console=ttyS0 quiet vt.global_cursor_default=0 loglevel=3'
# Modules the guest loads, in this order; dependencies are added ahead of each.
WANTED_MODULES=(
  virtio_pci virtio_console virtio_input
  virtio_gpu bochs cirrus qxl
  evdev psmouse
  xhci_pci ehci_pci usbhid hid_generic
  9p 9pnet_virtio virtio_net
  efivarfs # the Secure Boot test reads the SecureBoot EFI variable
  # sound (tone-play): the generic codec before the controller, which cannot modprobe it here
  snd_hda_codec_generic snd_hda_intel
)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${KJU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kju}"
OUT="$CACHE_ROOT/guest"
FORCE=0
VERIFY=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --verify) VERIFY=1 ;;
    *) printf 'usage: %s [--force] [--verify]\n' "$0" >&2; exit 2 ;;
  esac
done

log() { printf 'build-demo-guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_current() {
  [[ -f "$OUT/guest.json" && -f "$OUT/vmlinuz" && -f "$OUT/initrd.img" ]] &&
    grep -q "\"scriptVersion\": $SCRIPT_VERSION," "$OUT/guest.json"
}

mkdir -p "$OUT"
# Several test processes may ask at once: one builds, the others wait and reuse.
exec 9>"$OUT/.lock"
flock 9

build() {

for tool in apt-get apt-cache dpkg-deb cpio gzip; do
  command -v "$tool" >/dev/null || die "'$tool' not found (this script needs a Debian/Ubuntu host)"
done

WORK="$(mktemp -d "$OUT/.build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Resolve the versioned kernel package behind the linux-image-amd64 metapackage (bookworm's 6.1).
KPKG="$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)"
if [[ -z "$KPKG" ]]; then
  KPKG="$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -n1)"
fi
[[ -n "$KPKG" ]] || die "no linux-image-6.1.0-*-amd64 package known to apt (run apt-get update; bookworm sources needed)"
KVER="${KPKG#linux-image-}"
log "kernel package: $KPKG"

(
  cd "$WORK"
  apt-get download "$KPKG" busybox-static >/dev/null 2>"$WORK/apt.err" ||
    { cat "$WORK/apt.err" >&2; exit 1; }
) || die "apt-get download failed"
dpkg-deb -x "$WORK"/linux-image-*.deb "$WORK/kpkg"
dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/bbpkg"

MODDIR="$WORK/kpkg/lib/modules/$KVER"
[[ -d "$MODDIR" ]] || die "kernel package has no lib/modules/$KVER"
BUSYBOX="$WORK/bbpkg/bin/busybox"
[[ -x "$BUSYBOX" ]] || die "busybox-static package has no bin/busybox"

# Index every module: name (dashes as underscores) -> path relative to $MODDIR.
declare -A MODPATH
while IFS= read -r -d '' f; do
  rel="${f#"$MODDIR"/}"
  base="${rel##*/}"
  base="${base%%.ko*}"
  MODPATH["${base//-/_}"]="$rel"
done < <(find "$MODDIR/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' | tr '\n' '\0')

# The package ships no modules.dep (depmod runs at install time), so dependencies come from each
# module's .modinfo "depends=" string, read from the decompressed file.
ROOT="$WORK/root"
mkdir -p "$ROOT/lib/modules/$KVER" "$ROOT/bin" "$ROOT/sbin" "$ROOT/etc" \
  "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/root" "$ROOT/run"

decompress_module() { # $1 relative source path; prints the relative .ko path written into $ROOT
  local rel="$1" src="$MODDIR/$1" dst
  dst="lib/modules/$KVER/${rel%.*}"
  case "$rel" in
    *.ko) dst="lib/modules/$KVER/$rel"; mkdir -p "$(dirname "$ROOT/$dst")"; cp "$src" "$ROOT/$dst" ;;
    *.ko.xz) mkdir -p "$(dirname "$ROOT/$dst")"; xz -dc "$src" >"$ROOT/$dst" ;;
    *.ko.zst) mkdir -p "$(dirname "$ROOT/$dst")"; zstd -qdc "$src" >"$ROOT/$dst" ;;
    *.ko.gz) mkdir -p "$(dirname "$ROOT/$dst")"; gzip -dc "$src" >"$ROOT/$dst" ;;
    *) die "unknown module file type: $rel" ;;
  esac
  printf '%s\n' "$dst"
}

declare -A STATE # name -> visiting|done
LOAD_ORDER=()
add_module() { # depth-first: dependencies first
  local name="${1//-/_}" rel ko deps dep
  local -a dep_list
  [[ "${STATE[$name]:-}" == done ]] && return 0
  [[ "${STATE[$name]:-}" == visiting ]] && die "module dependency cycle at $name"
  rel="${MODPATH[$name]:-}"
  if [[ -z "$rel" ]]; then
    if grep -q "/${name//_/[-_]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
      STATE[$name]=done
      return 0
    fi
    die "module '$name' is neither in $KPKG nor built in"
  fi
  STATE[$name]=visiting
  ko="$(decompress_module "$rel")"
  deps="$(tr '\0' '\n' <"$ROOT/$ko" | sed -n 's/^depends=//p' | head -n1)"
  IFS=',' read -r -a dep_list <<<"$deps"
  for dep in "${dep_list[@]}"; do
    [[ -n "$dep" ]] && add_module "$dep"
  done
  STATE[$name]=done
  LOAD_ORDER+=("/$ko")
}
for m in "${WANTED_MODULES[@]}"; do add_module "$m"; done
printf '%s\n' "${LOAD_ORDER[@]}" >"$ROOT/etc/kju-modules"
log "modules: ${#LOAD_ORDER[@]} (${WANTED_MODULES[*]} and dependencies)"

cp "$BUSYBOX" "$ROOT/bin/busybox"
# Applet symlinks made at build time (the host runs the static amd64 binary) save boot time.
"$BUSYBOX" --list-full | while IFS= read -r applet; do
  [[ "$applet" == bin/busybox || -e "$ROOT/$applet" ]] && continue
  mkdir -p "$ROOT/$(dirname "$applet")"
  ln -s /bin/busybox "$ROOT/$applet"
done

# Guest tools: small static programs from scripts/guest-tools (e.g. vbe-storm for the storm test,
# kju-vdagent for the clipboard test).
for src in "$SCRIPT_DIR"/guest-tools/*.c; do
  [[ -e "$src" ]] || continue
  tool="$(basename "$src" .c)"
  if ! command -v "${CC:-cc}" >/dev/null; then
    log "warning: no C compiler: guest tool $tool left out"
    continue
  fi
  "${CC:-cc}" -static -O2 -Wall -o "$ROOT/bin/$tool" "$src" -lm 2>"$WORK/cc.err" ||
    { cat "$WORK/cc.err" >&2; log "warning: guest tool $tool did not build (static libc missing?): left out"; continue; }
  log "guest tool: /bin/$tool"
done

cat >"$ROOT/init" <<'EOF'
#!/bin/busybox sh
# kju demo guest: mount the basics, load drivers, hand over to busybox init (shells on tty1, ttyS0).
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
dmesg -n 1
nodrm=0
case " $(cat /proc/cmdline) " in *" kju.nodrm "*) nodrm=1 ;; esac
while read -r ko; do
  if [ $nodrm = 1 ]; then
    case "$ko" in */bochs.ko|*/cirrus.ko|*/qxl.ko|*/virtio-gpu.ko) continue ;; esac
  fi
  insmod "$ko" 2>/dev/null || echo "kju: could not load $ko" >&2
done </etc/kju-modules
hostname kju
case " $(cat /proc/cmdline) " in
  *" kju.modeset=all "*) [ $nodrm = 1 ] || kju-modeset -a >/tmp/kju-modeset.log 2>&1 & ;;
  *" kju.modeset "*) [ $nodrm = 1 ] || kju-modeset >/tmp/kju-modeset.log 2>&1 & ;;
esac
ifconfig lo 127.0.0.1 up
case " $(cat /proc/cmdline) " in *" kju.net "*)
  ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && route add default gw 10.0.2.2 &&
    httpd -p 80 -h /www || echo "kju: network or httpd did not come up" >&2 ;;
esac
exec /sbin/init
EOF
chmod 755 "$ROOT/init"

# busybox init opens each tty, makes it the controlling terminal (job control works) and respawns.
cat >"$ROOT/etc/inittab" <<'EOF'
tty1::respawn:-/bin/sh
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/bin/reboot
EOF
cat >"$ROOT/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin HOME=/root TERM=linux
PS1='kju# '
cd /root
EOF
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
echo 'root:x:0:' >"$ROOT/etc/group"
mkdir -p "$ROOT/www" "$ROOT/mnt"
echo 'kju demo guest httpd' >"$ROOT/www/kju.txt"

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -6 >"$WORK/initrd.img"
cp "$WORK/kpkg/boot/vmlinuz-$KVER" "$WORK/vmlinuz"

cat >"$WORK/guest.json" <<EOF
{
  "scriptVersion": $SCRIPT_VERSION,
  "kernelVersion": "$KVER",
  "kernelPackage": "$KPKG",
  "kernel": "$OUT/vmlinuz",
  "initrd": "$OUT/initrd.img",
  "append": "$APPEND"
}
EOF
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initrd.img" "$OUT/initrd.img"
mv -f "$WORK/guest.json" "$OUT/guest.json"
log "built $OUT (kernel $KVER, initrd $(du -h "$OUT/initrd.img" | cut -f1))"
}

if [[ $FORCE == 0 ]] && is_current; then
  log "up to date: $OUT"
else
  build
fi
flock -u 9

# --verify: boot the guest under TCG with each display and time kernel start to the serial prompt.
verify_boot() { # $1 label, rest: display args
  local label="$1" start now line
  shift
  start=$(date +%s%N)
  coproc VM { exec timeout 60 "${KJU_QEMU:-qemu-system-x86_64}" -accel tcg -M q35 -m 512 -nodefaults \
    -no-user-config "$@" -display none -serial stdio -monitor none \
    -kernel "$OUT/vmlinuz" -initrd "$OUT/initrd.img" -append "$APPEND" 2>&1; }
  local pid="$VM_PID"
  # The prompt has no newline after it: read up to each '#'.
  while IFS= read -r -t 60 -d '#' line <&"${VM[0]}"; do
    if [[ "$line" == *kju ]]; then break; fi
  done
  now=$(date +%s%N)
  printf 'uname -r; cat /sys/class/graphics/fb0/name\n' >&"${VM[1]}"
  local info=""
  while IFS= read -r -t 20 line <&"${VM[0]}"; do
    line="${line%$'\r'}"
    [[ "$line" == *drmfb* ]] && { info="$line"; break; }
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  [[ -n "$info" ]] || die "verify $label: no prompt or no framebuffer within 60 s"
  log "verify $label: prompt after $(( (now - start) / 1000000 )) ms, fb0 = $info"
}
if [[ $VERIFY == 1 ]]; then
  verify_boot virtio-vga -vga none -device virtio-vga
  verify_boot std -vga std
fi

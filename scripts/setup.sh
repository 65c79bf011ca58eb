#!/usr/bin/env bash
# Sets up everything kju needs on a fresh machine: system packages (QEMU >= 9.2 for the
# shared-memory display, qemu-img, OVMF, a compiler for the addon, Chromium for the tests, libvirt
# and OpenSSH for connections to libvirt and other hosts),
# npm dependencies, the Electron binary where it can be downloaded, the native addon and the
# bundles, the demo guest, and the demo VM in the library. Safe to run again.
# Debian 12 / Ubuntu (apt) and macOS (Homebrew).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*"; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

if [ "$(uname -s)" = Darwin ]; then
  command -v brew >/dev/null || { say "Homebrew is needed: see https://brew.sh"; exit 1; }
  brew install qemu node@20 libvirt
else
  command -v apt-get >/dev/null || { say "this script knows apt (Debian/Ubuntu) and Homebrew (macOS); install QEMU >= 9.2, qemu-img, Node 20, g++ and make by hand"; exit 1; }
  . /etc/os-release
  qemu_target=()
  if [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
    # QEMU 7.2 in bookworm has no shared-memory display (Unix.Map needs >= 9.2): use backports.
    if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
      say "adding bookworm-backports to apt's sources (QEMU 10)"
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        | $SUDO tee /etc/apt/sources.list.d/kju-backports.sources >/dev/null
    fi
    qemu_target=(-t bookworm-backports)
  fi
  $SUDO apt-get update -qq
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq "${qemu_target[@]}" qemu-system-x86 qemu-utils >/dev/null
  # libvirt (libvirtd, its QEMU driver and virsh) next to the same QEMU: kju -c qemu:///system; kju loads
  # libvirt.so.0 at run time, so the addon builds without libvirt-dev. OpenSSH: connections to other hosts.
  $SUDO apt-get install -y -qq "${qemu_target[@]}" libvirt0 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients >/dev/null
  $SUDO apt-get install -y -qq openssh-client openssh-server >/dev/null
  # g++/make/python3: node-gyp for the addon; busybox-static, cpio: the demo guest; chromium: tests and kju serve checks.
  # swtpm: the TPM 2.0 behind --tpm; mtools + dosfstools build the Secure Boot test's ESP image without root
  $SUDO apt-get install -y -qq ovmf swtpm swtpm-tools mtools dosfstools g++ make python3 busybox-static cpio zstd xz-utils chromium >/dev/null
  # osinfo-db: the OS catalogue (kju os list); xorriso: the ISO detection tests build their ISOs with it
  $SUDO apt-get install -y -qq osinfo-db xorriso >/dev/null
  # when kju runs as root, swtpm runs as this unprivileged system user (KJU_QEMU_USER names another)
  if [ "$(id -u)" = 0 ] && ! getent passwd "${KJU_QEMU_USER:-kju-qemu}" >/dev/null; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "${KJU_QEMU_USER:-kju-qemu}"
  fi
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$node_major" -lt 20 ]; then
    $SUDO apt-get install -y -qq nodejs npm >/dev/null || true
    node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    [ "$node_major" -ge 20 ] || { say "kju needs Node.js >= 20 (found ${node_major}); install it from your distribution or nodejs.org, then run this again"; exit 1; }
  fi
fi
say "$(qemu-system-x86_64 --version | head -1)"

# npm 11 runs no install scripts unless approved, so Electron's binary download is tried explicitly.
npm ci --no-audit --no-fund
if [ ! -d node_modules/electron/dist ]; then
  if ! node node_modules/electron/install.js >/dev/null 2>&1 || [ ! -d node_modules/electron/dist ]; then
    say "the Electron binary could not be downloaded here: the desktop window is unavailable; 'npm start' opens the same UI in your browser through 'kju serve' instead"
  fi
fi
npm run --silent build

if [ "$(uname -s)" = Linux ]; then
  bash scripts/build-demo-guest.sh
  node scripts/ensure-demo-vm.mjs
else
  say "the demo guest is built from Debian packages and is made on Linux only; create a VM from an ISO in the library instead"
fi
# What is usable here, with fixes. A WARN or FAIL must not fail setup (CI runs this script).
say "kju doctor:"
node bin/kju.mjs doctor || say "kju doctor reported a FAIL above; its fix line says what to do"
say "done"

// Finding UEFI firmware (OVMF/edk2) on the host. Code and variable-store images come in pairs of
// matching size; the variable store is copied into each VM bundle, the code is used read-only.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LibraryError } from './library-error.js';

export interface UefiFirmware {
  /** read-only firmware code image (pflash unit 0) */
  code: string;
  /** pristine variable store to copy per VM (pflash unit 1) */
  varsTemplate: string;
}

/** [directory, code file, vars file]: the layouts of Debian/Ubuntu, Fedora, Arch and Homebrew. */
const CANDIDATES: Array<[string, string, string]> = [
  ['/usr/share/OVMF', 'OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd'],
  ['/usr/share/OVMF', 'OVMF_CODE.fd', 'OVMF_VARS.fd'],
  ['/usr/share/edk2/ovmf', 'OVMF_CODE.fd', 'OVMF_VARS.fd'],
  ['/usr/share/edk2/x64', 'OVMF_CODE.4m.fd', 'OVMF_VARS.4m.fd'],
  ['/usr/share/edk2/x64', 'OVMF_CODE.fd', 'OVMF_VARS.fd'],
  ['/usr/share/edk2-ovmf/x64', 'OVMF_CODE.fd', 'OVMF_VARS.fd'],
  ['/usr/share/qemu', 'edk2-x86_64-code.fd', 'edk2-i386-vars.fd'],
  ['/opt/homebrew/share/qemu', 'edk2-x86_64-code.fd', 'edk2-i386-vars.fd'],
  ['/usr/local/share/qemu', 'edk2-x86_64-code.fd', 'edk2-i386-vars.fd'],
];

/** Secure Boot pairs: code built with SMM and Secure Boot, variables with Microsoft's keys enrolled. */
const SECURE_CANDIDATES: Array<[string, string, string]> = [
  ['/usr/share/OVMF', 'OVMF_CODE_4M.secboot.fd', 'OVMF_VARS_4M.ms.fd'],
  ['/usr/share/OVMF', 'OVMF_CODE.secboot.fd', 'OVMF_VARS.ms.fd'],
  ['/usr/share/edk2/ovmf', 'OVMF_CODE.secboot.fd', 'OVMF_VARS.secboot.fd'],
  ['/usr/share/edk2/x64', 'OVMF_CODE.secboot.4m.fd', 'OVMF_VARS.4m.fd'],
  ['/usr/share/qemu', 'edk2-x86_64-secure-code.fd', 'edk2-i386-vars.fd'],
  ['/opt/homebrew/share/qemu', 'edk2-x86_64-secure-code.fd', 'edk2-i386-vars.fd'],
  ['/usr/local/share/qemu', 'edk2-x86_64-secure-code.fd', 'edk2-i386-vars.fd'],
];

/** Directories searched, for error messages and for tests that point elsewhere. */
export const UEFI_SEARCH_DIRS = [...new Set(CANDIDATES.map(([dir]) => dir))];

/**
 * First code/vars pair present on the host. `root` prefixes every candidate (tests use a temp dir).
 * Throws LibraryError NO_UEFI_FIRMWARE naming where it looked.
 */
export function findUefiFirmware(root = '', options: { secureBoot?: boolean } = {}): UefiFirmware {
  const override = !options.secureBoot && process.env.KJU_OVMF_CODE && process.env.KJU_OVMF_VARS;
  if (override && !root) return { code: process.env.KJU_OVMF_CODE!, varsTemplate: process.env.KJU_OVMF_VARS! };
  for (const [dir, code, vars] of options.secureBoot ? SECURE_CANDIDATES : CANDIDATES) {
    const c = join(root, dir, code);
    const v = join(root, dir, vars);
    if (existsSync(c) && existsSync(v)) return { code: c, varsTemplate: v };
  }
  if (options.secureBoot) {
    throw new LibraryError(
      'no-uefi-firmware',
      `UEFI firmware with Secure Boot and Microsoft's keys (e.g. OVMF_CODE_4M.secboot.fd + OVMF_VARS_4M.ms.fd) was not found in ${[...new Set(SECURE_CANDIDATES.map(([d]) => join(root, d)))].join(', ')}. ` +
        'Install it (Debian/Ubuntu: apt install ovmf; Fedora: dnf install edk2-ovmf; macOS: brew install qemu) or turn Secure Boot off.',
    );
  }
  throw new LibraryError(
    'no-uefi-firmware',
    `UEFI firmware (OVMF) was not found in ${UEFI_SEARCH_DIRS.map((d) => join(root, d)).join(', ')}. ` +
      'Install it (Debian/Ubuntu: apt install ovmf; Fedora: dnf install edk2-ovmf; macOS: brew install qemu), ' +
      'set KJU_OVMF_CODE and KJU_OVMF_VARS, or choose BIOS firmware.',
  );
}

// Test support: a Secure Boot boot chain from Debian's signed packages (shim-signed,
// grub-efi-amd64-signed, fetched once with `apt-get download` into the guest cache), and FAT EFI
// system partition images built without root (dosfstools' mkfs.vfat + mtools).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { guestCacheDir } from './guest.js';

export interface SignedBootChain {
  /** Debian's shim, signed by Microsoft's UEFI CA */
  shim: string;
  /** Debian's monolithic GRUB, signed by Debian's key that shim trusts */
  grub: string;
}

/** Fetches and unpacks the signed shim and GRUB once; later calls reuse the cache. */
export function signedBootChain(env: NodeJS.ProcessEnv = process.env): SignedBootChain {
  const dir = join(dirname(guestCacheDir(env)), 'secure-boot');
  const chain = { shim: join(dir, 'root/usr/lib/shim/shimx64.efi.signed'), grub: join(dir, 'root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed') };
  if (existsSync(chain.shim) && existsSync(chain.grub)) return chain;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync('apt-get', ['download', 'shim-signed', 'grub-efi-amd64-signed'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  for (const deb of readdirSync(dir).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg-deb', ['-x', join(dir, deb), join(dir, 'root')]);
  if (!existsSync(chain.shim) || !existsSync(chain.grub)) throw new Error(`shim-signed/grub-efi-amd64-signed did not contain ${chain.shim} and ${chain.grub}`);
  return chain;
}

/**
 * The PE/COFF image without its Authenticode signature: the certificate table (data directory 4)
 * zeroed and the signature bytes at the end cut off. Secure Boot firmware must refuse it.
 */
export function stripSignature(pe: Buffer): Buffer {
  const out = Buffer.from(pe);
  const lfanew = out.readUInt32LE(0x3c);
  if (out.toString('latin1', lfanew, lfanew + 4) !== 'PE\0\0') throw new Error('not a PE image');
  const opt = lfanew + 24;
  if (out.readUInt16LE(opt) !== 0x20b) throw new Error('not a PE32+ image');
  const secDir = opt + 112 + 4 * 8;
  const offset = out.readUInt32LE(secDir);
  const size = out.readUInt32LE(secDir + 4);
  if (!offset || !size) throw new Error('the image carries no signature');
  out.writeUInt32LE(0, secDir);
  out.writeUInt32LE(0, secDir + 4);
  return out.subarray(0, offset);
}

/** A 64 MiB FAT image at `image` holding `files` (ESP path such as "EFI/BOOT/BOOTX64.EFI" → contents). */
export function buildEsp(image: string, files: Record<string, Buffer>): void {
  rmSync(image, { force: true });
  execFileSync('mkfs.vfat', ['-C', '-n', 'KJUESP', image, String(64 * 1024)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const staging = `${image}.files`;
  rmSync(staging, { recursive: true, force: true });
  const dirs = new Set<string>();
  for (const [path, data] of Object.entries(files)) {
    for (let d = dirname(path); d !== '.'; d = dirname(d)) dirs.add(d);
    const local = join(staging, path);
    mkdirSync(dirname(local), { recursive: true });
    writeFileSync(local, data);
  }
  for (const d of [...dirs].sort((a, b) => a.length - b.length)) execFileSync('mmd', ['-i', image, `::/${d}`]);
  for (const path of Object.keys(files)) execFileSync('mcopy', ['-i', image, join(staging, path), `::/${path}`]);
  rmSync(staging, { recursive: true, force: true });
}

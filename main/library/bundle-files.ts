// Paths inside a `<Name>.kju` bundle, and the check that every file a config names exists.
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { CONFIG_FILE, TPM_STATE_DIR, type BundleConfig } from './bundle-config.js';
import { writeFileAtomic } from './atomic-write.js';
import { serializeBundleConfig } from './bundle-config.js';

/** A VM as stored: its bundle directory (absolute) and its validated config. */
export interface BundleVm {
  dir: string;
  config: BundleConfig;
}

export const BUNDLE_SUBDIRS = ['states', 'screenshots', 'logs'] as const;

/** Where a suspended VM's saved state and its record live in the bundle. */
export const STATES_DIR = 'states';
export const STATE_FILE = 'suspend.state';
export const SUSPENDED_RECORD = 'suspended.json';

export function statePaths(bundleDir: string): { dir: string; state: string; partial: string; record: string } {
  const dir = join(bundleDir, STATES_DIR);
  return { dir, state: join(dir, STATE_FILE), partial: join(dir, `${STATE_FILE}.partial`), record: join(dir, SUSPENDED_RECORD) };
}

/** The small PNG of the screen a VM showed when it last stopped or suspended (the library's thumbnail). */
export function lastScreenPath(bundleDir: string): string {
  return join(bundleDir, 'screenshots', 'last-screen.png');
}

/** A suspended VM's disks must not change until it resumes (its saved RAM refers to them). */
export function isSuspended(bundleDir: string): boolean {
  return existsSync(statePaths(bundleDir).record);
}

/** Relative paths in a config are relative to the bundle directory. */
export function resolveInBundle(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

/** Bundles are private to their owner: disks and configs may hold anything the guest has. */
export const BUNDLE_DIR_MODE = 0o700;
export const BUNDLE_FILE_MODE = 0o600;

export async function makeBundleSubdirs(dir: string): Promise<void> {
  for (const sub of BUNDLE_SUBDIRS) await mkdir(join(dir, sub), { recursive: true, mode: BUNDLE_DIR_MODE });
  await chmod(dir, BUNDLE_DIR_MODE);
}

/**
 * Takes group and other permissions off everything under `dir` (0700 dirs; files keep only their
 * owner bits, so a read-only base stays read-only). Used on a staged bundle before it goes live.
 */
export async function makeBundlePrivate(dir: string): Promise<void> {
  await chmod(dir, BUNDLE_DIR_MODE);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await makeBundlePrivate(p);
    else if (entry.isFile()) await chmod(p, (await lstat(p)).mode & 0o700);
  }
}

export function writeBundleConfig(dir: string, config: BundleConfig): Promise<void> {
  return writeFileAtomic(join(dir, CONFIG_FILE), () => serializeBundleConfig(config), { mode: BUNDLE_FILE_MODE });
}

export interface MissingFile {
  /** what the file is for: "disk 1", "cdrom", "kernel", "initrd", "UEFI variables" */
  role: string;
  /** absolute path that does not exist */
  path: string;
}

/** Every file the config names that is not there. Synchronous stat calls; a handful per VM. */
export function findMissingFiles(vm: BundleVm): MissingFile[] {
  const { dir, config } = vm;
  const wanted: Array<[string, string | null | undefined]> = [
    ...config.disks.map((d, i): [string, string] => [`disk ${i + 1}`, d.file]),
    ['cdrom', config.cdrom],
    ['kernel', config.kernel],
    ['initrd', config.initrd],
    ['UEFI variables', config.firmware === 'uefi' ? config.efiVars : undefined],
    ...(config.shares ?? []).map((s, i): [string, string] => [`shared folder share${i}`, s.path]),
    ['TPM state directory', config.tpm ? TPM_STATE_DIR : undefined],
  ];
  const missing: MissingFile[] = [];
  for (const [role, p] of wanted) {
    if (!p) continue;
    const abs = resolveInBundle(dir, p);
    if (!existsSync(abs)) missing.push({ role, path: abs });
  }
  return missing;
}

export function describeMissing(name: string, missing: MissingFile[]): string {
  const list = missing.map((m) => `${m.role} ${m.path}`).join(', ');
  return `VM "${name}" cannot start: missing ${list}. Restore the file, or edit the VM to point at another one.`;
}

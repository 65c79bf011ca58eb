// The VM library: a folder of `<Name>.kju` bundles. Listing never throws because of one bad
// bundle; it reports the bundle with its problem. Every config write is atomic with a .bak.
import { copyFile, cp, mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { cpus as hostCpus, totalmem } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { HostLimits, VmSummary } from '../../common/contract.js';
import {
  BUNDLE_SUFFIX,
  CONFIG_FILE,
  bundleConfigSchema,
  describeIssues,
  parseBundleConfig,
  secureBootProblem,
  TPM_STATE_DIR,
  validateBundleConfig,
  vmNameSchema,
  type BundleConfig,
} from './bundle-config.js';
import { normalizeVmName, quoteVisibly, vmNameKey } from '../../common/vm-name.js';
import { describeMissing, findMissingFiles, makeBundlePrivate, writeBundleConfig, type BundleVm } from './bundle-files.js';
import { BUNDLE_DIR_MODE, STATES_DIR, isSuspended, resolveInBundle } from './bundle-files.js';
import { removeStaleTemps } from './atomic-write.js';
import { checkBackingChain } from './backing-chain.js';
import { withDiskFull } from './disk-full.js';
import { LibraryError, type LibraryErrorCode } from './library-error.js';
import { KjuError } from '../../common/errors.js';
import { withLibraryLock } from './library-lock.js';
import { checkedForwards, checkedShares, shareOverlappingLibrary } from './guest-link-config.js';
import { resolveLibraryPath } from './library-location.js';
import { isOwnerAlive, ownerStamp } from './owner-stamp.js';
import { describeUntrusted, untrustedDiskFiles } from './disk-trust.js';
import { DiskChainCache, type DiskChainCacheOptions } from './disk-chain-cache.js';
import { readLibraryKey, unconfirmedOutsidePaths, withConfirmedPaths, type NamedPath } from './outside-paths.js';
import { probeRunState } from './run-state.js';
import { withVmLock } from './vm-lock.js';
import { findUefiFirmware } from './firmware.js';
import { findSwtpm } from '../qemu/swtpm.js';

export type { BundleVm } from './bundle-files.js';

export const TRASH_DIR = '.Trash';

/** What a hidden half-built bundle is for; its name carries the owner's stamp: `.<kind>-<pid>-<start>-<uuid>.kju`. */
export type StagingKind = 'creating' | 'cloning' | 'importing' | 'deleting';
const STAGING_NAME = /^\.(creating|cloning|importing|deleting)-(\d+-\d+)-[0-9a-f-]+\.kju$/;

/** One bundle as listed. `config` is null when it cannot be read; `problem` then says why. */
export interface LibraryEntry {
  dir: string;
  /** the config's name, or the directory name without `.kju` when the config is unreadable */
  name: string;
  config: BundleConfig | null;
  /** blocks use of the VM (broken config, duplicate name or id) */
  problem?: string;
  problemCode?: LibraryErrorCode;
}

export interface LibraryOptions {
  /** for tests; defaults to os.cpus() and os.totalmem() */
  host?: HostLimits;
  /** prefix for the UEFI firmware search (tests) */
  firmwareRoot?: string;
  /** for tests: how `list` keeps disk chains (disk-chain-cache.ts) */
  diskChainCache?: DiskChainCacheOptions;
}

/** Hardware fields an edit may change; `cdrom: null` ejects, a null kernel, initrd or append removes it. */
export type VmChanges = Partial<
  Pick<BundleConfig, 'memoryMiB' | 'cpus' | 'display' | 'displays' | 'nic' | 'machine' | 'tablet' | 'clipboard' | 'sound' | 'cdrom' | 'notes' | 'shares' | 'forwards' | 'secureBoot' | 'tpm'>
> & { kernel?: string | null; initrd?: string | null; append?: string | null };

export class Library {
  readonly host: HostLimits;

  /** `root` is the library folder; it is created on first write, not on read. */
  constructor(
    readonly root: string,
    readonly options: LibraryOptions = {},
  ) {
    this.host = options.host ?? { cpus: hostCpus().length, memoryMiB: Math.floor(totalmem() / 1024 / 1024) };
  }

  /** The library at KJU_LIBRARY / settings file / XDG default. */
  static open(env: Record<string, string | undefined> = process.env, options?: LibraryOptions): Library {
    return new Library(resolveLibraryPath(env), options);
  }

  /** Every `*.kju` directory in the library, sorted by name. Runs on the Node loop. */
  async list(): Promise<LibraryEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    await this.removeStaleStaging(names);
    await removeStaleTemps(this.root);
    const bundles = names.filter((n) => n.endsWith(BUNDLE_SUFFIX) && !n.startsWith('.'));
    const key = readLibraryKey(this.root);
    const chains = await DiskChainCache.load(this.root, key, this.options.diskChainCache);
    const entries = await Promise.all(bundles.map((n) => this.readEntry(join(this.root, n), key, chains)));
    await chains.save();
    markDuplicates(
      entries,
      (e) => vmNameKey(e.name),
      'duplicate-name',
      (e, others) => `two VMs are named "${e.name}" (${others.map((o) => basename(o.dir)).join(' and ')}); names must be unique: rename or delete one of the bundles`,
    );
    markDuplicates(
      entries.filter((e) => e.config),
      (e) => e.config!.id,
      'duplicate-id',
      (e, others) => `bundles ${others.map((o) => basename(o.dir)).join(' and ')} share the id ${e.config!.id} (a copied bundle?); import the copy with "kju clone" instead`,
    );
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Half-built bundles whose owner died (kill -9 during a copy) are removed when the library is
   * next listed; those of a live process are left alone. Never throws: listing must not fail.
   */
  private async removeStaleStaging(names: string[]): Promise<void> {
    for (const n of names) {
      const m = STAGING_NAME.exec(n);
      if (m && !isOwnerAlive(m[2])) await rm(join(this.root, n), { recursive: true, force: true }).catch(() => {});
    }
  }

  /** A fresh hidden directory name in the library for building a bundle; nothing is created yet. */
  stagingDir(kind: StagingKind): string {
    return join(this.root, `.${kind}-${ownerStamp()}-${randomUUID()}${BUNDLE_SUFFIX}`);
  }

  /**
   * Puts a staged bundle live as `<name>.kju`: made private, then, under the library lock, the
   * name checked again (case-insensitive, so two racing creates of "case1" and "CASE1" cannot both
   * win), `check` run, and the directory renamed. Returns the bundle directory.
   */
  async commitBundle(staging: string, name: string, check?: () => Promise<void>): Promise<string> {
    await makeBundlePrivate(staging);
    return withLibraryLock(this.root, async () => {
      const dir = await this.checkNewName(name);
      await check?.();
      await rename(staging, dir);
      return dir;
    });
  }

  private async readEntry(dir: string, key: Buffer | undefined, chains: DiskChainCache): Promise<LibraryEntry> {
    const fallbackName = basename(dir, BUNDLE_SUFFIX);
    try {
      const s = await stat(dir);
      if (!s.isDirectory()) throw new LibraryError('invalid-config', `${dir} is a file, not a bundle directory`, dir);
      // config.json and the suspend record are written atomically; a kill mid-write leaves a temp file
      await removeStaleTemps(dir);
      await removeStaleTemps(join(dir, STATES_DIR));
      const text = await readFile(join(dir, CONFIG_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new LibraryError('invalid-config', `${join(dir, CONFIG_FILE)} is missing`, dir);
        throw err;
      });
      const config = parseBundleConfig(text, join(dir, CONFIG_FILE));
      const overlap = shareOverlappingLibrary(config.shares ?? [], this.root);
      if (overlap) return { dir, name: config.name, config, problem: `VM "${config.name}": ${overlap} (kju edit "${config.name}" --share DIR, or --no-share)`, problemCode: 'invalid-argument' };
      const outside = unconfirmedOutsidePaths(dir, config, key);
      if (outside.length) {
        return { dir, name: config.name, config, problem: describeOutside(`VM "${config.name}"`, outside, `kju edit "${config.name}" --accept-outside PATH`), problemCode: 'outside-path' };
      }
      const untrusted = await untrustedDiskFiles(dir, config, key, (disk) => chains.chainOf(disk));
      if (untrusted.length) return { dir, name: config.name, config, problem: describeUntrusted(config.name, untrusted), problemCode: 'untrusted-backing' };
      return { dir, name: config.name, config };
    } catch (err) {
      const code = err instanceof LibraryError ? err.code : 'invalid-config';
      return { dir, name: fallbackName, config: null, problem: (err as Error).message, problemCode: code };
    }
  }

  /** Summaries for the UI and `kju list`; missing files show as the problem but do not hide the VM. */
  async summaries(): Promise<VmSummary[]> {
    return (await this.list()).map((e) => toVmSummary(e));
  }

  /**
   * A usable VM by exact id or case-insensitive name. Throws NOT_FOUND, or the entry's problem
   * (INVALID_CONFIG, NEWER_VERSION, DUPLICATE_NAME, DUPLICATE_ID). Missing disks are not checked
   * here (an edit may be the fix); `requireFiles` checks them.
   */
  async get(nameOrId: string, options: { acceptingOutside?: boolean; changingShares?: boolean } = {}): Promise<BundleVm> {
    const entries = await this.list();
    const byId = entries.filter((e) => e.config?.id === nameOrId);
    const matches = byId.length ? byId : entries.filter((e) => vmNameKey(e.name) === vmNameKey(nameOrId));
    if (!matches.length) {
      throw new LibraryError('not-found', `no VM named "${nameOrId}" in ${this.root}; "kju list" shows the VMs there`);
    }
    const entry = matches[0];
    // the way past a problem is an edit that fixes it: accepting outside files, or new shares for shares overlapping the library
    const tolerated =
      (options.acceptingOutside && (entry.problemCode === 'outside-path' || entry.problemCode === 'untrusted-backing')) || (options.changingShares && entry.problemCode === 'invalid-argument');
    if (entry.problem && !tolerated) throw new LibraryError(entry.problemCode ?? 'invalid-config', entry.problem, entry.dir);
    return { dir: entry.dir, config: entry.config! };
  }

  /** Throws MISSING_FILE naming every missing disk/cdrom/kernel/initrd path. */
  requireFiles(vm: BundleVm): void {
    const missing = findMissingFiles(vm);
    if (missing.length) throw new LibraryError('missing-file', describeMissing(vm.config.name, missing), missing[0].path);
  }

  /** Throws INVALID_NAME or NAME_TAKEN; returns the bundle directory the name would get. */
  async checkNewName(typed: string): Promise<string> {
    const name = normalizeVmName(typed);
    const parsed = vmNameSchema.safeParse(name);
    if (!parsed.success) throw new LibraryError('invalid-name', `${quoteVisibly(typed)} cannot be a VM name: ${parsed.error.issues[0].message}`);
    const taken = (await this.list()).find((e) => vmNameKey(e.name) === vmNameKey(name));
    const dir = join(this.root, `${name}${BUNDLE_SUFFIX}`);
    const dirTaken = (await readdir(this.root).catch(() => [] as string[])).some((n) => vmNameKey(n) === vmNameKey(`${name}${BUNDLE_SUFFIX}`));
    if (taken || dirTaken) {
      throw new LibraryError('name-taken', `a VM named "${taken?.name ?? name}" already exists in ${this.root}; choose another name`, taken?.dir ?? dir);
    }
    return dir;
  }

  /** Throws HOST_LIMIT when the host cannot give the VM that much. */
  checkHostLimits(memoryMiB: number, cpus: number): void {
    if (cpus > this.host.cpus) {
      throw new LibraryError('host-limit', `${cpus} CPUs asked, but this host has ${this.host.cpus}; use ${this.host.cpus} or fewer`, undefined, { field: 'cpus' });
    }
    if (memoryMiB > this.host.memoryMiB) {
      throw new LibraryError('host-limit', `${memoryMiB} MiB of memory asked, but this host has ${this.host.memoryMiB} MiB; use less`, undefined, { field: 'memoryMiB' });
    }
  }

  /**
   * Changes hardware settings, validated, written atomically (old config kept as config.json.bak),
   * under the VM's lock. New cdrom/kernel/initrd paths count as confirmed; `acceptOutside` confirms
   * outside paths the config already names (a bundle copied in from elsewhere), the way past OUTSIDE_PATH.
   */
  async edit(nameOrId: string, changes: VmChanges, options: { acceptOutside?: string[] } = {}): Promise<BundleVm> {
    const accept = (options.acceptOutside ?? []).map((p) => resolve(p));
    const vm = await this.get(nameOrId, { acceptingOutside: accept.length > 0, changingShares: changes.shares !== undefined });
    return withVmLock(vm, 'being edited', () => this.editLocked(vm, changes, accept));
  }

  private async editLocked(vm: BundleVm, changes: VmChanges, accept: string[]): Promise<BundleVm> {
    if (isSuspended(vm.dir)) {
      throw new LibraryError('in-use', `VM "${vm.config.name}" is suspended to disk; resume it (kju resume) or discard its saved state (kju start --fresh) before changing it`, vm.dir);
    }
    const next: Record<string, unknown> = { ...vm.config };
    const shares = changes.shares && checkedShares(changes.shares, this.root);
    const forwards = changes.forwards && checkedForwards(changes.forwards);
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      if (key === 'shares' || key === 'forwards') {
        // an empty list removes the field: a config without folders looks as before they existed
        const list = key === 'shares' ? shares! : forwards!;
        if (list.length) next[key] = list;
        else delete next[key];
        continue;
      }
      // null removes an optional setting (kernel, initrd, append); cdrom keeps null, its "empty drive"
      if (value === null && key !== 'cdrom') delete next[key];
      else next[key] = (key === 'cdrom' || key === 'kernel' || key === 'initrd') && typeof value === 'string' ? resolve(value) : value;
    }
    // Secure Boot on: UEFI, and a fresh variable store with Microsoft's keys (the old one has none).
    const secureBootOn = changes.secureBoot === true && !vm.config.secureBoot;
    if (secureBootOn) {
      next.firmware = 'uefi';
      next.efiVars = 'efi-vars.fd';
    }
    // Errors here are about the change, not the file: they name the setting (`field`), never config.json.
    const refuse = (field: string | undefined, why: string) => new LibraryError('invalid-argument', `cannot change VM "${vm.config.name}": ${why}`, undefined, { field });
    const parsed = bundleConfigSchema.safeParse(next);
    if (!parsed.success) throw refuse(String(parsed.error.issues[0].path[0] ?? ''), describeIssues(parsed.error));
    if ((parsed.data.displays ?? 1) > 1 && parsed.data.display !== 'virtio-vga') {
      throw refuse(
        changes.display !== undefined && changes.displays === undefined ? 'display' : 'displays',
        `displays: ${parsed.data.displays} heads need the display device virtio-vga (it is ${parsed.data.display})`,
      );
    }
    let config = validateBundleConfig(parsed.data, join(vm.dir, CONFIG_FILE));
    const sbProblem = secureBootProblem(config);
    if (sbProblem) throw refuse(changes.kernel ? 'kernel' : 'secureBoot', sbProblem);
    const tpmOn = changes.tpm === true && !vm.config.tpm;
    const onField = <T>(field: string, fn: () => T): T => {
      try {
        return fn();
      } catch (err) {
        if (err instanceof KjuError && err.field === undefined) err.field = field;
        throw err;
      }
    };
    if (tpmOn) onField('tpm', () => findSwtpm());
    const secureFirmware = secureBootOn ? onField('secureBoot', () => findUefiFirmware(this.options.firmwareRoot, { secureBoot: true })) : undefined;
    this.checkHostLimits(config.memoryMiB, config.cpus);
    const confirmed: string[] = [];
    for (const key of ['cdrom', 'kernel', 'initrd'] as const) {
      const p = changes[key];
      if (typeof p === 'string' && !existsSync(resolve(p))) {
        throw new LibraryError('missing-file', `the ${key === 'cdrom' ? 'ISO' : key} ${resolve(p)} does not exist`, resolve(p), { field: key });
      }
      if (typeof p === 'string') confirmed.push(resolve(p));
    }
    const key = readLibraryKey(this.root);
    const outside = [...unconfirmedOutsidePaths(vm.dir, vm.config, key).map((n) => n.path), ...(accept.length ? (await untrustedDiskFiles(vm.dir, vm.config, key)).map((f) => f.path) : [])];
    const stray = accept.find((p) => !outside.includes(p));
    if (stray) throw new LibraryError('invalid-argument', `VM "${vm.config.name}" names no unconfirmed outside path ${stray}; nothing to accept`, stray);
    // folders the user names for this VM are confirmed by naming them, as the files above
    for (const share of shares ?? []) confirmed.push(share.path);
    confirmed.push(...accept);
    config = await withConfirmedPaths(config, this.root, confirmed);
    // Files the new settings need go in first; the old TPM state is kept when the TPM is turned off.
    if (secureFirmware) await copyFile(secureFirmware.varsTemplate, join(vm.dir, 'efi-vars.fd'));
    if (tpmOn) await mkdir(join(vm.dir, TPM_STATE_DIR), { recursive: true, mode: 0o700 });
    await writeBundleConfig(vm.dir, config).catch((err: unknown) => {
      throw withDiskFull(err, `the config of VM "${vm.config.name}" could not be written, it is unchanged`);
    });
    return { dir: vm.dir, config };
  }

  /**
   * Moves the bundle to `.Trash/` inside the library (returns where), or removes it for good with
   * `permanent`. Refuses while the VM runs, or while linked clones still read its disks.
   */
  async delete(nameOrId: string, options: { permanent?: boolean } = {}): Promise<{ trashedTo?: string }> {
    const vm = await this.get(nameOrId);
    return withVmLock(vm, 'being deleted', () => this.deleteLocked(vm.config.id, options));
  }

  private async deleteLocked(id: string, options: { permanent?: boolean }): Promise<{ trashedTo?: string }> {
    // Checks and move under the library lock: a linked clone or a same-name create cannot slip in.
    const moved = await withLibraryLock(this.root, async () => {
      const vm = await this.get(id);
      if (probeRunState(vm) !== 'stopped') {
        throw new LibraryError('in-use', `VM "${vm.config.name}" is running; shut it down first`, vm.dir);
      }
      const dependents = (await this.list()).filter((e) => e.config?.clonedFrom?.linked && e.config.clonedFrom.id === vm.config.id);
      if (dependents.length) {
        throw new LibraryError('in-use', `linked clones ${dependents.map((e) => `"${e.name}"`).join(', ')} read their disks from VM "${vm.config.name}"; delete them first`, vm.dir);
      }
      if (options.permanent) {
        // out of sight at once; the slow removal runs after the lock (a kill leaves a stale .deleting-*)
        const doomed = this.stagingDir('deleting');
        await rename(vm.dir, doomed);
        return { doomed, trashedTo: undefined };
      }
      const trash = join(this.root, TRASH_DIR);
      await mkdir(trash, { recursive: true, mode: BUNDLE_DIR_MODE });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const trashedTo = join(trash, `${vm.config.name} ${stamp}${BUNDLE_SUFFIX}`);
      await rename(vm.dir, trashedTo);
      return { doomed: undefined, trashedTo };
    });
    if (moved.doomed) {
      await rm(moved.doomed, { recursive: true, force: true });
      return {};
    }
    return { trashedTo: moved.trashedTo };
  }

  /**
   * Copies a bundle from elsewhere into the library, validated first. Refuses a bundle whose name
   * or id is already in the library, or whose disks are missing.
   */
  async importBundle(path: string, options: { acceptOutside?: string[] } = {}): Promise<BundleVm> {
    const src = resolve(path);
    let config = parseBundleConfig(
      await readFile(join(src, CONFIG_FILE), 'utf8').catch((err: Error) => {
        throw new LibraryError('not-found', `${src} is not a kju bundle (${err.message})`, src);
      }),
      join(src, CONFIG_FILE),
    );
    this.requireFiles({ dir: src, config });
    const sameId = (await this.list()).find((e) => e.config?.id === config.id);
    if (sameId) throw new LibraryError('duplicate-id', `VM "${sameId.name}" in the library already has this bundle's id ${config.id}; it is already imported`, sameId.dir);
    // Another library's confirmations mean nothing here: every outside path needs the user's word.
    const accept = new Set((options.acceptOutside ?? []).map((p) => resolve(p)));
    const outside = unconfirmedOutsidePaths(src, { ...config, outsideConfirmed: {} }, undefined);
    const refused = outside.filter((n) => !accept.has(n.path));
    if (refused.length) {
      throw new LibraryError('outside-path', describeOutside(`the bundle ${src}`, refused, 'import it again accepting that path (acceptOutside)'), refused[0].path);
    }
    await this.ensureRoot();
    await this.checkNewName(config.name);
    const staging = this.stagingDir('importing');
    try {
      await cp(src, staging, { recursive: true, errorOnExist: true, force: false });
      // the copy is checked again: the source could have changed meanwhile
      const again = unconfirmedOutsidePaths(staging, { ...config, outsideConfirmed: {} }, undefined).filter((n) => !accept.has(n.path));
      if (again.length) throw new LibraryError('outside-path', describeOutside(`the bundle ${src}`, again, 'import it again accepting that path (acceptOutside)'), again[0].path);
      const stagedRoot = realpathSync(staging);
      for (const disk of config.disks) {
        const file = resolveInBundle(staging, disk.file);
        if (existsSync(file)) await checkBackingChain(file, (p) => p.startsWith(stagedRoot + sep) || accept.has(p));
      }
      config = await withConfirmedPaths(
        { ...config, outsideConfirmed: {} },
        this.root,
        outside.map((n) => n.path),
      );
      if (!Object.keys(config.outsideConfirmed ?? {}).length) delete config.outsideConfirmed;
      await writeBundleConfig(staging, config);
      const dir = await this.commitBundle(staging, config.name, async () => {
        const again = (await this.list()).find((e) => e.config?.id === config.id);
        if (again) throw new LibraryError('duplicate-id', `VM "${again.name}" in the library already has this bundle's id ${config.id}; it is already imported`, again.dir);
      });
      return { dir, config };
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      throw withDiskFull(err, `importing ${src} stopped, nothing was added`);
    }
  }

  /** Export is the bundle as-is: copied to `destDir/<Name>.kju`. Linked clones still need their base. */
  async exportBundle(nameOrId: string, destDir: string): Promise<string> {
    const vm = await this.get(nameOrId);
    const dest = join(resolve(destDir), basename(vm.dir));
    if (existsSync(dest)) throw new LibraryError('name-taken', `${dest} already exists`, dest);
    await cp(vm.dir, dest, { recursive: true, errorOnExist: true, force: false });
    return dest;
  }

  /** Creates the library folder if needed; used by create/clone/import. */
  async ensureRoot(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: BUNDLE_DIR_MODE });
  }
}

function describeOutside(what: string, outside: NamedPath[], howToAccept: string): string {
  const list = outside.map((n) => `${n.role} ${n.path}`).join(', ');
  return `${what} names ${list} outside its bundle, not confirmed in this library (a bundle made elsewhere can name any host file); if you trust ${outside.length > 1 ? 'them' : 'it'}: ${howToAccept}`;
}

function markDuplicates(entries: LibraryEntry[], key: (e: LibraryEntry) => string, code: LibraryErrorCode, message: (e: LibraryEntry, group: LibraryEntry[]) => string): void {
  const groups = new Map<string, LibraryEntry[]>();
  for (const e of entries) groups.set(key(e), [...(groups.get(key(e)) ?? []), e]);
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    for (const e of group) {
      if (e.problem) continue;
      e.problem = message(e, group);
      e.problemCode = code;
    }
  }
}

/** The contract's VmSummary for one entry. `state` comes from the run-state hook. */
export function toVmSummary(entry: LibraryEntry): VmSummary {
  if (!entry.config) {
    return { id: `broken:${basename(entry.dir)}`, name: entry.name, state: 'stopped', displayDevice: 'none', memoryMiB: 0, cpus: 0, problem: entry.problem };
  }
  const c = entry.config;
  const missing = findMissingFiles({ dir: entry.dir, config: c });
  const problem = entry.problem ?? (missing.length ? describeMissing(c.name, missing) : undefined);
  const summary: VmSummary = {
    id: c.id,
    name: c.name,
    state: probeRunState({ dir: entry.dir, config: c }),
    displayDevice: c.display,
    soundDevice: c.sound ?? 'none',
    memoryMiB: c.memoryMiB,
    cpus: c.cpus,
  };
  if (c.displays !== undefined && c.displays > 1) summary.displays = c.displays;
  if (c.tpm) summary.tpm = true;
  if (c.secureBoot) summary.secureBoot = true;
  if (problem) summary.problem = problem;
  if (c.cdrom) summary.cdrom = resolveInBundle(entry.dir, c.cdrom);
  if (c.clipboard) summary.clipboard = true;
  if (c.kernel) summary.kernel = resolveInBundle(entry.dir, c.kernel);
  if (c.initrd) summary.initrd = resolveInBundle(entry.dir, c.initrd);
  if (c.append) summary.append = c.append;
  if (c.shares?.length) summary.shares = c.shares.map((sh) => ({ ...sh }));
  if (c.forwards?.length) summary.forwards = c.forwards.map((f) => ({ ...f }));
  return summary;
}

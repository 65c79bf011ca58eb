// Which accelerator a launch uses. KJU_ACCEL decides when set (no probe). Otherwise the one the
// host offers (KVM, HVF) is used only once the probe (accel-probe.ts) has run a guest with it on
// this machine; if it fails, TCG, with a notice for the user. The result is cached per machine in
// ${KJU_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kju}/accel-check.json and probed again when the QEMU
// binary, its version, the host kernel or the offered accelerator changes. Runs on the Node loop.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, release } from 'node:os';
import { dirname, join } from 'node:path';
import type { Accelerator } from '../../common/contract.js';
import { type QemuBinary, chooseAccelerator, findQemu } from './find-qemu.js';
import { type ProbeResult, runAccelProbe } from './accel-probe.js';

/** What a cached check is valid for: any change means probing again. */
export interface AccelCheckKey {
  qemuPath: string;
  /** first line of `qemu --version` */
  qemuVersion: string;
  /** os.release(): the host kernel (KVM lives there) */
  kernelRelease: string;
  accel: Accelerator;
}

export interface AccelCheckRecord {
  key: AccelCheckKey;
  works: boolean;
  reason: string;
  /** ISO time of the probe */
  checkedAt: string;
  probeMs: number;
}

/**
 * How the choice was made: KJU_ACCEL; by the caller (LaunchOptions.accel); the host offers no accelerator (TCG); a probe just now; the
 * cached probe; or not checked because QEMU could not be found (the offered accelerator is used).
 */
export type AcceleratorSource = 'KJU_ACCEL' | 'given' | 'no-accelerator' | 'probe' | 'cache' | 'unchecked';

export interface AcceleratorChoice {
  accel: Accelerator;
  source: AcceleratorSource;
  /** Set when the host offers an accelerator that failed its check: say it once to the user. */
  notice?: string;
  /** The check behind the choice (probe or cache). */
  check?: AccelCheckRecord;
  /** Why no check could run, or why its result could not be saved (the choice still stands). */
  warning?: string;
}

export interface AccelCheckOptions {
  env?: NodeJS.ProcessEnv;
  /** A QEMU found already; default findQemu(env). */
  qemu?: QemuBinary;
  /** Probe again even if the cache matches (kju doctor --recheck). */
  recheck?: boolean;
}

/** Seams for tests; production uses the defaults. */
export interface AccelCheckDeps {
  /** The accelerator the host offers before any check; default chooseAccelerator() without KJU_ACCEL. */
  offered?: () => Accelerator;
  findQemu?: (env: NodeJS.ProcessEnv) => Promise<QemuBinary>;
  probe?: (qemuPath: string, accel: Accelerator) => Promise<ProbeResult>;
  kernelRelease?: string;
  cacheFile?: string;
  now?: () => Date;
}

const ACCEL_NAMES: Record<Accelerator, string> = { kvm: 'KVM', hvf: 'HVF', tcg: 'TCG' };

/** The one sentence shown when kju falls back to TCG over a present accelerator. */
export function fallbackNotice(accel: Accelerator): string {
  const why = accel === 'kvm' ? ' (nested virtualization?)' : '';
  return `${ACCEL_NAMES[accel]} is present but does not run guests here${why}; using software emulation, which is slower`;
}

export function accelCheckCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KJU_CACHE || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'kju');
  return join(base, 'accel-check.json');
}

function isAccel(v: unknown): v is Accelerator {
  return v === 'kvm' || v === 'hvf' || v === 'tcg';
}

/** The cached record, or undefined when missing or not a record (then it is probed again). */
export function readAccelCheck(file: string): AccelCheckRecord | undefined {
  let r: Partial<AccelCheckRecord> & { key?: Partial<AccelCheckKey> };
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as typeof r;
  } catch {
    return undefined;
  }
  const k = r?.key;
  if (!k || typeof k.qemuPath !== 'string' || typeof k.qemuVersion !== 'string' || typeof k.kernelRelease !== 'string' || !isAccel(k.accel)) return undefined;
  if (typeof r.works !== 'boolean' || typeof r.reason !== 'string' || typeof r.checkedAt !== 'string' || typeof r.probeMs !== 'number') return undefined;
  return r as AccelCheckRecord;
}

function sameKey(a: AccelCheckKey, b: AccelCheckKey): boolean {
  return a.qemuPath === b.qemuPath && a.qemuVersion === b.qemuVersion && a.kernelRelease === b.kernelRelease && a.accel === b.accel;
}

// A temp file and rename, not library/atomic-write.ts: that module sits in a higher layer, and a lost
// cache file only costs one more probe.
function writeAccelCheck(file: string, record: AccelCheckRecord): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function choiceFrom(record: AccelCheckRecord, source: 'probe' | 'cache'): AcceleratorChoice {
  const accel = record.key.accel;
  return record.works ? { accel, source, check: record } : { accel: 'tcg', source, check: record, notice: fallbackNotice(accel) };
}

/** The decision itself (no in-process memo): see the header. Never rejects for a failing probe. */
export async function checkAccelerator(opts: AccelCheckOptions = {}, deps: AccelCheckDeps = {}): Promise<AcceleratorChoice> {
  const env = opts.env ?? process.env;
  const forced = env.KJU_ACCEL;
  if (isAccel(forced)) return { accel: forced, source: 'KJU_ACCEL' };
  const offered = deps.offered ? deps.offered() : chooseAccelerator({ ...env, KJU_ACCEL: undefined });
  if (offered === 'tcg') return { accel: 'tcg', source: 'no-accelerator' };
  let qemu = opts.qemu;
  if (!qemu) {
    try {
      qemu = await (deps.findQemu ?? findQemu)(env);
    } catch (err) {
      return { accel: offered, source: 'unchecked', warning: `${ACCEL_NAMES[offered]} was not checked: ${(err as Error).message}` };
    }
  }
  const key: AccelCheckKey = { qemuPath: qemu.path, qemuVersion: qemu.versionText, kernelRelease: deps.kernelRelease ?? release(), accel: offered };
  const file = deps.cacheFile ?? accelCheckCacheFile(env);
  const cached = opts.recheck ? undefined : readAccelCheck(file);
  if (cached && sameKey(cached.key, key)) return choiceFrom(cached, 'cache');

  const result = await (deps.probe ?? runAccelProbe)(qemu.path, offered);
  const record: AccelCheckRecord = { key, works: result.works, reason: result.reason, checkedAt: (deps.now?.() ?? new Date()).toISOString(), probeMs: result.elapsedMs };
  const choice = choiceFrom(record, 'probe');
  try {
    writeAccelCheck(file, record);
  } catch (err) {
    choice.warning = `the accelerator check could not be saved (${(err as Error).message}); it runs again next time`;
  }
  return choice;
}

const memo = new Map<string, Promise<AcceleratorChoice>>();

/**
 * checkAccelerator() at most once per process for the same QEMU and cache file (several launches
 * at once share one probe; a cache that cannot be written is not probed again). What launchQemu
 * uses when no accelerator is given.
 */
export async function resolveAccelerator(opts: AccelCheckOptions = {}): Promise<AcceleratorChoice> {
  const env = opts.env ?? process.env;
  if (isAccel(env.KJU_ACCEL)) return { accel: env.KJU_ACCEL, source: 'KJU_ACCEL' };
  let qemu = opts.qemu;
  if (!qemu) {
    try {
      qemu = await findQemu(env);
    } catch {
      return checkAccelerator(opts); // says why it was not checked; nothing worth keeping
    }
  }
  const id = [accelCheckCacheFile(env), qemu.path, qemu.versionText].join('\0');
  let pending = opts.recheck ? undefined : memo.get(id);
  if (!pending) {
    pending = checkAccelerator({ ...opts, qemu });
    memo.set(id, pending);
  }
  return pending;
}

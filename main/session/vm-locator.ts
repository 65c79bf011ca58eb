// Resolves the `<vm>` argument of CLI commands: a VM description file (`vm.json`), a VM of the
// library by name or id, or by name a running VM started from a description file (found through
// the vm.json in the runtime dirs). Each kind has its runtime dir from runtime-dir.ts.
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseVmDescription, type VmDescription } from '../qemu/vm-description.js';
import { fileVmRuntimeDir, libraryVmRuntimeDir, listRuntimeDirs, readRuntimeVmBundle, readRuntimeVmName, type RuntimeDir } from '../qemu/runtime-dir.js';
import { isAlive, readPidFile } from '../qemu/pid-alive.js';
import { Library, type BundleVm } from '../library/library.js';
import { bundleToVmDescription } from '../library/vm-description-from-bundle.js';

export interface LocatedVm {
  name: string;
  runtimeDir: RuntimeDir;
  /** how to start it; absent only for a VM known solely by a live runtime dir */
  description?: VmDescription;
  /** where it came from, for messages */
  source: { kind: 'file'; path: string } | { kind: 'library'; bundle: BundleVm } | { kind: 'runtime' };
}

export class VmNotFoundError extends KjuError {
  override name = 'VmNotFoundError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('vm-not-found', message, options);
  }
}

/** Reads and validates a VM description file; errors name the file and the field. */
export function loadDescriptionFile(path: string): VmDescription {
  const abs = resolve(path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new VmNotFoundError(`${abs}: no such file`);
    throw new VmNotFoundError(`${abs} is not valid JSON: ${e.message}`);
  }
  return parseVmDescription(json, dirname(abs));
}

export async function locateVm(arg: string): Promise<LocatedVm> {
  if (!arg) throw new VmNotFoundError('name a VM (its name in the library, or a VM description .json file)');
  const looksLikeFile = arg.endsWith('.json') || arg.includes('/');
  if (looksLikeFile || (existsSync(arg) && statSync(arg).isFile())) {
    const description = loadDescriptionFile(arg);
    return { name: description.name, runtimeDir: fileVmRuntimeDir(arg, description.name), description, source: { kind: 'file', path: resolve(arg) } };
  }
  const library = Library.open();
  let bundle: BundleVm;
  try {
    bundle = await library.get(arg);
  } catch (err) {
    // Not in the library: maybe a VM started from a description file that is running now. A VM of
    // another library is not reached by name: the command is pointed at this library.
    const running = runningByName(arg);
    if (running && !running.bundle) return { name: readRuntimeVmName(running.rt) ?? arg, runtimeDir: running.rt, source: { kind: 'runtime' } };
    if (running) {
      const elsewhere = dirname(running.bundle!);
      throw new VmNotFoundError(`${(err as Error).message}; a running VM '${readRuntimeVmName(running.rt) ?? arg}' belongs to the library ${elsewhere}`, {
        hint: `point kju at that library to reach it: KJU_LIBRARY=${elsewhere} kju ...`,
      });
    }
    throw new VmNotFoundError(`${(err as Error).message} (and no running VM is called '${arg}')`);
  }
  return { name: bundle.config.name, runtimeDir: libraryVmRuntimeDir(bundle), description: bundleToVmDescription(bundle), source: { kind: 'library', bundle } };
}

interface RunningByName {
  rt: RuntimeDir;
  /** a library VM's bundle (in some library); none for a VM started from a description file */
  bundle?: string;
}

/**
 * A live QEMU whose vm.json is named `name` (exact name first, then any case), a file VM before a
 * library VM (which lies in another library when the caller's has no such name).
 */
function runningByName(name: string): RunningByName | undefined {
  const live = listRuntimeDirs()
    .filter((rt) => isAlive(readPidFile(rt.pidFile)))
    .map((rt) => ({ rt, bundle: readRuntimeVmBundle(rt) }))
    .sort((a, b) => Number(Boolean(a.bundle)) - Number(Boolean(b.bundle)));
  return live.find((r) => readRuntimeVmName(r.rt) === name) ?? live.find((r) => readRuntimeVmName(r.rt)?.toLowerCase() === name.toLowerCase());
}

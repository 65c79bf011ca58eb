// Resolves the `<vm>` argument of CLI commands: a VM description file (`vm.json`), or a VM of the
// library by name or id. Either way the VM's runtime dir is `<runtime base>/<sanitized name>/`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseVmDescription, type VmDescription } from '../qemu/vm-description.js';
import { runtimeDirFor } from '../qemu/runtime-dir.js';
import { runtimePaths } from '../qemu/build-argv.js';
import { Library, type BundleVm } from '../library/library.js';
import { bundleToVmDescription } from '../library/vm-description-from-bundle.js';

export interface LocatedVm {
  name: string;
  runtimeDir: string;
  /** how to start it; absent only for a VM known solely by a live runtime dir */
  description?: VmDescription;
  /** where it came from, for messages */
  source: { kind: 'file'; path: string } | { kind: 'library'; bundle: BundleVm } | { kind: 'runtime' };
}

export class VmNotFoundError extends Error {
  override name = 'VmNotFoundError';
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
    return { name: description.name, runtimeDir: runtimeDirFor(description.name), description, source: { kind: 'file', path: resolve(arg) } };
  }
  const library = Library.open();
  let bundle: BundleVm;
  try {
    bundle = await library.get(arg);
  } catch (err) {
    // Not in the library: maybe a VM started from a description file that is running now.
    const dir = runtimeDirFor(arg);
    if (existsSync(runtimePaths(dir).pidFile)) return { name: arg, runtimeDir: dir, source: { kind: 'runtime' } };
    throw new VmNotFoundError(`${(err as Error).message} (and no running VM is called '${arg}')`);
  }
  return { name: bundle.config.name, runtimeDir: runtimeDirFor(bundle.config.name), description: bundleToVmDescription(bundle), source: { kind: 'library', bundle } };
}

// What the running-VM subcommands (run, screenshot, type, key, stop) share: locating `<vm>`,
// reaching it (session/reach.ts: its owner's kju.sock, or attached for the command), and turning
// the session layer's expected failures into CliErrors that say what to do next.
import { KjuError } from '../../../common/errors.js';
import { CliError } from '../cli-error.js';
import { VmDescriptionError } from '../../qemu/vm-description.js';
import { LibraryError } from '../../library/library-error.js';
import { HostCallError, SessionError, VmNotRunningError } from '../../session/session-errors.js';
import { withVm } from '../../session/reach.js';
import type { OwnerApi } from '../../session/owner-protocol.js';
import { locateVm, VmNotFoundError, type LocatedVm } from '../../session/vm-locator.js';
import { KeyNameError } from '../../input/text-keys.js';
import { QemuLaunchError } from '../../qemu/launch.js';
import { RuntimeDirError } from '../../qemu/runtime-dir.js';
import { QemuNotFoundError, QemuUnsupportedError } from '../../qemu/find-qemu.js';

const EXPECTED = [VmDescriptionError, LibraryError, HostCallError, VmNotRunningError, VmNotFoundError, KeyNameError, QemuLaunchError, RuntimeDirError, QemuNotFoundError, QemuUnsupportedError, SessionError];

export async function asCliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KjuError) throw err; // kju.ts maps every KjuError (message, hint, exit code)
    if (EXPECTED.some((c) => err instanceof c)) throw new CliError((err as Error).message);
    throw err;
  }
}

export function locate(arg: string | undefined, usage: string): Promise<LocatedVm> {
  if (!arg) throw new CliError(`name a VM\n\n${usage}`, 2);
  return asCliErrors(() => locateVm(arg));
}

export function onRunningVm<T>(arg: string | undefined, usage: string, fn: (api: OwnerApi, vm: LocatedVm) => Promise<T>): Promise<T> {
  return asCliErrors(async () => {
    const vm = await locate(arg, usage);
    return withVm(vm, (api) => fn(api, vm));
  });
}

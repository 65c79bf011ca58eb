// What the running-VM subcommands (run, screenshot, type, key, stop) share: locating `<vm>` and
// reaching it (session/reach.ts: its owner's kju.sock, or attached for the command). Failures are kju
// errors, which kju.ts reports through the one CLI mapping (cli-error.ts).
import { CliError } from '../cli-error.js';
import { withVm } from '../../session/reach.js';
import type { OwnerApi } from '../../session/owner-protocol.js';
import { locateVm, type LocatedVm } from '../../session/vm-locator.js';

export function locate(arg: string | undefined, usage: string): Promise<LocatedVm> {
  if (!arg) throw new CliError(`name a VM\n\n${usage}`, 2);
  return locateVm(arg);
}

export function onRunningVm<T>(arg: string | undefined, usage: string, fn: (api: OwnerApi, vm: LocatedVm) => Promise<T>): Promise<T> {
  return locate(arg, usage).then((vm) => withVm(vm, (api) => fn(api, vm)));
}

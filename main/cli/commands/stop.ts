// kju stop <vm> [--force] [--timeout S]: ACPI power button and wait, or --force to pull the plug
// (QMP quit, else SIGKILL of the QEMU kju launched: session/stop-vm.ts).
import { parseCommandArgs, printJson, positiveInt } from './library-cli.js';
import { locate } from './vm-cli.js';
import { withVmLock } from '../../library/vm-lock.js';
import { stopVm } from '../../session/stop-vm.js';
import { CliError } from '../cli-error.js';

const USAGE = 'usage: kju stop <vm> [--force] [--timeout SECONDS] [--json]';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length > 1) throw new CliError(`unexpected argument '${positionals[1]}'\n\n${USAGE}`, 2);
  const timeoutMs = (positiveInt('timeout', values.timeout) ?? 30) * 1000;
  const force = Boolean(values.force);
  const vm = await locate(positionals[0], USAGE);
  // a library VM: under its lock, so a start or suspend of it cannot run meanwhile
  const r = vm.source.kind === 'library' ? await withVmLock(vm.source.bundle, 'stopping', () => stopVm(vm, { force, timeoutMs })) : await stopVm(vm, { force, timeoutMs });
  if (values.json) printJson(r);
  if (!r.stopped) {
    // a timeout is a failure (exit 1), not "not running" (exit 3): the VM still runs
    throw new CliError(
      `VM "${vm.name}" did not power off within ${timeoutMs / 1000} s (the guest may ignore the ACPI power button); it is still running: run "kju stop ${vm.name} --force" to pull the plug`,
      1,
    );
  }
  if (!values.json) console.log(`stopped`);
  return 0;
}

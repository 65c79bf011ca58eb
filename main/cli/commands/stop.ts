// kju stop <vm> [--force] [--timeout S]: ACPI power button and wait, or --force to pull the plug.
import { parseCommandArgs, printJson, positiveInt } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';

const USAGE = 'usage: kju stop <vm> [--force] [--timeout SECONDS] [--json]';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' }, timeout: { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) return console.log(USAGE), 0;
  if (positionals.length > 1) throw new CliError(`unexpected argument '${positionals[1]}'\n\n${USAGE}`, 2);
  const timeoutMs = (positiveInt('timeout', values.timeout) ?? 30) * 1000;
  const force = Boolean(values.force);
  const r = await onRunningVm(positionals[0], USAGE, (ops) => ops.stop({ force, timeoutMs }));
  if (values.json) printJson(r);
  if (!r.stopped) {
    throw new CliError(`the guest did not power off within ${timeoutMs / 1000} s (it may ignore the ACPI power button); use --force to stop it anyway`, 3);
  }
  if (!values.json) console.log(`stopped`);
  return 0;
}

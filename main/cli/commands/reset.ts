// `kju reset <vm>`: the reset button (QMP system_reset): the guest reboots without shutting down.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';

const USAGE = "usage: kju reset <vm> [--json]\n\nPresses the VM's reset button (unsaved guest data is lost).";

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju reset takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  const r = await withSessions((s) => s.reset(positionals[0]));
  if (values.json) printJson(r);
  else console.log(`reset (${r.state})`);
  return 0;
}

// `kju pause <vm>`: freezes the guest's CPUs (QMP stop); `kju resume` continues it.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';

const USAGE = 'usage: kju pause <vm> [--json]\n\nFreezes a running VM in memory; "kju resume <vm>" continues it.';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju pause takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  const r = await withSessions((s) => s.pause(positionals[0]));
  if (values.json) printJson(r);
  else console.log(r.state);
  return 0;
}

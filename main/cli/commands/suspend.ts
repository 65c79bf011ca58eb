// `kju suspend <vm>`: saves the running VM's whole state into its bundle and stops QEMU;
// `kju resume` (or `kju start`) brings it back where it was.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';

const USAGE = `usage: kju suspend <vm> [--json]

Saves a running VM's memory and devices to <bundle>/states/ and stops it. Its disks must not be
changed until it is resumed with "kju resume <vm>".`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju suspend takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  const r = await withSessions((s) => s.suspend(positionals[0]));
  if (values.json) printJson({ ...r.summary, stateFile: r.stateFile, bytes: r.bytes });
  else console.log(`suspended ${r.summary.name}: ${(r.bytes / 1048576).toFixed(1)} MiB of state in ${r.stateFile}`);
  return 0;
}

// kju key <vm> ctrl-alt-delete [more chords...]: presses key combinations on the guest.
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';
import { parseChord } from '../../input/text-keys.js';

const USAGE = 'usage: kju key <vm> <chord> [<chord>...] [--json]   e.g. ctrl-alt-delete, ctrl-alt-f2, alt-tab, enter';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [vmArg, ...chords] = positionals;
  if (!chords.length) throw new CliError(`name a key combination\n\n${USAGE}`, 2);
  chords.forEach(parseChord);
  let keys = 0;
  await onRunningVm(vmArg, USAGE, async (ops) => {
    for (const chord of chords) keys += (await ops.key({ chord })).keys;
  });
  if (values.json) printJson({ keys });
  return 0;
}

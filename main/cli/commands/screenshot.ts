// kju screenshot <vm> <out.png>: PNG of what kju's display holds, read from the shared surface.
import { resolve } from 'node:path';
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';

const USAGE = 'usage: kju screenshot <vm> <out.png> [--head N] [--json]';

/** --head N: a display head number (0, the default, is the first). */
export function parseHead(text: string | undefined): number {
  if (text === undefined) return 0;
  if (!/^\d{1,2}$/.test(text) || Number(text) > 15) throw new CliError(`--head takes a head number (0 is the first display), got '${text}'`, 2);
  return Number(text);
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, head: { type: 'string' } }, USAGE);
  if (values.help) return console.log(USAGE), 0;
  const [vmArg, out, ...extra] = positionals;
  if (!out || extra.length) throw new CliError(`${!out ? 'name the PNG file to write' : `unexpected argument '${extra[0]}'`}\n\n${USAGE}`, 2);
  if (!out.toLowerCase().endsWith('.png')) throw new CliError(`the screenshot is a PNG: give a file name ending in .png (got '${out}')`, 2);
  const shot = await onRunningVm(vmArg, USAGE, (ops) => ops.screenshot({ path: resolve(out), head: parseHead(values.head as string | undefined) }));
  if (values.json) printJson(shot);
  else console.log(`${shot.path}: ${shot.width}x${shot.height}${shot.head ? ` (head ${shot.head})` : ''}`);
  return 0;
}

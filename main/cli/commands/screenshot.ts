// kju screenshot <vm> <out.png>: PNG of what kju's display holds, read from the shared surface.
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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

/** The folder a file is to be written in exists and is a folder (else a one-line error naming it). */
export function checkFolder(dir: string): void {
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) throw new CliError(`the folder ${dir} does not exist: create it first, or write the file elsewhere`);
  if (!st.isDirectory()) throw new CliError(`${dir} is not a folder: write the file elsewhere`);
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, head: { type: 'string' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [vmArg, out, ...extra] = positionals;
  if (!out || extra.length) throw new CliError(`${!out ? 'name the PNG file to write' : `unexpected argument '${extra[0]}'`}\n\n${USAGE}`, 2);
  if (!out.toLowerCase().endsWith('.png')) throw new CliError(`the screenshot is a PNG: give a file name ending in .png (got '${out}')`, 2);
  checkFolder(dirname(resolve(out)));
  const shot = await onRunningVm(vmArg, USAGE, (ops) => ops.screenshot({ path: resolve(out), head: parseHead(values.head as string | undefined) }));
  if (values.json) printJson(shot);
  else console.log(`${shot.path}: ${shot.width}x${shot.height}${shot.head ? ` (head ${shot.head})` : ''}`);
  return 0;
}

// kju type <vm> "text": types text on the guest's keyboard (US layout); "\n" presses Enter.
// Keys are paced so that the guest's PS/2 queue loses none.
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';
import { textToStrokes } from '../../input/text-keys.js';

const USAGE = 'usage: kju type <vm> "text" | - [--json]   (a newline in the text, or the escape \\n, presses Enter; - types what stdin holds, as it is)';

/** All of stdin as text (for `kju type VM -`: text too long for an argument). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [vmArg, text, ...extra] = positionals;
  if (text === undefined || extra.length) throw new CliError(`${text === undefined ? 'give the text to type' : 'quote the text as one argument'}\n\n${USAGE}`, 2);
  // stdin is typed as it is (a file's backslashes stay); an argument's \n and \t are escapes
  const expanded = text === '-' ? await readStdin() : text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  textToStrokes(expanded); // refuse untypeable text before touching the VM
  const r = await onRunningVm(vmArg, USAGE, (ops) => ops.type({ text: expanded }));
  if (values.json) printJson(r);
  return 0;
}

// kju type <vm> "text": types text on the guest's keyboard (US layout); "\n" presses Enter.
// Keys are paced so that the guest's PS/2 queue loses none.
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';
import { textToStrokes } from '../../input/text-keys.js';

const USAGE = 'usage: kju type <vm> "text" [--json]   (a newline in the text, or the escape \\n, presses Enter)';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return console.log(USAGE), 0;
  const [vmArg, text, ...extra] = positionals;
  if (text === undefined || extra.length) throw new CliError(`${text === undefined ? 'give the text to type' : 'quote the text as one argument'}\n\n${USAGE}`, 2);
  const expanded = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  textToStrokes(expanded); // refuse untypeable text before touching the VM
  const r = await onRunningVm(vmArg, USAGE, (ops) => ops.type({ text: expanded }));
  if (values.json) printJson(r);
  return 0;
}

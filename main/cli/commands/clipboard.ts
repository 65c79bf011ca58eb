// kju clipboard get|set <vm> [TEXT|-]: a running VM's shared clipboard for scripts, through the
// same clipboard (VmSession.sharedClipboard) and limits as the VM window's "Share clipboard".
import { CliError } from '../cli-error.js';
import { CLIPBOARD_MAX_BYTES } from '../../../common/contract.js';
import { withVm } from '../../session/reach.js';
import { parseCommandArgs } from './library-cli.js';
import { locate } from './vm-cli.js';

const USAGE = `usage: kju clipboard get <vm>
       kju clipboard set <vm> TEXT | -      (- reads the text from stdin, as it is)
get prints the VM's clipboard text exactly (no newline added); set offers TEXT to the guest.
UTF-8 text only, at most 1 MiB. The VM must share its clipboard (kju edit <vm> --clipboard).
  --wait SECONDS   set: wait that long for the guest to take the text (default 0 when a kju
                   process owns the VM, which keeps offering it; 60 otherwise, as nothing would)`;

/** All of stdin as bytes. */
async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > CLIPBOARD_MAX_BYTES) throw new CliError(`stdin holds more than kju's 1 MiB clipboard limit; nothing was sent`);
  }
  return Buffer.concat(chunks);
}

function utf8(bytes: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CliError('the text is not valid UTF-8 (the clipboard carries UTF-8 text only); nothing was sent');
  }
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { wait: { type: 'string' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [op, vmArg, text, ...extra] = positionals;
  if (op !== 'get' && op !== 'set') throw new CliError(USAGE, 2);
  if (op === 'get' && (text !== undefined || values.wait !== undefined)) throw new CliError(`kju clipboard get takes only the VM\n\n${USAGE}`, 2);
  if (op === 'set' && (text === undefined || extra.length)) throw new CliError(`${text === undefined ? 'give the text (or - for stdin)' : 'quote the text as one argument'}\n\n${USAGE}`, 2);
  const waitS = values.wait === undefined ? undefined : Number(values.wait);
  if (waitS !== undefined && !(Number.isFinite(waitS) && waitS >= 0 && waitS <= 600)) throw new CliError(`--wait takes seconds, 0 to 600\n\n${USAGE}`, 2);
  const vm = await locate(vmArg, USAGE);
  if (op === 'get') {
    const r = await withVm(vm, (api) => api.clipboard({ op: 'get' }));
    if (r.text === null || r.text === undefined) throw new CliError(`the clipboard of '${vm.name}' is empty`);
    await new Promise<void>((resolve, reject) => process.stdout.write(r.text!, (err) => (err ? reject(err) : resolve())));
    return 0;
  }
  const value = text === '-' ? utf8(await readStdin()) : text!;
  if (Buffer.byteLength(value, 'utf8') > CLIPBOARD_MAX_BYTES) throw new CliError(`the text (${Buffer.byteLength(value, 'utf8')} bytes) is larger than kju's 1 MiB clipboard limit; nothing was sent`);
  return withVm(vm, async (api, via) => {
    // an attached session lets go when the command ends, and QEMU's clipboard with it: hold on until the guest takes the text
    const waitMs = (waitS ?? (via === 'attached' ? 60 : 0)) * 1000;
    const r = await api.clipboard({ op: 'set', text: value, waitMs });
    if (waitMs > 0 && !r.delivered) {
      const after = via === 'attached' ? '; no kju process owns the VM, so the text is no longer offered (kju run, kju serve or the app keep offering it)' : '';
      throw new CliError(`the guest did not take the text within ${waitMs / 1000} s (is its clipboard agent running?)${after}`);
    }
    return 0;
  });
}

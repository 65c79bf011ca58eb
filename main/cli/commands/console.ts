// kju console <vm>: attaches this terminal to a running VM's first serial port (raw mode when stdin
// is a terminal) until Ctrl+], like virsh console. Any kju process may attach (the owner does not
// hold the port), one client at a time: a second is refused (session/serial-attach.ts).
import { CliError } from '../cli-error.js';
import { openSerial, relaySerial } from '../../session/serial-attach.js';
import { parseCommandArgs } from './library-cli.js';
import { locate } from './vm-cli.js';

const USAGE = `usage: kju console <vm>

Attaches the terminal to the VM's first serial port (the guest's ttyS0); Ctrl+] detaches and
leaves the VM running. One client at a time: a second kju console is refused while one is attached.
With stdin not a terminal, its bytes go to the guest and its end detaches.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju console takes one VM name\n\n${USAGE}`, 2);
  const vm = await locate(positionals[0], USAGE);
  const sock = await openSerial(vm.runtimeDir, vm.name);
  const tty = process.stdin.isTTY;
  process.stderr.write(`Connected to the serial console of '${vm.name}'. Press Ctrl+] to detach.\r\n`);
  if (tty) process.stdin.setRawMode(true);
  const attachment = relaySerial(sock, process.stdin, process.stdout);
  let how: 'detached' | 'closed';
  try {
    how = await attachment.ended;
  } finally {
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  process.stderr.write(how === 'detached' ? `\r\nDetached from '${vm.name}' (it keeps running).\r\n` : `\r\nThe serial port of '${vm.name}' closed (the VM stopped).\r\n`);
  return 0;
}

// kju forward add|remove|list <vm> [tcp:[ADDR:]HOSTPORT:GUESTPORT]: a running VM's port forwards,
// changed live (kju edit --forward changes what the next start gets).
import { CliError } from '../cli-error.js';
import { formatPortForward, GuestLinkError, parseForwardKey, parsePortForward, type ForwardKey, type PortForward } from '../../qemu/guest-links.js';
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';

const USAGE = `usage: kju forward list <vm> [--json]
       kju forward add <vm> tcp:HOSTPORT:GUESTPORT     (also udp:, and tcp:0.0.0.0:8080:80; address default 127.0.0.1)
       kju forward remove <vm> tcp:[ADDR:]HOSTPORT     (without ADDR: the forward on that port, whatever its address)
Changes the running VM only; kju edit --forward sets the forwards a VM starts with.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [op, vmArg, spec, ...extra] = positionals;
  if (extra.length || !['list', 'add', 'remove'].includes(op ?? '')) throw new CliError(USAGE, 2);
  if (op !== 'list' && !spec) throw new CliError(`give the forward, e.g. tcp:8080:80\n\n${USAGE}`, 2);
  let forward: PortForward | undefined;
  let key: ForwardKey | undefined;
  if (spec) {
    try {
      // the guest port does not identify a forward: remove takes tcp:HOSTPORT and tcp:ADDR:HOSTPORT too
      if (op === 'remove') key = parseForwardKey(spec);
      else forward = parsePortForward(spec);
    } catch (err) {
      if (err instanceof GuestLinkError) throw new CliError(err.message, 2);
      throw err;
    }
  }
  const r = await onRunningVm(vmArg, USAGE, (api) => api.forward(op === 'list' ? { op: 'list' } : op === 'add' ? { op: 'add', forward: forward! } : { op: 'remove', forward: key! }));
  if (values.json) printJson(r.forwards);
  else if (op === 'list') for (const f of r.forwards) console.log(formatPortForward(f));
  else if (op === 'add') console.log(`added ${formatPortForward(forward!)}`);
  else console.log(`removed ${key!.proto}:${key!.hostAddr === undefined ? '' : `${key!.hostAddr}:`}${key!.hostPort}`);
  return 0;
}

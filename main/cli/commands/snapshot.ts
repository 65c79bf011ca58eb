// `kju snapshot create|list|revert|delete <vm> [name]`: snapshots of a VM's qcow2 disks. Live (memory
// included) while the VM runs; disk-only with qemu-img while it is stopped.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';

const USAGE = `usage: kju snapshot create <vm> <name>
       kju snapshot list <vm> [--json]
       kju snapshot revert <vm> <name>
       kju snapshot delete <vm> <name>

Snapshots need qcow2 disks. While the VM runs they include its memory (revert returns to that very
moment); while it is stopped they hold the disks only.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [op, vm, name, extra] = positionals;
  if (!vm || extra !== undefined) throw new CliError(`wrong number of arguments\n\n${USAGE}`, USAGE_EXIT);
  if (op === 'list') {
    if (name !== undefined) throw new CliError(`kju snapshot list takes no name\n\n${USAGE}`, USAGE_EXIT);
    const list = await withSessions((s) => s.snapshots(vm));
    if (values.json) printJson(list);
    else if (!list.length) console.log('no snapshots');
    else for (const s of list) console.log(`${s.name}\t${s.date}\t${s.vmStateBytes ? `with memory (${(s.vmStateBytes / 1048576).toFixed(1)} MiB)` : 'disk only'}`);
    return 0;
  }
  if (op !== 'create' && op !== 'revert' && op !== 'delete') throw new CliError(`unknown snapshot operation "${op ?? ''}"\n\n${USAGE}`, USAGE_EXIT);
  if (!name) throw new CliError(`kju snapshot ${op} needs a snapshot name\n\n${USAGE}`, USAGE_EXIT);
  const r = await withSessions((s) => s.snapshot(vm, op, name));
  if (values.json) printJson({ op, name, ...r });
  else console.log(`${{ create: 'created', revert: 'reverted to', delete: 'deleted' }[op]} snapshot "${name}" (${r.live ? 'live' : 'offline'})`);
  return 0;
}

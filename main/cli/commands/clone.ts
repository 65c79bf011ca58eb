// `kju clone`: a full copy of a VM, or a linked clone sharing the source's disk as a frozen base.
import { CliError } from '../cli-error.js';
import { cloneVm } from '../../library/vm-clone.js';
import { parseCommandArgs, printJson, USAGE_EXIT, withLibrary } from './library-cli.js';

const USAGE = `usage: kju clone <vm> <new-name> [--linked] [--json]

  --linked   qcow2 overlays instead of full copies: fast and small, but the clone depends on the
             source bundle, which then cannot be deleted before the clone; refused while the
             source's disks hold snapshots (they would end up in the read-only base)`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { linked: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 2) throw new CliError(`kju clone takes a VM and a new name\n\n${USAGE}`, USAGE_EXIT);
  const showProgress = process.stderr.isTTY && !values.json && !values.linked;
  return withLibrary(async (library) => {
    const vm = await cloneVm(library, positionals[0], positionals[1], {
      linked: values.linked,
      onProgress: showProgress ? (p) => process.stderr.write(`\rcopying disks: ${p.toFixed(0)}%`) : undefined,
    });
    if (showProgress) process.stderr.write('\n');
    if (values.json) printJson({ bundle: vm.dir, config: vm.config });
    else console.log(`cloned "${positionals[0]}" as "${vm.config.name}"${values.linked ? ' (linked)' : ''} in ${vm.dir}`);
    return 0;
  });
}

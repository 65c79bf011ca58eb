// `kju delete`: moves a VM to the library's .Trash folder, or removes it with --permanent.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT, withLibrary } from './library-cli.js';

const USAGE = `usage: kju delete <vm> [--permanent] [--json]

Moves the VM's bundle to .Trash/ inside the library; --permanent removes it and its disks for good.`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { permanent: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju delete takes one VM\n\n${USAGE}`, USAGE_EXIT);
  return withLibrary(async (library) => {
    const { dir, config } = await library.get(positionals[0]);
    const { trashedTo } = await library.delete(config.id, { permanent: values.permanent });
    if (values.json) printJson({ id: config.id, name: config.name, bundle: dir, trashedTo: trashedTo ?? null });
    else console.log(trashedTo ? `moved VM "${config.name}" to ${trashedTo}` : `deleted VM "${config.name}" and its disks`);
    return 0;
  });
}

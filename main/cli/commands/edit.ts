// `kju edit`: changes a VM's hardware; validated, written atomically (config.json.bak keeps the old).
import { CliError } from '../cli-error.js';
import { DISPLAYS, MACHINES, NICS } from '../../library/bundle-config.js';
import type { VmChanges } from '../../library/library.js';
import { memoryMiB, oneOf, parseCommandArgs, positiveInt, printJson, USAGE_EXIT, withLibrary } from './library-cli.js';

const USAGE = `usage: kju edit <vm> [options]

  --memory M      MiB, or 512M / 2G
  --cpus N
  --iso FILE      insert a CD-ROM image;  --eject  removes it
  --display D     ${DISPLAYS.join(', ')}
  --nic N         ${NICS.join(', ')}
  --machine M     ${MACHINES.join(', ')}
  --tablet / --no-tablet
  --kernel FILE --initrd FILE --append "ARGS"
  --notes TEXT
  --json          print the resulting config as JSON`;

const OPTIONS = {
  memory: { type: 'string' },
  cpus: { type: 'string' },
  iso: { type: 'string' },
  eject: { type: 'boolean' },
  display: { type: 'string' },
  nic: { type: 'string' },
  machine: { type: 'string' },
  tablet: { type: 'boolean' },
  'no-tablet': { type: 'boolean' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  notes: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export async function run(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(args, OPTIONS, USAGE);
  if (v.help) return console.log(USAGE), 0;
  if (positionals.length !== 1) throw new CliError(`kju edit takes one VM\n\n${USAGE}`, USAGE_EXIT);
  if (v.iso && v.eject) throw new CliError('--iso and --eject contradict each other', USAGE_EXIT);
  const changes: VmChanges = {
    memoryMiB: memoryMiB(v.memory),
    cpus: positiveInt('cpus', v.cpus),
    cdrom: v.eject ? null : v.iso,
    display: oneOf('display', v.display, DISPLAYS),
    nic: oneOf('nic', v.nic, NICS),
    machine: oneOf('machine', v.machine, MACHINES),
    tablet: v.tablet ? true : v['no-tablet'] ? false : undefined,
    kernel: v.kernel,
    initrd: v.initrd,
    append: v.append,
    notes: v.notes,
  };
  if (Object.values(changes).every((x) => x === undefined)) throw new CliError(`nothing to change\n\n${USAGE}`, USAGE_EXIT);
  return withLibrary(async (library) => {
    const vm = await library.edit(positionals[0], changes);
    if (v.json) printJson({ bundle: vm.dir, config: vm.config });
    else console.log(`updated VM "${vm.config.name}"`);
    return 0;
  });
}

// `kju start <vm> [--fresh]`: starts a library VM detached (QEMU outlives the command) and prints
// where its log is. A suspended VM resumes from its saved state unless --fresh discards it.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';
import { resolveAccelerator } from '../../qemu/accel-check.js';

const USAGE = `usage: kju start <vm> [--fresh] [--json]

Starts a VM of the library in the background; it keeps running after this command ends.
A VM suspended to disk ("kju suspend") resumes where it was.
  --fresh   discard a suspended VM's saved state and boot it from its disks
  --json    print the VM's summary and log file as JSON`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { fresh: { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju start takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  // The launch inside start() makes the same choice (cached); asking first lets us say it once here.
  const accel = await resolveAccelerator();
  const r = await withSessions((s) => s.start(positionals[0], { fresh: Boolean(values.fresh) }));
  for (const line of [accel.notice, accel.warning]) if (line) console.error(`kju: ${line}`);
  if (values.json) printJson({ ...r.summary, logFile: r.logFile, resumed: r.resumed });
  else console.log(`${r.resumed ? 'resumed' : 'started'} ${r.summary.name} (${r.summary.state}); QEMU log: ${r.logFile}`);
  return 0;
}

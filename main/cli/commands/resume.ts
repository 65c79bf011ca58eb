// `kju resume <vm>`: one verb for "carry on": continues a paused VM, or restores a VM suspended to
// disk (like `kju start`). Refuses a VM that is neither.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { withSessions } from './lifecycle-cli.js';
import { isSuspended } from '../../session/saved-state.js';

const USAGE = `usage: kju resume <vm> [--json]

Continues a VM paused with "kju pause", or restores one suspended to disk with "kju suspend".`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju resume takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  const out = await withSessions(async (s) => {
    const vm = await s.library.get(positionals[0]);
    const summary = (await s.list()).find((v) => v.id === vm.config.id)!;
    if (summary.state === 'suspended' || (summary.state === 'stopped' && isSuspended(vm.dir))) {
      const r = await s.start(vm.config.id);
      return { ...r.summary, how: 'restored from disk', logFile: r.logFile };
    }
    if (summary.state === 'paused') {
      const r = await s.unpause(vm.config.id);
      return { ...summary, state: r.state, how: 'continued' };
    }
    throw new CliError(`VM "${vm.config.name}" is ${summary.state}, neither paused nor suspended; nothing to resume`, 3);
  });
  if (values.json) printJson(out);
  else console.log(`${out.name}: ${out.how} (${out.state})`);
  return 0;
}

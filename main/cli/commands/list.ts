// `kju list`: the VMs in the library, each with its state and any problem (a broken bundle is
// listed with its problem, never hidden and never fatal).
import { withLibrary, parseCommandArgs, printJson } from './library-cli.js';
import { SessionManager } from '../../session/session-manager.js';

const USAGE =
  'usage: kju list [--json]\n\nLists the VMs in the library (KJU_LIBRARY or ~/.local/share/kju/library), and running VMs started\nfrom a description file (kju run path/vm.json), marked "(file)".';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length) return (console.error(`kju list: unexpected argument "${positionals[0]}"\n\n${USAGE}`), 2);
  return withLibrary(async (library) => {
    const entries = await library.list();
    // Live states (paused, suspended) without taking over any VM: reads them through kju.sock or a brief QMP query.
    const sessions = SessionManager.create({ library, passive: true });
    const summaries = await sessions.list().finally(() => sessions.close());
    if (values.json) {
      // library VMs come first, in the library's order; VMs started from a file (fromFile) have no bundle
      printJson(summaries.map((s, i) => (s.fromFile ? s : { ...s, bundle: entries[i].dir })));
      return 0;
    }
    if (!entries.length && !summaries.length) {
      console.log(`no VMs in ${library.root}; make one with "kju create <name> --preset linux"`);
      return 0;
    }
    const rows = summaries.map((s) => [s.fromFile ? `${s.name} (file)` : s.name, s.state, s.memoryMiB ? `${s.memoryMiB} MiB` : '-', s.cpus ? String(s.cpus) : '-', s.displayDevice]);
    const header = ['NAME', 'STATE', 'MEMORY', 'CPUS', 'DISPLAY'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
    const line = (r: string[]) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join('  ')
        .trimEnd();
    console.log(line(header));
    summaries.forEach((s, i) => {
      console.log(line(rows[i]));
      if (s.fromFile) console.log(`  not in the library: started with "kju run ${s.fromFile}"`);
      if (s.problem) console.log(`  problem: ${s.problem}`);
    });
    return 0;
  });
}

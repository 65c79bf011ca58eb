// `kju os list [TEXT]`: the OS catalogue (osinfo-db) with recommended resources, the kju preset
// each gets and whether kju can install it unattended.
import { CliError } from '../cli-error.js';
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { loadCatalogue, searchCatalogue } from '../../os/catalogue.js';
import type { OsCatalogueEntry } from '../../../common/contract.js';

const USAGE = `usage: kju os list [TEXT] [--json] [--all]

Lists the operating systems kju knows from osinfo-db (the system's copy, or KJU_OSINFO_DIR),
newest first: those whose id or name contains TEXT, or all. Without --all, systems past their
end of life are left out of a listing without TEXT.`;

const dbDate = (v: string) => (/^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6)}` : v);

function row(e: OsCatalogueEntry): string[] {
  const r = e.recommended;
  return [
    e.id,
    e.name,
    e.releaseDate ?? '-',
    r.memoryMiB ? `${r.memoryMiB} MiB` : '-',
    r.diskGiB ? `${r.diskGiB} GiB` : '-',
    r.cpus ? String(r.cpus) : '-',
    e.preset,
    e.unattended.supported ? 'yes' : 'no',
  ];
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, all: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [sub, text, extra] = positionals;
  if (sub !== 'list') throw new CliError(sub ? `kju os: unknown subcommand "${sub}"\n\n${USAGE}` : USAGE, USAGE_EXIT);
  if (extra !== undefined) throw new CliError(`kju os list: unexpected argument "${extra}" (quote a TEXT with spaces)\n\n${USAGE}`, USAGE_EXIT);
  const catalogue = await loadCatalogue();
  const today = new Date().toISOString().slice(0, 10);
  let entries = searchCatalogue(catalogue, text);
  if (!text && !values.all) entries = entries.filter((e) => !e.eolDate || e.eolDate >= today);
  if (values.json) return (printJson({ ...catalogue, entries }), 0);
  console.log(`osinfo-db ${dbDate(catalogue.version)} from ${catalogue.source}`);
  if (!entries.length) {
    console.log(`no OS matches "${text}"; try a shorter text (kju os list ${text?.slice(0, 3) ?? ''})`);
    return 1;
  }
  const header = ['ID', 'NAME', 'RELEASED', 'MEMORY', 'DISK', 'CPUS', 'PRESET', 'UNATTENDED'];
  const rows = entries.map(row);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const r of rows) console.log(line(r));
  return 0;
}

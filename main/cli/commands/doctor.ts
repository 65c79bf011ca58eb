// `kju doctor [--json] [--recheck]`: what kju needs from this machine, one line each, OK / WARN /
// FAIL with the fix. Exit status 1 when any line is FAIL (kju cannot work until it is fixed).
import { parseCommandArgs, printJson, USAGE_EXIT } from './library-cli.js';
import { CliError } from '../cli-error.js';
import { type Diagnostic, runDiagnostics } from '../../backend/diagnostics.js';

const USAGE = `usage: kju doctor [--json] [--recheck]

Checks QEMU, its display and accelerator, UEFI firmware, swtpm, the unprivileged user QEMU runs
as (when kju is root), libvirt, Electron, the library's disk space and the runtime dir. Exit
status 1 when a line says FAIL.
  --json      print the lines as JSON
  --recheck   run the accelerator check again instead of using its cached result`;

const LABELS: Record<Diagnostic['id'], string> = {
  qemu: 'QEMU',
  display: 'display',
  accelerator: 'accelerator',
  uefi: 'UEFI',
  swtpm: 'swtpm',
  'qemu-user': 'QEMU user',
  libvirt: 'libvirt',
  electron: 'Electron',
  library: 'library',
  'runtime-dir': 'runtime dir',
};

export function formatDiagnostics(lines: Diagnostic[]): string {
  return lines.map((d) => `${d.status.padEnd(5)} ${LABELS[d.id].padEnd(12)} ${d.summary}${d.fix ? `\n${' '.repeat(19)}fix: ${d.fix}` : ''}`).join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, recheck: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length) throw new CliError(`kju doctor: unexpected argument "${positionals[0]}"\n\n${USAGE}`, USAGE_EXIT);
  const lines = await runDiagnostics({ recheck: Boolean(values.recheck) });
  const ok = !lines.some((d) => d.status === 'FAIL');
  if (values.json) printJson({ ok, checks: lines });
  else console.log(formatDiagnostics(lines));
  return ok ? 0 : 1;
}

// kju run <vm.json|name>: starts a VM and hosts it in this process until it stops (Ctrl-C stops
// it). Other kju commands reach it through its kju.sock meanwhile.
import { parseCommandArgs } from './library-cli.js';
import { asCliErrors, locate } from './vm-cli.js';
import { CliError } from '../cli-error.js';
import { findQemu } from '../../qemu/find-qemu.js';
import { launchQemu } from '../../qemu/launch.js';
import { VmSession } from '../../session/vm-session.js';

const USAGE = 'usage: kju run <vm.json | name>   (runs until the guest powers off, `kju stop`, or Ctrl-C)';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE);
  if (values.help) return console.log(USAGE), 0;
  if (positionals.length !== 1) throw new CliError(`${positionals.length ? `unexpected argument '${positionals[1]}'` : 'name a VM'}\n\n${USAGE}`, 2);
  const vm = await locate(positionals[0], USAGE);
  if (!vm.description) throw new CliError(`'${vm.name}' is already running (kju stop ${vm.name} stops it)`);
  const description = vm.description;
  const qemuBin = await asCliErrors(() => findQemu());
  for (const w of qemuBin.warnings ?? []) console.error(`kju: ${w}`);
  const qemu = await asCliErrors(() => launchQemu(description, { qemu: qemuBin, runtimeDir: vm.runtimeDir }));
  for (const line of [qemu.accelerator?.notice, qemu.accelerator?.warning]) if (line) console.error(`kju: ${line}`);
  console.log(`kju: '${vm.name}' started (QEMU pid ${qemu.pid}); log: ${qemu.logFile}`);
  let session: VmSession;
  try {
    session = await VmSession.attach({ name: vm.name, runtimeDir: vm.runtimeDir, pid: qemu.pid, exited: qemu.exited });
    await session.hostControlSocket();
  } catch (err) {
    qemu.kill('SIGKILL');
    throw new CliError(`could not connect to QEMU's display: ${(err as Error).message}`);
  }
  session
    .primaryDisplay()
    .then((d) => {
      d.on('surface', (s) => console.log(`kju: screen ${s.width}x${s.height}, transport ${s.transport}${d.transportNote ? ` (${d.transportNote})` : ''}`));
    })
    .catch((err: Error) => console.error(`kju: no display: ${err.message}`));
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) {
      console.error('kju: forcing QEMU off');
      qemu.kill('SIGKILL');
      return;
    }
    stopping = true;
    console.error(`kju: ${sig}: stopping '${vm.name}' (again to force)`);
    void session.stop(true).catch(() => qemu.kill('SIGKILL'));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const exit = await qemu.exited;
  await session.drainControl(); // e.g. the reply to the `kju stop` that ended it
  if (exit.code === 0 && !exit.signal) {
    console.log(`kju: '${vm.name}' stopped`);
    return 0;
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
  console.error(`kju: QEMU for '${vm.name}' ${how}${exit.logTail.length ? `; last lines of ${qemu.logFile}:\n  ${exit.logTail.join('\n  ')}` : ''}`);
  return 1;
}

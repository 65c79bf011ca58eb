// kju run <vm.json|name>: starts a VM (the same start path as `kju start`) and owns it in this
// process until it stops (Ctrl-C stops it). Other kju commands reach it through its kju.sock meanwhile.
import { parseCommandArgs } from './library-cli.js';
import { locate } from './vm-cli.js';
import { KjuError } from '../../../common/errors.js';
import { CliError, EXIT_STATE } from '../cli-error.js';
import { findQemu } from '../../qemu/find-qemu.js';
import { resolveAccelerator } from '../../qemu/accel-check.js';
import type { QemuExit } from '../../qemu/launch.js';
import { isAlive, readPidFile } from '../../qemu/pid-alive.js';
import { ownVm, reachVm } from '../../session/reach.js';
import { SessionManager } from '../../session/session-manager.js';
import { startVm } from '../../session/start-vm.js';
import { describeExit, type VmSession } from '../../session/vm-session.js';

const USAGE = 'usage: kju run <vm.json | name>   (runs until the guest powers off, `kju stop`, or Ctrl-C)';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`${positionals.length ? `unexpected argument '${positionals[1]}'` : 'name a VM'}\n\n${USAGE}`, 2);
  const vm = await locate(positionals[0], USAGE);
  if (!vm.description || isAlive(readPidFile(vm.runtimeDir.pidFile))) throw new CliError(`'${vm.name}' is already running (kju stop ${vm.name} stops it)`, EXIT_STATE);
  const description = vm.description;
  const qemuBin = await findQemu();
  for (const w of qemuBin.warnings ?? []) console.error(`kju: ${w}`);
  // The launch below makes the same choice (cached); asking first lets us say it once here.
  const accel = await resolveAccelerator({ qemu: qemuBin });
  for (const line of [accel.notice, accel.warning]) if (line) console.error(`kju: ${line}`);

  // A library VM starts through an owning SessionManager (it resumes a suspended VM and keeps the
  // books); a VM from a description file through the same startVm, owned by its session alone.
  let manager: SessionManager | undefined;
  let session: VmSession;
  let logFile: string;
  try {
    if (vm.source.kind === 'library') {
      const id = vm.source.bundle.config.id;
      const m = (manager = SessionManager.create({ passive: false }));
      logFile = (await m.start(id)).logFile;
      session = m.sessionOf(id)!;
    } else {
      const sourceFile = vm.source.kind === 'file' ? vm.source.path : undefined;
      const started = await startVm(description, { runtimeDir: vm.runtimeDir, qemu: qemuBin, sourceFile });
      ({ session } = started);
      logFile = started.qemu.logFile;
      ownVm(vm.runtimeDir, session.ownerApi());
      await session.serveOwnerSocket();
    }
  } catch (err) {
    if (err instanceof KjuError) throw err;
    throw new CliError(`could not connect to QEMU's display: ${(err as Error).message}`);
  }
  const exited = new Promise<QemuExit>((resolve) => session.once('exit', (info) => resolve(info)));
  console.log(`kju: '${vm.name}' started (QEMU pid ${session.pid}); log: ${logFile}`);
  session
    .primaryDisplay()
    .then((d) => {
      d.on('surface', (s) => console.log(`kju: screen ${s.width}x${s.height}, transport ${s.transport}${d.transportNote ? ` (${d.transportNote})` : ''}`));
    })
    .catch((err: Error) => console.error(`kju: no display: ${err.message}`));
  const { api } = await reachVm(vm); // this process owns it: direct calls, through the books
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) {
      console.error('kju: forcing QEMU off');
      process.kill(session.pid, 'SIGKILL');
      return;
    }
    stopping = true;
    console.error(`kju: ${sig}: stopping '${vm.name}' (again to force)`);
    void api.stop({ force: true }).catch(() => process.kill(session.pid, 'SIGKILL'));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const exit = await exited;
  await session.drainOwnerSocket(); // e.g. the reply to the `kju stop` that ended it
  manager?.close();
  if (exit.code === 0 && !exit.signal) {
    console.log(`kju: '${vm.name}' stopped`);
    return 0;
  }
  console.error(`kju: ${describeExit(vm.name, exit, logFile)}`);
  return 1;
}

// Runs an operation on a running VM from any kju process: through kju.sock when another kju
// process hosts the VM (QEMU takes one QMP client and one D-Bus display connection at a time),
// else by attaching for the duration of the operation and detaching afterwards (QEMU keeps running).
import { attachQemu } from '../qemu/launch.js';
import { runtimePaths } from '../qemu/build-argv.js';
import { CONTROL_METHODS, type ControlApi, type ControlMethod } from './control-protocol.js';
import { callHost, NoHostError } from './control-client.js';
import type { LocatedVm } from './vm-locator.js';
import { VmSession } from './vm-session.js';

export class VmNotRunningError extends Error {
  override name = 'VmNotRunningError';
}

/** The operations a CLI command can ask of a running VM, whoever hosts it. */
export type VmOps = { [M in ControlMethod]: (params: ControlApi[M]['params']) => Promise<ControlApi[M]['value']> };

export async function withVm<T>(vm: LocatedVm, fn: (ops: VmOps, via: 'host' | 'attached') => Promise<T>): Promise<T> {
  const sock = runtimePaths(vm.runtimeDir).controlSocket;
  try {
    await callHost(sock, 'status', {}, 10_000);
    const viaHost = Object.fromEntries(
      CONTROL_METHODS.map((m) => [m, (p: never) => callHost(sock, m, p)]),
    ) as unknown as VmOps;
    return await fn(viaHost, 'host');
  } catch (err) {
    if (!(err instanceof NoHostError)) throw err;
  }
  const qemu = attachQemu(vm.runtimeDir);
  if (!qemu) throw new VmNotRunningError(`'${vm.name}' is not running (start it with: kju start ${vm.name}, or kju run <vm.json>)`);
  qemu.unref();
  const session = await VmSession.attach({ name: vm.name, runtimeDir: vm.runtimeDir, pid: qemu.pid, exited: qemu.exited });
  try {
    const ops: VmOps = {
      status: async () => ({ name: vm.name, pid: qemu.pid, hostPid: process.pid, surface: null }),
      screenshot: ({ path }) => session.screenshot(path),
      type: async ({ text }) => ({ keys: await session.typeText(text) }),
      key: async ({ chord }) => ({ keys: await session.sendChord(chord) }),
      stop: async ({ force, timeoutMs }) => ({ stopped: await session.stop(force, timeoutMs) }),
    };
    return await fn(ops, 'attached');
  } finally {
    session.detach();
  }
}

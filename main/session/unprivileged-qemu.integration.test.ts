// Integration (real QEMU under TCG, run as root): when kju is root, QEMU runs as the unprivileged
// QEMU user. Everything of the VM lives in a root-only (0700) folder, as a bundle and the runtime
// dir do: QEMU opens the disk, kernel, initrd and its sockets before it drops root, and what it
// needs later — a screendump's file, an ISO put in the drive, the suspend file written and read
// back — kju hands over as fds. Each would fail (EACCES) if QEMU had to open the path itself.
// Skipped when not root (QEMU then runs as kju's user and nothing is dropped).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodePng, decodePpm } from '../display/screenshot.js';
import { screendumpToFile } from '../display/screendump.js';
import type { QemuProcess } from '../qemu/launch.js';
import { dropsPrivileges, lookupUser, qemuUserName } from '../qemu/qemu-user.js';
import { runtimeDirAt } from '../qemu/runtime-dir.js';
import type { VmDescription } from '../qemu/vm-description.js';
import { ensureDemoGuest } from '../testing/guest.js';
import { SerialConsole } from '../testing/serial-console.js';
import { saveStateToFile } from './lifecycle.js';
import { insertCdrom, queryCdrom } from './media.js';
import { startVm } from './start-vm.js';
import type { VmSession } from './vm-session.js';

const skip = dropsPrivileges() ? undefined : "kju is not root here: QEMU keeps kju's user";

/** Real, effective, saved and fs uid (and gid) of a process, from /proc/PID/status. */
function ids(pid: number): { uid: number[]; gid: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    /^\S+:\s+(.*)$/m
      .exec(status.split('\n').find((l) => l.startsWith(`${name}:`))!)![1]!
      .split(/\s+/)
      .map(Number);
  return { uid: field('Uid'), gid: field('Gid') };
}

/** The files a process has open. */
function openFiles(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).flatMap((fd) => {
    try {
      return [readlinkSync(join(dir, fd))];
    } catch {
      return [];
    }
  });
}

describe('integration: QEMU started by root runs as the unprivileged QEMU user', { skip }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'kju-runas-it-'));
  const bundle = join(scratch, 'vm.kju');
  let running: { qemu: QemuProcess; session: VmSession; serial: SerialConsole } | undefined;

  after(async () => {
    await stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function stop(): Promise<void> {
    if (!running) return;
    const { qemu, session, serial } = running;
    running = undefined;
    serial.close();
    await session.qmp.execute('quit').catch(() => {});
    const gone = await Promise.race([qemu.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000))]);
    if (!gone) qemu.kill('SIGKILL');
    await qemu.exited;
    session.detach();
  }

  async function start(desc: VmDescription, run: string, stateFile?: string): Promise<NonNullable<typeof running>> {
    const { qemu, session } = await startVm(desc, { accel: 'tcg', runtimeDir: runtimeDirAt(join(scratch, run)), logDir: join(scratch, 'logs'), stateFile });
    const serial = await SerialConsole.connect(qemu.runtimeDir.serialSocket);
    running = { qemu, session, serial };
    return running;
  }

  test('QEMU is the QEMU user; screendump, an ISO change and suspend + resume reach it as fds', async () => {
    const user = lookupUser(qemuUserName());
    assert.ok(user, `the QEMU user ${qemuUserName()} exists (scripts/setup.sh creates it)`);
    const guest = await ensureDemoGuest();
    // the VM's files: root's, 0600, in a 0700 folder the QEMU user cannot enter
    mkdirSync(bundle, { mode: 0o700 });
    chmodSync(scratch, 0o700);
    const kernel = join(bundle, 'vmlinuz');
    const initrd = join(bundle, 'initrd.img');
    const disk = join(bundle, 'disk.qcow2');
    copyFileSync(guest.kernel, kernel);
    copyFileSync(guest.initrd, initrd);
    const img = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '16M'], { encoding: 'utf8' });
    assert.equal(img.status, 0, img.stderr);
    for (const f of [kernel, initrd, disk]) chmodSync(f, 0o600);
    const iso = join(bundle, 'driver,disc.iso');
    writeFileSync(iso, Buffer.alloc(4096, 7), { mode: 0o600 });
    const desc: VmDescription = { name: 'kju-runas', memoryMiB: 256, cpus: 1, display: 'virtio-vga', machine: 'q35', kernel, initrd, append: guest.append, disks: [{ path: disk, format: 'qcow2' }] };

    const first = await start(desc, 'run1');
    const was = ids(first.qemu.pid);
    assert.deepEqual(was.uid, [user.uid, user.uid, user.uid, user.uid], 'every uid of QEMU is the QEMU user');
    assert.deepEqual(was.gid, [user.gid, user.gid, user.gid, user.gid]);
    assert.ok(openFiles(first.qemu.pid).includes(disk), 'QEMU opened the root-only disk before it dropped root');
    await first.serial.waitFor(/kju# /, 120_000);
    await first.serial.run('echo before-suspend > /tmp/marker');

    // screendump into root's 0700 folder, and kju's own screenshot
    const ppm = join(scratch, 'qemu.ppm');
    await screendumpToFile(first.session.qmp, ppm);
    const dump = decodePpm(readFileSync(ppm));
    assert.ok(dump.width > 0 && dump.height > 0);
    const png = join(scratch, 'kju.png');
    await first.session.screenshot(png);
    assert.deepEqual([decodePng(readFileSync(png)).width, decodePng(readFileSync(png)).height], [dump.width, dump.height]);

    // an ISO in the drive, from root's 0700 folder
    await insertCdrom(first.session.qmp, iso);
    assert.equal(await queryCdrom(first.session.qmp), iso);
    assert.ok(openFiles(first.qemu.pid).includes(iso), 'QEMU holds the ISO kju opened');

    // suspend to a file in root's 0700 folder, then resume from it in a new QEMU
    const state = join(bundle, 'state.bin');
    const { bytes } = await saveStateToFile(first.session.qmp, state);
    assert.ok(bytes > 0 && statSync(state).size > 0, `state written (${bytes} bytes)`);
    await stop();

    const second = await start({ ...desc, cdrom: iso }, 'run2', state);
    assert.deepEqual(ids(second.qemu.pid).uid, [user.uid, user.uid, user.uid, user.uid], 'the resumed QEMU is the QEMU user too');
    assert.equal((await second.session.qmp.execute('query-status')).status, 'running');
    assert.equal(await second.serial.run('cat /tmp/marker'), 'before-suspend', 'the guest carries on where it was suspended');
    assert.equal(await queryCdrom(second.session.qmp), iso);
  });
});

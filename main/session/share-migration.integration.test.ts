// Integration (real QEMU under TCG, the demo guest booted once from the library, the built CLI):
// while the guest has a shared folder mounted, QEMU's 9p blocks migration, so suspend and live
// snapshots cannot work. The CLI and the backend the app calls both say so in one kju line with
// the way out (not QEMU's "Migration is disabled" text); the VM keeps running; once the guest
// unmounts the folder, a live snapshot works.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest } from '../testing/guest.js';
import { kjuScratch, repoRoot } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';
import { shareWithQemuUser } from '../testing/qemu-user-share.js';
import { libraryVmRuntimeDir } from '../qemu/runtime-dir.js';

const built = existsSync(join(repoRoot, 'app/out/kju.js'));
const s = kjuScratch('kju-share-mig', { bundle: true });
const shared = join(s.dir, 'shared');

/** One kju line: names the folder, the way out, and why; no QEMU text, no stack. */
function assertShareMessage(text: string, what: RegExp): void {
  const line = text.trim();
  assert.equal(line.split('\n').length, 1, line);
  assert.match(line, what);
  assert.match(line, new RegExp(`shared folder ${shared} \\(mount tag share0\\)`));
  assert.match(line, /umount/);
  assert.match(line, /or stop the VM; shared folders block suspend and live snapshots while mounted/);
  assert.doesNotMatch(line, /Migration is disabled|VirtFS/);
}

describe('integration: a mounted shared folder and suspend / live snapshots', { skip: !built && 'app/out not built (node scripts/build.mjs)' }, () => {
  let serial: SerialConsole;
  let bundle: string;
  let id: string;

  before(async () => {
    const guest = await ensureDemoGuest();
    mkdirSync(shared);
    shareWithQemuUser(shared);
    const out = s.ok(
      'create',
      'Sharer',
      '--memory',
      '256',
      '--cpus',
      '1',
      '--nic',
      'none',
      '--display',
      'virtio-vga',
      '--disk-size',
      '16M',
      '--kernel',
      guest.kernel,
      '--initrd',
      guest.initrd,
      '--append',
      guest.append,
      '--share',
      shared,
      '--json',
    );
    ({
      bundle,
      config: { id },
    } = JSON.parse(out) as { bundle: string; config: { id: string } });
    s.ok('start', 'Sharer');
    serial = await SerialConsole.connect(libraryVmRuntimeDir({ dir: bundle, config: { id, name: 'Sharer' } }, join(s.runtime, 'kju')).serialSocket);
    await serial.waitFor(/kju# /, 90_000);
    await serial.run('mkdir -p /mnt/host && mount -t 9p -o trans=virtio,version=9p2000.L share0 /mnt/host && ls /mnt/host');
  });

  after(() => {
    serial?.close();
    s.kju('stop', 'Sharer', '--force');
    s.remove();
  });

  const state = () => (JSON.parse(s.ok('list', '--json')) as { name: string; state: string }[]).find((v) => v.name === 'Sharer')!.state;

  test('kju suspend and kju snapshot create say to unmount the folder; the VM keeps running', () => {
    const suspend = s.kju('suspend', 'Sharer');
    assert.equal(suspend.code, 1, suspend.stderr + suspend.stdout);
    assertShareMessage(suspend.stderr, /VM "Sharer" cannot be suspended while the guest has its shared folder/);
    assert.equal(state(), 'running');
    assert.deepEqual(readdirSync(join(bundle, 'states')), [], 'no state file left behind');
    const snap = s.kju('snapshot', 'create', 'Sharer', 'live');
    assert.equal(snap.code, 1, snap.stderr + snap.stdout);
    assertShareMessage(snap.stderr, /VM "Sharer" cannot be snapshotted live while the guest has its shared folder/);
    assert.equal(state(), 'running');
    assert.equal(s.ok('snapshot', 'list', 'Sharer', '--json').trim(), '[]');
  });

  test('the backend (what the app and serve call) gives the same message', async () => {
    Object.assign(process.env, { XDG_RUNTIME_DIR: s.runtime, XDG_STATE_HOME: s.env.XDG_STATE_HOME, KJU_LIBRARY: s.library, KJU_ACCEL: 'tcg' });
    const { Library } = await import('../library/library.js');
    const { SessionManager } = await import('./session-manager.js');
    const { LocalBackend } = await import('../backend/local-backend.js');
    const backend = new LocalBackend(SessionManager.create({ library: new Library(s.library), passive: true }));
    const suspend = await backend.call('suspendVm', { id });
    assert.equal(suspend.ok, false);
    assertShareMessage(!suspend.ok ? suspend.message : '', /cannot be suspended/);
    const snap = await backend.call('snapshot', { id, op: 'create', name: 'live' });
    assert.equal(snap.ok, false);
    assertShareMessage(!snap.ok ? snap.message : '', /cannot be snapshotted live/);
  });

  test('after the guest unmounts the folder, a live snapshot works', async () => {
    await serial.run('umount /mnt/host');
    assert.match(s.ok('snapshot', 'create', 'Sharer', 'live'), /live/);
    assert.equal(state(), 'running');
  });
});

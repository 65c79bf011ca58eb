// Integration (boots QEMU under TCG): the CD-ROM drive that build-argv.ts always adds takes an ISO
// and gives it back while the VM runs, through the same lifecycle ops kju.sock forwards.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { runLifecycleOp } from './lifecycle.js';
import { ejectCdrom, insertCdrom, queryCdrom } from './media.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-media-'));
let guest: BootedGuest | undefined;
after(async () => {
  await guest?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('insert, replace and eject an ISO in a running VM (pc and q35 buses)', async () => {
  // Any file is a raw CD image to QEMU; two sectors are enough.
  const a = join(dir, 'a,one.iso');
  const b = join(dir, 'b.iso');
  writeFileSync(a, Buffer.alloc(4096, 1));
  writeFileSync(b, Buffer.alloc(4096, 2));
  for (const machine of ['q35', 'pc'] as const) {
    guest = await bootDemoGuest({ machine, waitForPrompt: false, name: `kju-media-${machine}` });
    const { qmp } = guest;
    assert.equal(await queryCdrom(qmp), null, 'the drive starts empty');
    await insertCdrom(qmp, a);
    assert.equal(await queryCdrom(qmp), a);
    await runLifecycleOp(qmp, { op: 'cdrom-insert', file: b });
    assert.equal(await queryCdrom(qmp), b, 'a second insert replaces the disc');
    await ejectCdrom(qmp);
    assert.equal(await queryCdrom(qmp), null);
    await runLifecycleOp(qmp, { op: 'cdrom-eject' });
    assert.equal(await queryCdrom(qmp), null, 'ejecting an empty drive is fine');
    await assert.rejects(runLifecycleOp(qmp, { op: 'cdrom-insert', file: 'relative.iso' }), /absolute/);
    await assert.rejects(insertCdrom(qmp, join(dir, 'missing.iso')), /missing\.iso|No such file/);
    assert.equal((await runLifecycleOp(qmp, { op: 'query' })).state, 'running', 'the guest kept running');
    await guest.stop();
    guest = undefined;
  }
});

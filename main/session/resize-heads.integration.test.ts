// Integration (real QEMU under TCG, the demo guest with kju-modeset and a two-head virtio-vga): the
// owner socket's resize makes the guest take the size (kju's surface and QMP screendump agree),
// absurd sizes are refused or clamped while the VM keeps working, and head 1's screenshot equals
// QEMU's screendump of that head. One guest for the whole file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { VIDEO_DEVICE_ID } from '../qemu/build-argv.js';
import { decodePng, decodePpm, diffImages, surfaceToRgb } from '../display/screenshot.js';
import { screendumpToFile } from '../display/screendump.js';
import type { DbusDisplay } from '../display/dbus-display.js';
import { VmSession } from './vm-session.js';
import { ownerSocketApi } from './owner-client.js';
import type { OwnerApi } from './owner-protocol.js';

const scratch = mkdtempSync(join(tmpdir(), 'kju-resize-it-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function screendump(guest: BootedGuest, head: number, name: string) {
  const file = join(scratch, `${name}.ppm`);
  await screendumpToFile(guest.qmp, file, { device: VIDEO_DEVICE_ID, head });
  return decodePpm(readFileSync(file));
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The surface, once the guest has stopped drawing, equals QEMU's screendump of that head. */
async function assertMatchesScreendump(guest: BootedGuest, d: DbusDisplay, head: number, name: string): Promise<void> {
  await d.waitForQuiet(500, 10_000);
  const diff = diffImages(surfaceToRgb(d.surface!), await screendump(guest, head, name));
  assert.equal(diff.differing, 0, `head ${head}: pixels differ: ${JSON.stringify(diff.first)}`);
}

describe('integration: the guest follows kju resize, and a second head', () => {
  let guest: BootedGuest;
  let session: VmSession;
  let api: OwnerApi;

  before(async () => {
    guest = await bootDemoGuest({ name: 'it-resize-heads', displays: 2, appendExtra: 'kju.modeset=all' });
    session = await VmSession.attach({ name: guest.desc.name, runtimeDir: guest.qemu.runtimeDir, pid: guest.qemu.pid, exited: guest.qemu.exited, qmp: guest.qmp });
    await session.serveOwnerSocket();
    api = ownerSocketApi(guest.qemu.runtimeDir);
  });
  after(async () => {
    session?.detach();
    await guest?.stop();
  });

  test('resize 1000x700 over kju.sock: the surface and QMP screendump are 1000x700 within 5 s', async () => {
    const d = await session.primaryDisplay();
    await until('the first surface', () => d.surface !== null, 30_000);
    const started = Date.now();
    const r = await api.resize({ width: 1000, height: 700, timeoutMs: 5_000 });
    const took = Date.now() - started;
    console.log(`# resize 1000x700 took ${took} ms; guest log: ${(await guest.serial.run('cat /tmp/kju-modeset.log')).trim().split('\n').slice(-3).join(' | ')}`);
    assert.deepEqual(r.surface, { width: 1000, height: 700 });
    assert.ok(took <= 5_500, `took ${took} ms`);
    assert.deepEqual([d.surface!.width, d.surface!.height], [1000, 700]);
    const dump = await screendump(guest, 0, 'head0-1000');
    assert.deepEqual([dump.width, dump.height], [1000, 700]);
    await assertMatchesScreendump(guest, d, 0, 'head0-1000-quiet');
  });

  test('0x0 is refused, 100000x100000 is clamped with a reason; the guest keeps its size and then follows again', async () => {
    await assert.rejects(api.resize({ width: 0, height: 0 }), /width and a height in pixels/);
    const huge = await api.resize({ width: 100000, height: 100000, timeoutMs: 1_500 });
    assert.match(huge.clamped ?? '', /100000x100000 clamped to 8192x8192/);
    assert.deepEqual(huge.requested, { width: 8192, height: 8192 });
    assert.deepEqual(huge.surface, { width: 1000, height: 700 }, 'the guest tool ignores a mode too big for its memory');
    assert.match(await guest.serial.run('cat /tmp/kju-modeset.log'), /preferred mode 8192x8192 is larger than 4096 a side, ignored/);
    const back = await api.resize({ width: 800, height: 600 });
    assert.deepEqual(back.surface, { width: 800, height: 600 });
    assert.match(await guest.serial.run('echo alive'), /alive/);
  });

  test('head 1 is its own surface; screenshot --head 1 equals screendump of head 1', async () => {
    const d1 = await session.headDisplay(1);
    await until('a surface on head 1', () => d1.surface !== null && d1.surface.width >= 320, 20_000);
    const d0 = await session.primaryDisplay();
    assert.notEqual(d1.consoleId, d0.consoleId);
    const r = await api.resize({ width: 640, height: 480, head: 1 });
    assert.deepEqual(r.surface, { width: 640, height: 480 });
    await d1.waitForQuiet(500, 10_000);
    const png = join(scratch, 'head1.png');
    const shot = await api.screenshot({ path: png, head: 1 });
    assert.deepEqual([shot.head, shot.width, shot.height], [1, 640, 480]);
    const ours = decodePng(readFileSync(png));
    const theirs = await screendump(guest, 1, 'head1');
    const diff = diffImages(ours, theirs);
    assert.equal(diff.differing, 0, `pixels differ: ${JSON.stringify(diff.first)}`);
    // the guest tool's pattern: blue 40 + 80 * head, so head 1 is not a copy of head 0
    const px = (ours.width * 10 + 300) * 3;
    assert.deepEqual([...ours.rgb.subarray(px, px + 3)], [300 & 255, 10, 120]);
    const head0 = await screendump(guest, 0, 'head0-after');
    assert.deepEqual([head0.width, head0.height], [800, 600], 'head 0 keeps its own size');
  });
});

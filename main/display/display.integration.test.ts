// Integration (real QEMU under TCG, the demo guest): the guest's screen reaches kju through the
// D-Bus display, as a mapped memfd on virtio-vga and as copied pixels on std VGA. kju's view is
// compared with QEMU's own screendump, and bytes typed into /dev/fb0 through kju's keyboard path
// are found at the same place in kju's view.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { VmSession } from '../session/vm-session.js';
import type { DbusDisplay } from './dbus-display.js';
import { decodePpm, diffImages, surfaceToRgb } from './screenshot.js';
import { screendumpToFile } from './screendump.js';

const scratch = mkdtempSync(join(tmpdir(), 'kju-display-it-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Waits until `check` holds, re-checking on every damage batch and every 100 ms. */
async function until(display: DbusDisplay, what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 100);
      display.once('damage', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

async function screendump(guest: BootedGuest, name: string) {
  const file = join(scratch, `${name}.ppm`);
  await screendumpToFile(guest.qmp, file);
  return decodePpm(readFileSync(file));
}

/** Types through kju's keyboard path (D-Bus Keyboard, paced) and waits for the shell to finish. */
async function typeCommand(session: VmSession, guest: BootedGuest, command: string, doneMarker: string): Promise<void> {
  const seen = guest.serial.waitFor(new RegExp(doneMarker), 30_000);
  await session.typeText(`${command}; echo ${doneMarker.replace('-', '"-"')} > /dev/ttyS0\n`);
  await seen;
}

for (const mode of [
  { displayDevice: 'virtio-vga' as const, transport: 'map' },
  { displayDevice: 'std' as const, transport: 'copy' },
]) {
  describe(`integration: ${mode.displayDevice} display (${mode.transport} transport)`, () => {
    let guest: BootedGuest;
    let session: VmSession;
    let display: DbusDisplay;

    test('boots, and the scanout reaches kju with the expected transport', async () => {
      guest = await bootDemoGuest({ displayDevice: mode.displayDevice, name: `it-${mode.displayDevice}` });
      session = await VmSession.attach({ name: guest.desc.name, runtimeDir: guest.qemu.runtimeDir, pid: guest.qemu.pid, exited: guest.qemu.exited, qmp: guest.qmp });
      display = await session.primaryDisplay();
      // The guest's driver switches to its final framebuffer mode during boot.
      await until(display, 'the guest framebuffer mode', () => (display.surface?.width ?? 0) >= 800);
      const s = display.surface!;
      assert.equal(s.transport, mode.transport, `transport for ${mode.displayDevice}${display.transportNote ? ` (${display.transportNote})` : ''}`);
      assert.ok(s.pixels.byteLength >= s.stride * s.height);
      const stats = display.stats();
      console.log(`# ${mode.displayDevice}: boot to prompt ${guest.bootMs} ms; surface ${s.width}x${s.height} stride ${s.stride}; updates so far ${stats.updates}, inline bytes ${stats.inlineBytes}`);
      if (mode.transport === 'map') assert.equal(stats.inlineBytes, 0, 'map transport must not carry pixels over the socket');
    });

    test("kju's view equals QEMU's screendump after the prompt", async () => {
      await display.waitForQuiet(700, 20_000);
      const ours = surfaceToRgb(display.surface!);
      const theirs = await screendump(guest, `prompt-${mode.displayDevice}`);
      const diff = diffImages(ours, theirs);
      assert.equal(diff.differing, 0, `pixels differ: ${JSON.stringify(diff.first)}`);
    });

    test('bytes typed into /dev/fb0 through the keyboard path appear in the shared view', async () => {
      const stride = Number((await guest.serial.run('cat /sys/class/graphics/fb0/stride')).trim());
      const s = display.surface!;
      assert.equal(stride, s.stride, 'guest fb0 stride equals the surface stride');
      const pattern = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
      const offset = (s.height - 40) * stride + 100 * 4;
      const octal = pattern.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
      const before = display.stats().updates;
      await typeCommand(session, guest, `printf '${octal}' | dd of=/dev/fb0 bs=1 seek=${offset} conv=notrunc 2>/dev/null`, 'fb-written');
      const view = () => display.surface!.pixels.subarray(offset, offset + pattern.length);
      await until(display, 'the pattern in the shared view', () => view().every((b, i) => b === pattern[i]));
      assert.deepEqual([...view()], pattern);
      assert.ok(display.stats().updates > before, 'QEMU announced the change with an update');
    });

    test('the guest process keeps running after those checks; stop cleans up', async () => {
      const status = (await guest.qmp.execute('query-status')) as { status: string };
      assert.equal(status.status, 'running');
      session.detach();
      await guest.stop();
    });
  });
}

describe('integration: QEMU killed while frames flow', () => {
  test('the display reports the exit with the log tail; nothing throws or hangs', async () => {
    const guest = await bootDemoGuest({ displayDevice: 'virtio-vga', name: 'it-kill' });
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => escaped.push(e);
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    try {
      const session = await VmSession.attach({ name: guest.desc.name, runtimeDir: guest.qemu.runtimeDir, pid: guest.qemu.pid, exited: guest.qemu.exited, qmp: guest.qmp });
      const display = await session.primaryDisplay();
      await guest.serial.run('(while :; do dd if=/dev/urandom of=/dev/fb0 bs=65536 count=16 2>/dev/null; done) & true');
      let batches = 0;
      await new Promise<void>((resolve) => display.on('damage', () => ++batches === 20 && resolve()));
      const closed = new Promise<string>((resolve) => display.once('closed', resolve));
      const exited = new Promise<string>((resolve) => session.once('exit', (_info, reason) => resolve(reason)));
      const t0 = Date.now();
      process.kill(guest.qemu.pid, 'SIGKILL');
      const [reason, exitReason] = await Promise.all([closed, exited]);
      console.log(`# kill noticed after ${Date.now() - t0} ms; ${batches} damage batches had arrived`);
      assert.match(reason, /killed by SIGKILL/);
      assert.equal(reason, exitReason);
      assert.ok(display.closed);
      display.sendInput({ t: 'key', qnum: 0x1e, down: true }); // input to a dead VM is dropped quietly
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(escaped, []);
    } finally {
      process.off('uncaughtException', onEscape);
      process.off('unhandledRejection', onEscape);
      await guest.stop();
    }
  });
});

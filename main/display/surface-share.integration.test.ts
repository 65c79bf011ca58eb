// Integration (real QEMU under TCG, the demo guest on virtio-vga = map transport): the zero-copy
// path minus Electron. A SurfaceShareServer serves the DbusDisplay's memfd; a SurfaceShareClient
// (the same code the VM window's preload wraps) maps it in this process and must see exactly what
// kju's display and QEMU's screendump see, and guest writes without any pixel crossing the socket.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeFramePacket } from '../../common/frame-packet.js';
import { FdSocket, connectUnix } from '../../native/index.js';
import { VmSession } from '../session/vm-session.js';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import type { DbusDisplay } from './dbus-display.js';
import { FramePump } from './frame-pump.js';
import { decodePpm, diffImages, surfaceToRgb } from './screenshot.js';
import { screendumpToFile } from './screendump.js';
import { SurfaceShareClient, type SharedSurface } from './surface-share-client.js';
import { SurfaceShareServer, type ShareTicket } from './surface-share.js';

const scratch = mkdtempSync(join(tmpdir(), 'kju-share-it-')); // 0700, like the VM's runtime dir
after(() => rmSync(scratch, { recursive: true, force: true }));

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('integration: surface share (zero-copy without Electron) on virtio-vga', () => {
  let guest: BootedGuest;
  let session: VmSession;
  let display: DbusDisplay;
  let server: SurfaceShareServer;
  let ticket: ShareTicket;
  let client: SurfaceShareClient;
  const seen: Array<{ kind: 'surface' | 'unshared' | 'released'; id: number }> = [];
  const sourceSwitches: number[] = [];

  after(async () => {
    client?.close();
    server?.close();
    session?.detach();
    await guest?.stop();
  });

  test('a client connected during boot gets each surface switch as a new memfd; older mappings are released', async () => {
    guest = await bootDemoGuest({ displayDevice: 'virtio-vga', name: 'it-share', waitForPrompt: false });
    session = await VmSession.attach({ name: guest.desc.name, runtimeDir: guest.qemu.runtimeDir, pid: guest.qemu.pid, exited: guest.qemu.exited, qmp: guest.qmp });
    display = await session.primaryDisplay();
    const path = join(scratch, 'share.sock');
    server = SurfaceShareServer.listen(display, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    ticket = server.admit();
    display.on('surface', (s) => sourceSwitches.push(s.id));
    client = new SurfaceShareClient(path, ticket.token, { keepOld: 0 });
    client.on('surface', (s: SharedSurface) => seen.push({ kind: 'surface', id: s.id }));
    client.on('unshared', (id) => seen.push({ kind: 'unshared', id }));
    client.on('released', (id) => seen.push({ kind: 'released', id }));
    await guest.serial.waitFor(/# $/, 120_000).catch(() => {});
    await until('the final framebuffer mode', () => (display.surface?.width ?? 0) >= 800 && client.current?.id === display.surface!.id, 120_000);
    await until('the ack of the current surface', () => ticket.holds(display.surface!.id));
    const shared = seen.filter((e) => e.kind === 'surface').map((e) => e.id);
    console.log(`# surfaces while connected: source ${JSON.stringify(sourceSwitches)}; client ${JSON.stringify(seen)}`);
    // every switch after the connection reached the client, in order, as a memfd or as 'unshared'
    const announced = seen.filter((e) => e.kind !== 'released').map((e) => e.id);
    assert.deepEqual(announced.slice(-sourceSwitches.length), sourceSwitches);
    for (const id of shared.slice(0, -1))
      assert.ok(
        seen.some((e) => e.kind === 'released' && e.id === id),
        `surface ${id} released after the switch`,
      );
    assert.equal(client.mappedCount, 1);
    assert.equal(server.stats().fdsSent, shared.length);
  });

  test("the client's view equals the display's bytes and QEMU's screendump", async () => {
    await display.waitForQuiet(700, 30_000);
    const s = display.surface!;
    const view = client.view(s.id)!;
    assert.equal(view.byteLength, s.stride * s.height);
    assert.ok(view.buffer instanceof SharedArrayBuffer);
    assert.ok(Buffer.from(view.buffer, view.byteOffset, view.byteLength).equals(Buffer.from(s.pixels.buffer, s.pixels.byteOffset, s.stride * s.height)), 'client view == display surface');
    const file = join(scratch, 'dump.ppm');
    await screendumpToFile(guest.qmp, file);
    const diff = diffImages(surfaceToRgb({ width: s.width, height: s.height, stride: s.stride, pixels: view }), decodePpm(readFileSync(file)));
    assert.equal(diff.differing, 0, `pixels differ: ${JSON.stringify(diff.first)}`);
  });

  test('guest writes to /dev/fb0 appear in the client view; no byte crosses the share socket; frames are rect-only', async () => {
    const s = display.surface!;
    const frames: ArrayBuffer[] = [];
    const pump = new FramePump(display, { message: () => {}, frame: (p) => frames.push(p) }, { withPixels: (x) => !(x.transport === 'map' && ticket.holds(x.id)) });
    pump.start();
    pump.pull(); // the whole surface, announced without pixels: the client holds it
    const before = { server: server.stats(), client: client.bytesReceived };
    const pattern = Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    const offset = (s.height - 60) * s.stride + 200 * 4;
    const octal = pattern.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    await guest.serial.run(`printf '${octal}' | dd of=/dev/fb0 bs=64 seek=${offset} oflag=seek_bytes conv=notrunc 2>/dev/null`);
    const view = client.view(s.id)!;
    await until('the pattern in the client view', () => pattern.every((b, i) => view[offset + i] === b));
    pump.pull();
    await until('a damage frame', () => frames.length >= 2);
    const after = server.stats();
    assert.equal(after.bytesSent, before.server.bytesSent, 'server sent nothing');
    assert.equal(after.bytesReceived, before.server.bytesReceived, 'server received nothing');
    assert.equal(client.bytesReceived, before.client, 'client received nothing');
    for (const f of frames) {
      const d = decodeFramePacket(f, s);
      assert.equal(d.pixels, undefined, 'frame without pixels');
      assert.ok(f.byteLength < 4096, `frame of ${f.byteLength} bytes`);
    }
    console.log(
      `# ${frames.length} rect-only frames (${frames.map((f) => f.byteLength).join(', ')} bytes); share socket totals: sent ${after.bytesSent} B, received ${after.bytesReceived} B, ${after.fdsSent} fds`,
    );
    pump.dispose();
  });

  test('reconnecting gives a fresh fd for the same surface; closing releases every mapping', async () => {
    const s = display.surface!;
    const oldView = client.view(s.id)!;
    const released = once(client, 'released');
    client.close();
    assert.deepEqual(await released, [s.id]);
    assert.ok(
      oldView.subarray(0, 4096).every((b) => b === 0),
      'a released view reads zeros (anonymous memory again)',
    );
    await until('the server noticing', () => server.stats().clients === 0 && !ticket.holds(s.id));
    const fds = server.stats().fdsSent;
    client = new SurfaceShareClient(server.path, ticket.token, { keepOld: 0 });
    const [again] = (await once(client, 'surface')) as [SharedSurface];
    assert.equal(again.id, s.id);
    assert.equal(server.stats().fdsSent, fds + 1);
    await until('the ack', () => ticket.holds(s.id));
    assert.ok(Buffer.from(again.view).equals(Buffer.from(s.pixels.subarray(0, s.stride * s.height))));
  });

  test('a wrong token, a malformed token, a second use of a token and a silent client are refused', async () => {
    const refusedBefore = server.stats().refused;
    for (const token of ['0'.repeat(64), 'hello', ticket.token]) {
      const c = new SurfaceShareClient(server.path, token);
      const [err] = (await once(c, 'error')) as [Error];
      assert.match(err.message, /refused/);
      assert.equal(c.fdsReceived, 0, 'no fd reaches a refused client');
    }
    const short = SurfaceShareServer.listen(display, join(scratch, 'short.sock'), { tokenTimeoutMs: 200 });
    const silent = new FdSocket(connectUnix(short.path));
    const chunks: Buffer[] = [];
    silent.on('data', (c: Buffer) => chunks.push(c));
    await once(silent, 'close');
    assert.match(Buffer.concat(chunks).toString(), /"refused"/);
    short.close();
    assert.equal(server.stats().refused, refusedBefore + 3);
  });

  test('a client that vanishes mid-connection is cleaned up; its ticket can reconnect; revoke ends it', async () => {
    const t2 = server.admit();
    const raw = new FdSocket(connectUnix(server.path));
    raw.resume(); // fds arrive with reads
    raw.write(`{"t":"token","token":"${t2.token}"}\n`);
    const [fds] = (await once(raw, 'fds')) as [number[]];
    assert.equal(fds.length, 1);
    raw.closeFds(fds);
    raw.write(`{"t":"ack","id":${display.surface!.id}}\n`);
    await until('the raw ack', () => t2.holds(display.surface!.id));
    const lost = once(t2, 'lost');
    raw.destroy();
    await lost;
    assert.equal(server.stats().clients, 1, 'only the main client is left');
    const c = new SurfaceShareClient(server.path, t2.token);
    await once(c, 'surface');
    const closed = new Promise<void>((r) => c.on('close', () => r())); // not once(): a reset may come as 'error' first
    c.on('error', () => {});
    t2.revoke();
    await closed;
    const again = new SurfaceShareClient(server.path, t2.token);
    await once(again, 'error');
  });

  test('a client sending garbage after its token is disconnected; the display keeps running', async () => {
    const t3 = server.admit();
    const raw = new FdSocket(connectUnix(server.path));
    raw.on('fds', (fds: number[]) => raw.closeFds(fds));
    raw.resume();
    raw.write(`{"t":"token","token":"${t3.token}"}\n{"t":"ack","id":"x"}\n`);
    await once(raw, 'close');
    assert.ok(!display.closed);
    assert.equal(server.stats().clients, 1);
  });
});

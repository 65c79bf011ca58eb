// ViewerEndpoint (main/display/viewer-endpoint.ts), with the checks both front ends apply, against a scripted source (SyntheticDisplay, and a scripted guest clipboard) over
// the two transports the front ends use: a MessageChannel (as the Electron display utility's
// MessagePort, structured-clone values) and a WebSocket (as kju serve, JSON text); and the sound relay. The same
// viewer script must see the same things on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { WebSocket, WebSocketServer } from 'ws';
import type { DisplayMessage, ViewerMessage } from '../../common/contract.js';
import { decodeFramePacket } from '../../common/frame-packet.js';
import { checkViewerMessage } from '../backend/arg-checks.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';
import { SyntheticDisplay, patternFor } from '../display/synthetic-display.js';
import { decodeAudioPacket } from '../../common/audio-packet.js';
import type { AudioMessage } from '../../common/contract.js';
import type { PcmFormat } from '../display/pcm-format.js';
import { MAX_SOUND_BACKLOG, relaySound, ViewerEndpoint, type SoundSource } from '../display/viewer-endpoint.js';

/** The guest side of a shared clipboard, scripted: `guestCopies` is the guest grabbing text. */
class ScriptedClipboard extends EventEmitter {
  readonly hostTexts: string[] = [];
  async setHostText(text: string): Promise<void> {
    if (text === 'refuse me') throw new Error('the guest agent is not running');
    this.hostTexts.push(text);
  }
  guestCopies(text: string): void {
    this.emit('text', text);
  }
}

/** A viewer at the far end of a transport: what it received, and a way to send. */
interface Viewer {
  messages: DisplayMessage[];
  frames: ArrayBuffer[];
  send(m: ViewerMessage | Record<string, unknown>): void;
  close(): Promise<void>;
}

async function until<T>(what: string, probe: () => T | false | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The Electron shape: a MessagePort pair, values cloned, the endpoint's checks on the value. */
function overMessageChannel(source: SyntheticDisplay, clipboard: GuestClipboard, closedWhy: string[]): { viewer: Viewer; endpoint: ViewerEndpoint } {
  const { port1, port2 } = new MessageChannel();
  const endpoint = new ViewerEndpoint(source, { message: (m) => port1.postMessage(m), frame: (p) => port1.postMessage(p, [p]), log: () => {} }, { clipboard });
  port1.on('message', (m: unknown) => {
    const why = endpoint.receive(checkViewerMessage(m, source.surface));
    if (why) closedWhy.push(why);
  });
  const viewer: Viewer = { messages: [], frames: [], send: (m) => port2.postMessage(m), close: async () => (port1.close(), port2.close()) };
  port2.on('message', (m: unknown) => (m instanceof ArrayBuffer ? viewer.frames.push(m) : viewer.messages.push(m as DisplayMessage)));
  endpoint.start();
  return { viewer, endpoint };
}

/** The kju serve shape: a WebSocket, JSON text one way and binary frames the other. */
async function overWebSocket(source: SyntheticDisplay, clipboard: GuestClipboard, closedWhy: string[]): Promise<{ viewer: Viewer; endpoint: ViewerEndpoint }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  client.binaryType = 'arraybuffer';
  const viewer: Viewer = {
    messages: [],
    frames: [],
    send: (m) => client.send(JSON.stringify(m)),
    close: async () => {
      client.close();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
  client.on('message', (data, isBinary) => (isBinary ? viewer.frames.push(data as ArrayBuffer) : viewer.messages.push(JSON.parse(data.toString()) as DisplayMessage)));
  const ws = await serverSide;
  await new Promise<void>((r) => (client.readyState === client.OPEN ? r() : client.once('open', () => r())));
  const endpoint = new ViewerEndpoint(
    source,
    {
      message: (m) => ws.send(JSON.stringify(m.t === 'cursor' ? { ...m, cursor: { ...m.cursor, pixels: [] } } : m)),
      frame: (p) => ws.send(p, { binary: true }),
      log: () => {},
    },
    { clipboard },
  );
  ws.on('message', (data) => {
    let value: unknown;
    try {
      value = JSON.parse(data.toString());
    } catch {
      value = null;
    }
    const why = endpoint.receive(checkViewerMessage(value, source.surface));
    if (why) closedWhy.push(why);
  });
  endpoint.start();
  return { viewer, endpoint };
}

for (const [name, connect] of [
  ['MessageChannel', async (s: SyntheticDisplay, c: GuestClipboard, w: string[]) => overMessageChannel(s, c, w)],
  ['WebSocket', overWebSocket],
] as const) {
  test(`over a ${name}: the stream, input, a refused message, and clipboard sharing only once asked`, async () => {
    const source = new SyntheticDisplay({ width: 32, height: 16, rowPadding: 8 });
    const clipboard = new ScriptedClipboard();
    const closedWhy: string[] = [];
    const { viewer, endpoint } = await connect(source, clipboard as unknown as GuestClipboard, closedWhy);
    try {
      await until('surface and input-mode', () => viewer.messages.some((m) => m.t === 'input-mode'));
      assert.equal(viewer.messages[0]?.t, 'surface');

      // A pull gets the whole surface; painted damage comes with the next pull, pixel-exact.
      viewer.send({ t: 'pull' });
      const first = await until('the first frame', () => viewer.frames[0]);
      assert.deepEqual(decodeFramePacket(first, source.surface!).rects, [{ x: 0, y: 0, w: 32, h: 16 }]);
      source.paint([{ x: 2, y: 3, w: 4, h: 2 }], patternFor(7));
      viewer.send({ t: 'pull' });
      const second = decodeFramePacket(await until('the damage frame', () => viewer.frames[1]), source.surface!);
      assert.deepEqual(second.rects, [{ x: 2, y: 3, w: 4, h: 2 }]);
      const snap = source.snapshot();
      assert.deepEqual([...second.pixels![0].subarray(0, 16)], [...snap.subarray((3 * 32 + 2) * 4, (3 * 32 + 2) * 4 + 16)]);

      // Input reaches the source; input outside the surface is dropped, not delivered.
      viewer.send({ t: 'input', input: { t: 'key', qnum: 0x1e, down: true } });
      viewer.send({ t: 'input', input: { t: 'abs', x: 999, y: 1 } });
      await until('the key at the source', () => source.inputs.length >= 1);
      await until('the dropped count', () => endpoint.stats().inputsDropped === 1);
      assert.deepEqual(source.inputs, [{ t: 'key', qnum: 0x1e, down: true }]);

      // Clipboard: nothing either way until the viewer turns sharing on.
      clipboard.guestCopies('before sharing');
      viewer.send({ t: 'clipboard', text: 'not yet' });
      await until('the refusal', () => viewer.messages.find((m) => m.t === 'clipboard-state'));
      assert.deepEqual(clipboard.hostTexts, []);
      viewer.send({ t: 'clipboard-share', on: true });
      await until('sharing on', () => viewer.messages.some((m) => m.t === 'clipboard-state' && m.shared));
      clipboard.guestCopies('vom Gast ✓');
      viewer.send({ t: 'clipboard', text: 'from the host ✓' });
      viewer.send({ t: 'clipboard', text: 'refuse me' });
      await until('the guest text at the viewer', () => viewer.messages.some((m) => m.t === 'clipboard' && m.text === 'vom Gast ✓'));
      await until('the host text at the guest', () => clipboard.hostTexts.length === 1);
      await until('the agent failure as a notice', () => viewer.messages.some((m) => m.t === 'clipboard-state' && m.notice === 'the guest agent is not running'));
      assert.deepEqual(clipboard.hostTexts, ['from the host ✓']);
      assert.ok(!viewer.messages.some((m) => m.t === 'clipboard' && m.text === 'before sharing'));

      // A malformed message is a reason to close the viewer, said once by the endpoint.
      assert.deepEqual(closedWhy, []);
      viewer.send({ t: 'input', input: { t: 'teleport' } });
      await until('the violation', () => closedWhy.length === 1);
    } finally {
      endpoint.dispose();
      await viewer.close();
      source.close();
    }
  });
}

/** A VM's sound, scripted: the events AudioOut emits. */
class ScriptedSound extends EventEmitter {
  readonly formats = new Map<number, PcmFormat>();
  closed = false;
  close(): void {
    this.closed = true;
  }
}

test('sound over a MessageChannel: format, PCM as AudioPackets, guest volume, then closed; a viewer that lags loses packets, not time', async () => {
  const audio = new ScriptedSound();
  audio.formats.set(0, { rate: 48000, channels: 2 } as PcmFormat);
  const { port1, port2 } = new MessageChannel();
  let backlog = 0;
  const ended: string[] = [];
  const stats = relaySound(audio as unknown as SoundSource, {
    message: (m) => port1.postMessage(m),
    packet: (p) => port1.postMessage(p, [p]),
    backlog: () => backlog,
    ended: (reason) => ended.push(reason),
    log: () => {},
  });
  const messages: AudioMessage[] = [];
  const packets: ArrayBuffer[] = [];
  port2.on('message', (m: unknown) => (m instanceof ArrayBuffer ? packets.push(m) : messages.push(m as AudioMessage)));
  const samples = Float32Array.from({ length: 960 }, (_, i) => Math.sin(i / 10));
  audio.emit('pcm', 0, samples, 1234.5);
  audio.emit('volume', 0, false, [255, 128]);
  backlog = MAX_SOUND_BACKLOG + 1;
  audio.emit('pcm', 0, samples, 1240);
  audio.emit('closed', 'the VM stopped');
  await until('the closed message', () => messages.some((m) => m.t === 'closed'));
  assert.deepEqual(messages, [
    { t: 'format', rate: 48000, channels: 2 },
    { t: 'guest-volume', mute: false, volume: 1 },
    { t: 'closed', reason: 'the VM stopped' },
  ]);
  assert.equal(packets.length, 1);
  const p = decodeAudioPacket(packets[0]!);
  if (typeof p === 'string') assert.fail(p);
  assert.deepEqual([p.rate, p.channels, p.receivedAt], [48000, 2, 1234.5]);
  assert.deepEqual([...p.samples], [...samples]);
  assert.deepEqual(stats, { sent: 1, dropped: 1 });
  assert.deepEqual(ended, ['the VM stopped']);
  port1.close();
});

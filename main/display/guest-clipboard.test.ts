// GuestClipboard against a scripted QEMU side: what it calls, how it answers QEMU's calls, and
// what it refuses (too large, not UTF-8, absurd grabs) without stopping.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { MessageType, type DbusMessage } from '../dbus/peer-connection.js';
import { CLIPBOARD_IFACE, CLIPBOARD_MAX_BYTES, CLIPBOARD_PATH, ClipboardTooLargeError, GuestClipboard, TEXT_MIME, type ClipboardLink } from './guest-clipboard.js';

interface Sent {
  member: string;
  signature?: string;
  body?: unknown[];
}

/** QEMU's side: records kju's calls, answers Request with `guestData`, and delivers QEMU's calls. */
class FakeQemu extends EventEmitter implements ClipboardLink {
  readonly calls: Sent[] = [];
  readonly replies: { to: number; signature?: string; body?: unknown[]; error?: string }[] = [];
  guestData: [string, Buffer] = [TEXT_MIME, Buffer.from('')];
  private serial = 100;

  async call(_path: string, _iface: string, member: string, opts: { signature?: string; body?: unknown[] } = {}): Promise<unknown[]> {
    this.calls.push({ member, signature: opts.signature, body: opts.body });
    return member === 'Request' ? this.guestData : [];
  }
  reply(to: DbusMessage, signature?: string, body?: unknown[]): void {
    this.replies.push({ to: to.serial, signature, body });
  }
  replyError(to: DbusMessage, errorName: string, text: string): void {
    this.replies.push({ to: to.serial, error: `${errorName}: ${text}` });
  }
  /** QEMU calls kju's Clipboard object; returns the serial to find the reply by. */
  deliver(member: string, body: unknown[]): number {
    const serial = this.serial++;
    this.emit('call', { type: MessageType.methodCall, serial, path: CLIPBOARD_PATH, interface: CLIPBOARD_IFACE, member, body });
    return serial;
  }
  replyTo(serial: number) {
    return this.replies.find((r) => r.to === serial);
  }
}

async function open() {
  const qemu = new FakeQemu();
  const log: string[] = [];
  const clipboard = await GuestClipboard.open(qemu, (l) => log.push(l));
  const texts: string[] = [];
  const refused: string[] = [];
  clipboard.on('text', (t) => texts.push(t));
  clipboard.on('refused', (r) => refused.push(r));
  return { qemu, log, clipboard, texts, refused };
}

test('open registers with QEMU; host text is grabbed with a rising serial and served byte-exact when QEMU requests it', async () => {
  const { qemu, clipboard } = await open();
  assert.deepEqual(qemu.calls[0], { member: 'Register', signature: undefined, body: undefined });
  // the guest grabbed with serial 7 earlier: our next grab must be above it
  qemu.guestData = [TEXT_MIME, Buffer.from('x')];
  qemu.deliver('Grab', [0, 7, [TEXT_MIME]]);
  await tick();
  const text = 'Grüße, 世界 🎉\n';
  await clipboard.setHostText(text);
  const grab = qemu.calls.find((c) => c.member === 'Grab')!;
  assert.deepEqual(grab, { member: 'Grab', signature: 'uuas', body: [0, 8, [TEXT_MIME]] });
  const req = qemu.deliver('Request', [0, [TEXT_MIME]]);
  const reply = qemu.replyTo(req)!;
  assert.equal(reply.signature, 'say');
  assert.equal(reply.body![0], TEXT_MIME);
  assert.deepEqual(reply.body![1], Buffer.from(text, 'utf8'));
  // QEMU resets serials (Register): the next grab starts from 1 again
  qemu.deliver('Register', []);
  await clipboard.setHostText('again');
  assert.deepEqual(qemu.calls.filter((c) => c.member === 'Grab').at(-1)!.body, [0, 1, [TEXT_MIME]]);
});

test('host text offered before a guest agent ran is offered again when one connects (QEMU resets serials), with serial 0; not after the guest grabbed', async () => {
  const { qemu, clipboard } = await open();
  await clipboard.setHostText('copied before the agent ran');
  const grabs = () => qemu.calls.filter((c) => c.member === 'Grab').map((c) => c.body);
  assert.equal(grabs().length, 1);
  // an agent announces itself: QEMU resets serials and calls our Register
  qemu.deliver('Register', []);
  await tick();
  assert.deepEqual(grabs(), [
    [0, 1, [TEXT_MIME]],
    [0, 0, [TEXT_MIME]],
  ]);
  assert.equal(clipboard.offeredText, 'copied before the agent ran');
  const req = qemu.deliver('Request', [0, [TEXT_MIME]]);
  assert.deepEqual(qemu.replyTo(req)!.body![1], Buffer.from('copied before the agent ran'));
  // the guest's own grab replaces the host text: the next agent is offered nothing
  qemu.guestData = [TEXT_MIME, Buffer.from('guest')];
  qemu.deliver('Grab', [0, 1, [TEXT_MIME]]);
  await tick();
  assert.equal(clipboard.offeredText, null);
  qemu.deliver('Register', []);
  await tick();
  assert.equal(grabs().length, 2);
});

test('a guest grab offering text is fetched and emitted; other selections and other types are not', async () => {
  const { qemu, texts } = await open();
  qemu.guestData = [TEXT_MIME, Buffer.from('from the guest: ñ\0')];
  const g = qemu.deliver('Grab', [0, 1, ['UTF8_STRING', TEXT_MIME]]);
  assert.ok(qemu.replyTo(g) && !qemu.replyTo(g)!.error, 'Grab is answered');
  await tick();
  assert.deepEqual(texts, ['from the guest: ñ'], 'a trailing NUL from the agent is dropped');
  assert.deepEqual(qemu.calls.find((c) => c.member === 'Request')!.body, [0, [TEXT_MIME]]);
  qemu.deliver('Grab', [1, 2, [TEXT_MIME]]);
  qemu.deliver('Grab', [0, 3, ['image/png']]);
  await tick();
  assert.equal(qemu.calls.filter((c) => c.member === 'Request').length, 1);
});

test('the host side refuses text over the limit before anything reaches QEMU; Request without host text is an error', async () => {
  const { qemu, clipboard } = await open();
  await assert.rejects(clipboard.setHostText('a'.repeat(10 * 1024 * 1024)), (err: Error) => {
    assert.ok(err instanceof ClipboardTooLargeError);
    assert.match(err.message, /10\.0 MiB.*1\.0 MiB limit/);
    return true;
  });
  assert.equal(qemu.calls.filter((c) => c.member === 'Grab').length, 0);
  const req = qemu.deliver('Request', [0, [TEXT_MIME]]);
  assert.match(qemu.replyTo(req)!.error!, /Empty clipboard/);
  await clipboard.setHostText('a'.repeat(CLIPBOARD_MAX_BYTES));
  assert.equal(qemu.calls.filter((c) => c.member === 'Grab').length, 1, 'exactly the limit passes');
});

test('guest data that is too large, not UTF-8, of another MIME type or a grab with 10,000 MIME types is refused with a log line, and the next good text still arrives', async () => {
  const { qemu, texts, refused, log } = await open();
  qemu.guestData = [TEXT_MIME, Buffer.alloc(10 * 1024 * 1024, 0x61)];
  qemu.deliver('Grab', [0, 1, [TEXT_MIME]]);
  await tick();
  qemu.guestData = [TEXT_MIME, Buffer.from([0xff, 0xfe, 0x41])];
  qemu.deliver('Grab', [0, 2, [TEXT_MIME]]);
  await tick();
  qemu.guestData = ['application/x-evil', Buffer.from('x')];
  qemu.deliver('Grab', [0, 3, [TEXT_MIME]]);
  await tick();
  const g = qemu.deliver('Grab', [0, 4, Array.from({ length: 10_000 }, (_, i) => `x/${i}`)]);
  assert.ok(!qemu.replyTo(g)!.error, 'QEMU is still answered');
  qemu.deliver('Grab', [0, 5, 'not a list']);
  await tick();
  assert.deepEqual(texts, []);
  assert.equal(refused.length, 5, refused.join('\n'));
  assert.match(refused[0], /10\.0 MiB\) is larger than kju's 1\.0 MiB limit/);
  assert.match(refused[1], /not valid UTF-8/);
  assert.match(refused[2], /application\/x-evil/);
  assert.match(refused[3], /10000 MIME types/);
  assert.match(refused[4], /without a MIME type list/);
  assert.deepEqual(
    log,
    refused.map((r) => `clipboard: ${r}`),
  );
  qemu.guestData = [TEXT_MIME, Buffer.from('fine')];
  qemu.deliver('Grab', [0, 6, [TEXT_MIME]]);
  await tick();
  assert.deepEqual(texts, ['fine']);
});

test('calls to other objects are left alone; unknown methods on ours get an error; close unregisters and stops answering', async () => {
  const { qemu, clipboard } = await open();
  qemu.emit('call', { type: MessageType.methodCall, serial: 1, path: '/org/qemu/Display1/Listener', interface: 'x', member: 'Scanout', body: [] });
  assert.equal(qemu.replies.length, 0);
  const s = qemu.deliver('Frobnicate', []);
  assert.match(qemu.replyTo(s)!.error!, /UnknownMethod/);
  await clipboard.close();
  assert.equal(qemu.calls.at(-1)!.member, 'Unregister');
  qemu.deliver('Grab', [0, 9, [TEXT_MIME]]);
  assert.equal(qemu.replies.length, 1);
});

test("QEMU's property load of kju's Clipboard object is answered (QEMU's Register waits on it)", async () => {
  const { qemu } = await open();
  const getAll = 500;
  qemu.emit('call', { type: MessageType.methodCall, serial: getAll, path: CLIPBOARD_PATH, interface: 'org.freedesktop.DBus.Properties', member: 'GetAll', body: [CLIPBOARD_IFACE] });
  assert.deepEqual(qemu.replyTo(getAll), { to: getAll, signature: 'a{sv}', body: [[]] });
  const get = 501;
  qemu.emit('call', { type: MessageType.methodCall, serial: get, path: CLIPBOARD_PATH, interface: 'org.freedesktop.DBus.Properties', member: 'Get', body: [CLIPBOARD_IFACE, 'X'] });
  assert.match(qemu.replyTo(get)!.error!, /InvalidArgs/);
});

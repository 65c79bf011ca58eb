// Integration (real QEMU under TCG, the demo guest with the vdagent channel): kju's GuestClipboard
// and the guest's test agent (scripts/guest-tools/kju-vdagent.c) exchange text both ways through
// QEMU's qemu-vdagent and its D-Bus Clipboard; oversized and malformed clipboards are refused with
// a log line and the clipboard keeps working. One booted guest serves every test of this file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { VmSession } from '../session/vm-session.js';
import { ClipboardTooLargeError, type GuestClipboard } from './guest-clipboard.js';

/** printf(1) octal escapes for `bytes`: exact bytes through the serial shell, whatever they are. */
function printfEscaped(bytes: Buffer): string {
  return [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('integration: clipboard with a guest vdagent', () => {
  let guest: BootedGuest;
  let session: VmSession;
  let clipboard: GuestClipboard;
  const logLines: string[] = [];
  let runs = 0;

  /** Starts the agent in the guest's background; `done` resolves with its stdout file and status once it exits. */
  async function startAgent(args: string, stdin = ''): Promise<{ out: string; done: () => Promise<number> }> {
    const id = `a${++runs}`;
    const out = `/tmp/${id}.out`;
    // `( (…) & )`: run() appends `; echo …`, and `&;` is a syntax error
    await guest.serial.run(`( ( ${stdin}kju-vdagent -t 120 ${args} >${out} 2>/tmp/${id}.log; echo $? >/tmp/${id}.rc ) & )`);
    await poll(`agent ${id} ready`, async () => ((await guest.serial.run(`cat /tmp/${id}.log`)).includes('kju-vdagent: ready') ? true : undefined));
    const done = () =>
      poll(
        `agent ${id} to exit`,
        async () => {
          const rc = await guest.serial.run(`cat /tmp/${id}.rc 2>/dev/null || true`);
          return rc.trim() === '' ? undefined : Number(rc.trim());
        },
        130_000,
      );
    return { out, done };
  }

  before(async () => {
    guest = await bootDemoGuest({ clipboard: true, name: 'it-clipboard' });
    session = await VmSession.attach({ name: guest.desc.name, runtimeDir: guest.qemu.runtimeDir, pid: guest.qemu.pid, exited: guest.qemu.exited, qmp: guest.qmp });
    clipboard = await session.display.clipboard((line) => logLines.push(line));
  });
  after(async () => {
    await clipboard?.close();
    session?.detach();
    session?.display.close();
    await guest?.stop();
  });

  async function hostToGuest(text: string): Promise<void> {
    const agent = await startAgent('get');
    await clipboard.setHostText(text);
    assert.equal(await agent.done(), 0, await guest.serial.run('cat /tmp/a*.log'));
    const hex = (await guest.serial.run(`od -An -tx1 -v ${agent.out} | tr -d ' \\n'`)).trim();
    assert.equal(hex, Buffer.from(text, 'utf8').toString('hex'), 'the guest received the exact bytes');
  }

  async function guestToHost(text: string): Promise<void> {
    const arrived = new Promise<string>((resolve) => clipboard.once('text', resolve));
    const agent = await startAgent('set -', `printf '${printfEscaped(Buffer.from(text, 'utf8'))}' | `);
    const got = await Promise.race([arrived, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no guest text within 30 s')), 30_000))]);
    assert.equal(got, text);
    assert.equal(await agent.done(), 0);
  }

  test('host → guest: non-ASCII text arrives byte-exact', async () => {
    await hostToGuest('Grüße, 世界 ✓ — kju\ttab\nline 2');
  });

  test('guest → host: non-ASCII text arrives through GuestClipboard', async () => {
    await guestToHost('Gast: Grüße, 世界 ✓ «clip»');
  });

  test('a 10 MiB clipboard is refused both ways with a clear message, never a hang', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    await assert.rejects(clipboard.setHostText(big), (err: Error) => err instanceof ClipboardTooLargeError && /10\.0 MiB.*1\.0 MiB limit/.test(err.message));

    const refused = new Promise<string>((resolve) => clipboard.once('refused', resolve));
    const texts: string[] = [];
    const onText = (t: string) => texts.push(t);
    clipboard.on('text', onText);
    const started = Date.now();
    const agent = await startAgent('set -', 'head -c 10485760 /dev/zero | tr "\\000" x | ');
    const reason = await Promise.race([refused, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no refusal within 90 s')), 90_000))]);
    clipboard.off('text', onText);
    console.log(`# 10 MiB from the guest: refused after ${Date.now() - started} ms: ${reason}`);
    assert.match(reason, /larger than kju's 1\.0 MiB limit|reading the guest's clipboard failed/);
    assert.deepEqual(texts, [], 'nothing of the 10 MiB reached the host');
    assert.ok(
      logLines.some((l) => l.includes(reason)),
      'the refusal is logged',
    );
    await agent.done();
  });

  test('a garbage agent is rejected with a log line and the clipboard keeps working', async () => {
    const refused = new Promise<string>((resolve) => clipboard.once('refused', resolve));
    const agent = await startAgent('garbage');
    const reason = await Promise.race([refused, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no refusal within 30 s')), 30_000))]);
    assert.match(reason, /not valid UTF-8/);
    assert.ok(
      logLines.some((l) => l.includes('not valid UTF-8')),
      'kju logged the refusal',
    );
    assert.equal(await agent.done(), 0);
    assert.match(await guest.serial.run(`cat /tmp/a${runs}.log`), /garbage sent/);
    // QEMU's vdagent drops the malformed chunk with its own log line; it never reaches kju.
    assert.match(readFileSync(guest.qemu.logFile, 'utf8'), /message too small/);
    assert.ok(guest.qemu.running, 'QEMU is still running');
    await guestToHost('after the garbage: ✓ still here');
    await hostToGuest('and back: Grüße ✓');
  });
});

// SerialConsole against a fake shell on a unix socket that answers one byte per write.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SerialCommandError, SerialConsole } from './serial-console.js';

/** Echoes each line like a tty, then runs `echo X` / `printf X` / `exit N` pieces of it. */
function fakeShell(socket: net.Socket): void {
  let line = '';
  const send = async (text: string) => {
    for (const ch of text.replace(/\n/g, '\r\n')) {
      socket.write(ch);
      await new Promise((r) => setImmediate(r));
    }
  };
  let queue = Promise.resolve();
  socket.on('data', (d) => {
    line += d.toString();
    let nl: number;
    while ((nl = line.indexOf('\n')) !== -1) {
      const cmd = line.slice(0, nl);
      line = line.slice(nl + 1);
      queue = queue.then(async () => {
        await send(`${cmd}\n`);
        let status = 0;
        for (const part of cmd.split(';').map((p) => p.trim())) {
          let m: RegExpExecArray | null;
          if ((m = /^echo (.*)$/.exec(part))) await send(`${m[1]!.replaceAll('""', '').replace('$?', String(status))}\n`);
          else if ((m = /^printf (.*)$/.exec(part))) await send(m[1]!);
          else if ((m = /^exit (\d+)$/.exec(part))) status = Number(m[1]);
        }
        await send('kju# ');
      });
    }
  });
}

test('run() over a byte-at-a-time "\\r\\n" stream: output, status, queueing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-serial-'));
  const path = join(dir, 'serial.sock');
  const server = net.createServer(fakeShell);
  await new Promise<void>((r) => server.listen(path, r));
  t.after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const serial = await SerialConsole.connect(path);
  t.after(() => serial.close());

  assert.equal(await serial.run('echo hello'), 'hello');
  assert.equal(await serial.run('printf abc'), 'abc');
  assert.equal(await serial.run('echo a; echo b;  '), 'a\nb');
  const [x, y] = await Promise.all([serial.run('echo x'), serial.run('echo y')]);
  assert.deepEqual([x, y], ['x', 'y']);
  await assert.rejects(serial.run('echo oops; exit 2'), (e: unknown) => e instanceof SerialCommandError && e.status === 2 && e.output === 'oops');
  assert.equal(await serial.run('echo fine; exit 1', { allowFailure: true }), 'fine');
  assert.ok(!serial.output.includes('\r'));
  await assert.rejects(serial.waitFor(/never/, 50), /no \/never\/ on the serial console within 50 ms/);
});

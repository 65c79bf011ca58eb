import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';

import { FileLock } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const repo = fileURLToPath(new URL('..', import.meta.url));

/** A child process that takes the lock on `file`, says "held", and waits to be killed. */
function holder(file: string) {
  const code = `import { FileLock } from './native/index.ts'; const l = FileLock.tryAcquire(${JSON.stringify(file)}); console.log(l ? 'held' : 'busy'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
  const said = new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return { child, said };
}

describe('FileLock', () => {
  it('is exclusive between two opens in one process, and free again after release', () => {
    const file = join(dir, 'a.lock');
    const a = FileLock.tryAcquire(file);
    assert.ok(a?.held);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(FileLock.tryAcquire(file), null);
    a.release();
    assert.equal(a.held, false);
    a.release(); // idempotent
    const b = FileLock.tryAcquire(file);
    assert.ok(b);
    b.release();
  });

  it('locks a directory without creating anything in it', () => {
    const d = join(dir, 'bundle.kju');
    mkdirSync(d);
    const a = FileLock.tryAcquire(d, { directory: true });
    assert.ok(a);
    assert.equal(FileLock.tryAcquire(d, { directory: true }), null);
    assert.deepEqual(readdirSync(d), []);
    a.release();
  });

  it('is released by the kernel when the holding process is killed with SIGKILL', async () => {
    const file = join(dir, 'b.lock');
    const h = holder(file);
    assert.equal(await h.said, 'held');
    assert.equal(FileLock.tryAcquire(file), null, 'the child holds it');
    h.child.kill('SIGKILL');
    await once(h.child, 'exit');
    const mine = FileLock.tryAcquire(file);
    assert.ok(mine, 'free once the holder died');
    const h2 = holder(file);
    assert.equal(await h2.said, 'busy', 'another process sees our lock');
    h2.child.kill('SIGKILL');
    await once(h2.child, 'exit');
    mine.release();
  });
});

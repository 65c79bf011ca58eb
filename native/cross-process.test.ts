import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

import { FdSocket, Mapping, closeFd, memfdCreate, socketpair } from './index.js';
import { onLines } from './test-fixtures/line-reader.js';
import { patternA, patternB } from './test-fixtures/share-child.js';

it('two processes share a memfd sent over FdSocket and see each other’s writes through shared views', async () => {
  const [mine, theirs] = socketpair();
  const childScript = fileURLToPath(new URL('./test-fixtures/share-child.ts', import.meta.url));
  const repo = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, 'child'], {
    cwd: repo,
    stdio: ['inherit', 'inherit', 'inherit', theirs], // the child's fd 3
  });
  closeFd(theirs);
  const exited = once(child, 'exit');

  const sock = new FdSocket(mine);
  const lines: string[] = [];
  let waiter: ((line: string) => void) | null = null;
  onLines(sock, (line) => (waiter ? waiter(line) : lines.push(line)));
  const nextLine = () =>
    new Promise<string>((resolve) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      waiter = (line) => {
        waiter = null;
        resolve(line);
      };
    });

  const offset = 4096 + 512; // not page-aligned on purpose
  const length = 1920 * 4 * 40;
  const memfd = memfdCreate('kju-xproc', offset + length);
  const view = Mapping.open(memfd, offset, length, { writable: true });
  assert.equal(view.mode, 'shared');
  sock.writeWithFds(Buffer.from(`map ${offset} ${length}\n`), [memfd]);
  closeFd(memfd);

  assert.equal(await nextLine(), 'wrote shared');
  for (let i = 0; i < length; i++) if (view.view[i] !== patternA(i)) assert.fail(`parent sees byte ${i} = ${view.view[i]}`);

  for (let i = 0; i < length; i++) view.view[i] = patternB(i);
  sock.write('check\n');
  assert.equal(await nextLine(), 'ok');

  sock.end();
  const [code] = await exited;
  assert.equal(code, 0);
  view.release();
});

// Bad CLI input that used to end in exit 70 with a stack trace, or in exit 0 having done nothing:
// each is now a one-line kju error naming what to fix, refused before any VM is touched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { kjuScratch } from '../../testing/kju-scratch.js';

function sandbox(t: { after(fn: () => void): void }) {
  const s = kjuScratch('kju-input');
  t.after(() => s.remove());
  return { library: s.library, kju: (args: string[], input?: string) => s.run(args, { input }) };
}

function oneLineError(r: { code: number | null; stderr: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, r.stderr);
}

test('kju screenshot into a folder that does not exist names the folder (exit 1, no stack trace)', async (t) => {
  const { kju } = sandbox(t);
  oneLineError(kju(['screenshot', 'Any', '/no/such/dir/x.png']), 1, /^kju: the folder \/no\/such\/dir does not exist: create it first/m);
});

test('kju create with a name of 63 cats (64 characters, 252 bytes) says names are limited in bytes, and creates nothing', async (t) => {
  const { kju, library } = sandbox(t);
  const r = kju(['create', '🐱'.repeat(63), '--no-disk', '--memory', '64', '--cpus', '1']);
  oneLineError(r, 1, /cannot be a VM name: the name takes 252 bytes on disk and a bundle's folder name holds at most 200/);
  const left = await readdir(library).catch(() => [] as string[]);
  assert.deepEqual(
    left.filter((n) => n.endsWith('.kju')),
    [],
  );
  // 50 cats (200 bytes) is still a name
  assert.equal(kju(['create', '🐱'.repeat(50), '--no-disk', '--memory', '64', '--cpus', '1']).code, 0);
});

test('a file-system refusal that reaches the top is a one-line error naming the path, not a bug', async () => {
  const { cliFailure } = await import('../cli-error.js');
  const tooLong = Object.assign(new Error(`ENAMETOOLONG: name too long, open '/x/${'a'.repeat(300)}'`), { code: 'ENAMETOOLONG', path: `/x/${'a'.repeat(300)}`, syscall: 'open' });
  const r = cliFailure(tooLong);
  assert.equal(r.exitCode, 1);
  assert.equal(r.text, `kju: /x/${'a'.repeat(300)}: the name is too long for the file system (255 bytes a name): choose a shorter one`);
  const missing = cliFailure(Object.assign(new Error('ENOENT'), { code: 'ENOENT', path: '/gone/f' }));
  assert.deepEqual(missing, { text: 'kju: /gone/f: no such file or folder (check the path; a folder a file goes in must exist)', exitCode: 1 });
  assert.equal(cliFailure(Object.assign(new Error('ENOENT without a path'), { code: 'ENOENT' })).exitCode, 70, 'without a path it is still a bug');
});

test('kju usb detach/attach of something that is not a device name fails clearly (exit 2)', async (t) => {
  const { kju } = sandbox(t);
  for (const op of ['detach', 'attach']) oneLineError(kju(['usb', op, 'Any', 'garbage']), 2, /^kju: 'garbage' is not a USB device: give vendor:product/m);
});

test('kju type VM - reads the text from stdin (checked before the VM is touched)', async (t) => {
  const { kju } = sandbox(t);
  // untypeable text on stdin is refused naming the character: stdin was read, not "-" typed
  oneLineError(kju(['type', 'Any', '-'], 'hello\u0007'), 1, /^kju: cannot type character "\\u0007" at position 5/m);
  // typeable stdin reaches the VM lookup (which finds none here)
  oneLineError(kju(['type', 'Any', '-'], 'a long text\nwith lines\n'), 1, /Any/);
});

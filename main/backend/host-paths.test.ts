import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KjuError } from '../../common/errors.js';
import { HostPathPolicy } from './host-paths.js';

const base = mkdtempSync(join(tmpdir(), 'kju-host-paths-'));
const lib = join(base, 'library');
const allowed = join(base, 'isos');
const outside = join(base, 'elsewhere');
for (const d of [lib, allowed, outside]) mkdirSync(d);
writeFileSync(join(allowed, 'debian.iso'), 'iso');
writeFileSync(join(lib, 'disk.qcow2'), 'disk');
writeFileSync(join(outside, 'secret'), 'secret');
symlinkSync(join(outside, 'secret'), join(allowed, 'innocent.iso'));
symlinkSync(outside, join(allowed, 'dir-link'));
symlinkSync(join(allowed, 'debian.iso'), join(outside, 'link-in.iso'));
execFileSync('mkfifo', [join(allowed, 'fifo.iso')]);
const sock = createServer().listen(join(allowed, 'sock.iso'));
after(() => {
  sock.close();
  rmSync(base, { recursive: true, force: true });
});

const policy = new HostPathPolicy([lib, allowed]);

async function refusal(path: string): Promise<string> {
  try {
    await policy.check(path, 'the ISO');
  } catch (err) {
    assert.ok(err instanceof KjuError, String(err));
    if (err.code === 'path-not-allowed') assert.match(err.hint ?? '', /--allow/);
    return err.code;
  }
  return 'allowed';
}

test('files of this user under an allowed root pass, as their real path', async () => {
  assert.equal(await policy.check(join(allowed, 'debian.iso'), 'the ISO'), join(allowed, 'debian.iso'));
  assert.equal(await policy.check(join(lib, 'disk.qcow2'), 'the disk'), join(lib, 'disk.qcow2'));
  // A link from outside to a file inside is judged by where it leads.
  assert.equal(await policy.check(join(outside, 'link-in.iso'), 'the ISO'), join(allowed, 'debian.iso'));
});

test('system files, devices, sockets, FIFOs, folders and links out of the roots are refused', async () => {
  for (const p of [
    '/etc/shadow',
    '/etc/passwd',
    '/dev/zero',
    '/dev/null',
    join(outside, 'secret'),
    join(allowed, 'innocent.iso'),
    join(allowed, 'dir-link', 'secret'),
    join(allowed, 'fifo.iso'),
    join(allowed, 'sock.iso'),
    allowed,
    'debian.iso',
    `${allowed}/../elsewhere/secret`,
  ]) {
    assert.equal(await refusal(p), 'path-not-allowed', p);
  }
  assert.equal(await refusal(join(allowed, 'missing.iso')), 'missing-file');
});

test("a device or another user's file inside an allowed root is still refused", async () => {
  const wide = new HostPathPolicy(['/dev', '/etc']);
  await assert.rejects(wide.check('/dev/zero', 'the disk'), /device, socket or pipe/);
  if (process.getuid?.() !== 0) await assert.rejects(wide.check('/etc/passwd', 'the ISO'), /another user/);
  else {
    const theirs = join(allowed, 'theirs.iso');
    writeFileSync(theirs, 'x');
    chownSync(theirs, 65534, 65534);
    await assert.rejects(policy.check(theirs, 'the ISO'), /another user/);
  }
});

test('the front-end roots are the library, the home folder and the --allow folders', () => {
  const p = HostPathPolicy.forFrontEnds('/lib/x', ['/srv/isos']);
  assert.equal(p.roots[0], '/lib/x');
  assert.equal(p.roots[2], '/srv/isos');
  assert.equal(p.roots.length, 3);
});

test('a shared folder must be a folder of this user under a root; links out of the roots are refused', async () => {
  mkdirSync(join(allowed, 'share'));
  assert.equal(await policy.check(join(allowed, 'share'), 'the shared folder', 'folder'), join(allowed, 'share'));
  assert.equal(await policy.check(allowed, 'the shared folder', 'folder'), allowed);
  await assert.rejects(policy.check(join(allowed, 'dir-link'), 'the shared folder', 'folder'), (e: KjuError) => e.code === 'path-not-allowed' && /outside the folders/.test(e.message));
  await assert.rejects(policy.check(outside, 'the shared folder', 'folder'), (e: KjuError) => e.code === 'path-not-allowed');
  await assert.rejects(policy.check(join(allowed, 'debian.iso'), 'the shared folder', 'folder'), /not a folder/);
  await assert.rejects(policy.check('/etc', 'the shared folder', 'folder'), (e: KjuError) => e.code === 'path-not-allowed');
  await assert.rejects(policy.check(join(allowed, 'nope'), 'the shared folder', 'folder'), (e: KjuError) => e.code === 'missing-file');
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VmDescriptionError, parseVmDescription } from './vm-description.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-vmdesc-'));
mkdirSync(join(dir, 'boot'));
writeFileSync(join(dir, 'boot', 'vmlinuz'), '');
writeFileSync(join(dir, 'boot', 'initrd.img'), '');
writeFileSync(join(dir, 'disk.qcow2'), '');
test.after(() => rmSync(dir, { recursive: true, force: true }));

function rejects(json: unknown, pattern: RegExp): void {
  assert.throws(
    () => parseVmDescription(json, dir),
    (e: unknown) => e instanceof VmDescriptionError && pattern.test(e.message),
  );
}

test('a minimal description parses', () => {
  assert.deepEqual(parseVmDescription({ name: 'a', memoryMiB: 256, cpus: 1 }, dir), { name: 'a', memoryMiB: 256, cpus: 1 });
});

test('relative paths resolve against the file directory', () => {
  const d = parseVmDescription(
    {
      name: 'a',
      memoryMiB: 256,
      cpus: 1,
      kernel: 'boot/vmlinuz',
      initrd: join(dir, 'boot/initrd.img'),
      append: 'quiet',
      disks: [{ path: './disk.qcow2', bus: 'sata' }],
      display: 'std',
    },
    dir,
  );
  assert.equal(d.kernel, join(dir, 'boot/vmlinuz'));
  assert.equal(d.initrd, join(dir, 'boot/initrd.img'));
  assert.equal(d.disks?.[0]?.path, join(dir, 'disk.qcow2'));
});

test('errors name the field and the reason', () => {
  rejects({ memoryMiB: 256, cpus: 1 }, /name:/);
  rejects({ name: 'a', memoryMiB: 'lots', cpus: 1 }, /memoryMiB: .*number/);
  rejects({ name: 'a', memoryMiB: 256.5, cpus: 1 }, /memoryMiB: must be a whole number/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 0 }, /cpus: must be at least 1/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, display: 'vmware' }, /display: .*virtio-vga/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, disks: [{ path: 'disk.qcow2', format: 'vmdk' }] }, /disks\.0\.format/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, colour: 'red' }, /colour/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, initrd: 'boot/initrd.img' }, /initrd: needs kernel/);
  rejects('nope', /\(root\)/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, displays: 5 }, /displays: must be at most 4/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, displays: 0 }, /displays: must be at least 1/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, displays: 2, display: 'std' }, /displays: 2 heads need the display device virtio-vga/);
  assert.equal(parseVmDescription({ name: 'a', memoryMiB: 256, cpus: 1, displays: 2 }, dir).displays, 2);
});

test('missing files are errors naming the path', () => {
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, kernel: 'boot/nope' }, new RegExp(`kernel: file not found: ${join(dir, 'boot/nope')}`));
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, cdrom: '/nonexistent.iso' }, /cdrom: file not found: \/nonexistent\.iso/);
  rejects({ name: 'a', memoryMiB: 256, cpus: 1, disks: [{ path: 'disk.qcow2' }, { path: 'gone.qcow2' }] }, /disks\.1\.path: file not found/);
});

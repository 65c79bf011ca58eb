import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PresetInfo } from '../../common/contract.js';
import { checkForm, checkMemory, checkName, formFromPreset, parseDiskSize, toCreateArgs } from './vm-form.js';

const linux: PresetInfo = { id: 'linux', label: 'Linux', memoryMiB: 2048, cpus: 2, displayDevice: 'virtio-vga', soundDevice: 'intel-hda', diskSize: '20G', firmware: 'bios', machine: 'q35' };
const host = { cpus: 2, memoryMiB: 1024 };

test('a preset fills the form, capped at what the host has', () => {
  const f = formFromPreset(linux, host, 'Deb');
  assert.equal(f.memoryMiB, '1024');
  assert.equal(f.cpus, '2');
  assert.equal(f.diskSize, '20G');
  assert.deepEqual(checkForm(f, host, []), {});
});

test('names, memory, sizes and paths are checked with messages that say what to do', () => {
  assert.match(checkName('', [])!, /name/);
  assert.match(checkName('a/b', [])!, /contains one of/);
  assert.match(checkName('Demo', ['demo'])!, /already exists/);
  assert.equal(checkName('Debian 12', ['Demo']), undefined);
  assert.match(checkMemory('4096', host)!, /1024 MiB/);
  assert.match(checkMemory('12x', host)!, /whole number/);
  assert.equal(checkMemory('1024', host), undefined);
  assert.equal(parseDiskSize('64M'), 64 * 1024 * 1024);
  assert.equal(parseDiskSize('1.5G'), 1.5 * 1024 ** 3);
  assert.equal(parseDiskSize('512MiB'), 512 * 1024 ** 2);
  assert.ok(Number.isNaN(parseDiskSize('big')));
  const f = { ...formFromPreset(linux, host, 'X'), diskSize: '10K', iso: 'relative.iso', disk: 'new' as const };
  const e = checkForm(f, host, []);
  assert.match(e.diskSize!, /At least 1M/);
  assert.match(e.iso!, /starting with \//);
  assert.equal(checkForm({ ...f, diskSize: 'x', disk: 'none', iso: '' }, host, []).diskSize, undefined, 'no size needed without a new disk');
  assert.match(checkForm({ ...f, iso: '', append: 'console=ttyS0' }, host, []).kernel!, /kernel/);
});

test('the form becomes createVm arguments', () => {
  const f = { ...formFromPreset(linux, host, 'X'), memoryMiB: '256', cpus: '1', diskSize: '64m', kernel: '/k', initrd: '/i', append: 'quiet' };
  assert.deepEqual(toCreateArgs(f, 'op1'), {
    name: 'X',
    preset: 'linux',
    memoryMiB: 256,
    cpus: 1,
    displayDevice: 'virtio-vga',
    disk: { kind: 'new', size: '64M' },
    kernel: '/k',
    initrd: '/i',
    append: 'quiet',
    opId: 'op1',
  });
  assert.deepEqual(toCreateArgs({ ...f, disk: 'existing', diskPath: '/d.img', diskMode: 'link', kernel: '', initrd: '', append: '' }).disk, { kind: 'existing', path: '/d.img', mode: 'link' });
  assert.deepEqual(toCreateArgs({ ...f, disk: 'none' }).disk, { kind: 'none' });
});

test('the wizard refuses names the CLI refuses (one rule, common/vm-name.ts): bidi and zero-width characters', () => {
  assert.match(checkName('ab\u202ecd', [])!, /^The name contains the invisible formatting character U\+202E/);
  assert.match(checkName('a\u200bb', [])!, /U\+200B/);
  assert.match(checkName('con', [])!, /reserved device name/);
  assert.match(checkName('Caf\u0065\u0301', ['CAF\u00c9'])!, /already exists/, 'Unicode forms and case are one name');
  assert.equal(checkName('Caf\u0065\u0301', []), undefined, 'stored as NFC');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmSummary } from '../../common/contract.js';
import { QemuNotFoundError } from '../qemu/find-qemu.js';
import { dropsPrivileges } from '../qemu/qemu-user.js';
import type { SessionManager } from '../session/session-manager.js';
import { LocalBackend } from './local-backend.js';

const vm: VmSummary = { id: 'a', name: 'A', state: 'stopped', displayDevice: 'std', memoryMiB: 512, cpus: 1 };

/** Just enough of a SessionManager for call(): start and stop do what the test says, and are counted. */
function fakeSessions(start: () => Promise<unknown>) {
  const calls: string[] = [];
  const sessions = {
    list: async () => [vm],
    start: async (id: string) => (calls.push(`start ${id}`), start()),
    stop: async (id: string, o: { force?: boolean }) => (calls.push(`stop ${id} ${Boolean(o.force)}`), { summary: { ...vm, state: 'stopped' } }),
    library: { host: { cpus: 4, memoryMiB: 8192 } },
  };
  return { calls, sessions: sessions as unknown as SessionManager };
}

test('call checks the arguments before any handler runs', async () => {
  const { calls, sessions } = fakeSessions(async () => ({ summary: vm }));
  const backend = new LocalBackend(sessions);
  const call = backend.call as (m: string, a: unknown) => Promise<{ ok: boolean; code?: string }>;
  assert.equal((await call('startVm', { id: 7 })).code, 'bad-args');
  assert.equal((await call('stopVm', { id: 'a', force: 'yes' })).code, 'bad-args');
  assert.equal((await call('rmRf', {})).code, 'unknown-method');
  assert.deepEqual(calls, []);
  assert.deepEqual(await backend.call('stopVm', { id: 'a', force: true }), { ok: true, value: { ...vm, state: 'stopped' } });
  assert.deepEqual(await backend.call('hostLimits', {}), { ok: true, value: { cpus: 4, memoryMiB: 8192 } });
  assert.deepEqual(calls, ['stop a true']);
});

test('a kju error from a handler keeps its code, message and hint; any other throw is internal', async () => {
  const noQemu = new LocalBackend(fakeSessions(() => Promise.reject(new QemuNotFoundError('QEMU not found: qemu-system-x86_64 is not on PATH'))).sessions);
  const r = await noQemu.call('startVm', { id: 'a' });
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'qemu-not-found');
  assert.equal(!r.ok && r.message, 'QEMU not found: qemu-system-x86_64 is not on PATH');
  assert.match((!r.ok && r.hint) || '', /install/);

  const buggy = new LocalBackend(fakeSessions(() => Promise.reject(new TypeError('x is undefined'))).sessions);
  const origWrite = process.stderr.write;
  let logged = '';
  process.stderr.write = ((chunk: string) => ((logged += chunk), true)) as typeof process.stderr.write;
  try {
    assert.deepEqual(await buggy.call('startVm', { id: 'a' }), { ok: false, code: 'internal', message: 'startVm failed: x is undefined' });
  } finally {
    process.stderr.write = origWrite;
  }
  assert.match(logged, /TypeError: x is undefined\n\s+at /);
});

test('host paths from a front end are confined: createVm, editVm and setCdrom refuse system files and devices', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-backend-paths-'));
  try {
    const lib = join(dir, 'library');
    mkdirSync(lib);
    const iso = join(lib, 'ok.iso');
    writeFileSync(iso, 'iso');
    const touched: string[] = [];
    const sessions = {
      list: async () => [vm],
      listenerCount: () => 0,
      library: {
        root: lib,
        get: async (id: string) => ({ config: { id, name: 'A' }, dir: join(lib, 'A.kju') }),
        edit: async (id: string, c: unknown) => void touched.push(`edit ${id} ${JSON.stringify(c)}`),
      },
      setCdrom: async (id: string, p: string | null) => (touched.push(`setCdrom ${id} ${p}`), vm),
    } as unknown as SessionManager;
    const backend = new LocalBackend(sessions);
    const create = (extra: Record<string, unknown>) => backend.call('createVm', { name: 'x', preset: 'linux', memoryMiB: 128, cpus: 1, disk: { kind: 'none' }, ...extra } as never);
    const attempts: [string, Record<string, unknown>][] = [
      ['disk copy of /etc/shadow', { disk: { kind: 'existing', path: '/etc/shadow', mode: 'copy' } }],
      ['/dev/zero as a raw disk', { disk: { kind: 'existing', path: '/dev/zero', mode: 'link' } }],
      ['/etc/passwd as the ISO', { iso: '/etc/passwd' }],
      ['/proc/self/environ as the kernel', { kernel: '/proc/self/environ' }],
      ['/dev/null as the initrd', { initrd: '/dev/null' }],
    ];
    for (const [what, extra] of attempts) {
      const r = await create(extra);
      assert.equal(r.ok, false, what);
      assert.equal(!r.ok && r.code, 'path-not-allowed', what);
      assert.match((!r.ok && r.hint) || '', /--allow/, what);
    }
    const e = await backend.call('editVm', { id: 'a', changes: { cdrom: '/etc/passwd' } });
    assert.equal(!e.ok && e.code, 'path-not-allowed');
    const c = await backend.call('setCdrom', { id: 'a', path: '/dev/zero' });
    assert.equal(!c.ok && c.code, 'path-not-allowed');
    assert.deepEqual(touched, []);
    assert.equal((await backend.call('setCdrom', { id: 'a', path: iso })).ok, true);
    assert.equal((await backend.call('setCdrom', { id: 'a', path: null })).ok, true);
    assert.equal((await backend.call('editVm', { id: 'a', changes: { cdrom: iso } })).ok, true);
    assert.deepEqual(touched.slice(0, 2), [`setCdrom a ${iso}`, 'setCdrom a null']);
    assert.match(touched[2], /^edit a \{"cdrom":".*ok\.iso"\}$/);
    // --allow widens it to one more folder, and only that one.
    const isos = join(dir, 'isos');
    mkdirSync(isos);
    writeFileSync(join(isos, 'b.iso'), 'iso');
    assert.equal(await backend.call('setCdrom', { id: 'a', path: join(isos, 'b.iso') }).then((r) => !r.ok && r.code), 'path-not-allowed');
    const widened = new LocalBackend(sessions, { allow: [isos] });
    assert.equal((await widened.call('setCdrom', { id: 'a', path: join(isos, 'b.iso') })).ok, true);
    assert.equal(await widened.call('setCdrom', { id: 'a', path: '/etc/passwd' }).then((r) => !r.ok && r.code), 'path-not-allowed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diagnostics: the doctor lines through call(), each id once in kju doctor order; arguments refused', async () => {
  const backend = new LocalBackend(fakeSessions(async () => ({ summary: vm })).sessions);
  const saved = process.env.KJU_ACCEL;
  process.env.KJU_ACCEL = 'tcg'; // forced: no accelerator probe from a unit test
  try {
    const r = await backend.call('diagnostics', {});
    assert.equal(r.ok, true);
    const lines = r.ok ? r.value : [];
    assert.deepEqual(
      lines.map((l) => l.id),
      ['qemu', 'display', 'accelerator', 'uefi', 'swtpm', ...(dropsPrivileges() ? ['qemu-user'] : []), 'libvirt', 'electron', 'library', 'runtime-dir'],
    );
    for (const l of lines) assert.ok(['OK', 'WARN', 'FAIL'].includes(l.status) && l.summary.length > 0, JSON.stringify(l));
    const accel = lines.find((l) => l.id === 'accelerator')!;
    assert.equal(accel.status, 'OK');
    assert.match(accel.summary, /TCG, forced by KJU_ACCEL=tcg/);
  } finally {
    if (saved === undefined) delete process.env.KJU_ACCEL;
    else process.env.KJU_ACCEL = saved;
  }
  const call = backend.call as (m: string, a: unknown) => Promise<{ ok: boolean; code?: string }>;
  assert.equal((await call('diagnostics', { recheck: true })).code, 'bad-args');
});

test("editVm hands the display device to the library as config.json's `display`; presets carry it as displayDevice", async () => {
  const edits: unknown[] = [];
  const sessions = {
    list: async () => [vm],
    listenerCount: () => 0,
    library: { get: async () => ({ dir: '/nowhere', config: { id: 'a', name: 'A' } }), edit: async (_id: string, c: unknown) => void edits.push(c) },
  } as unknown as SessionManager;
  const backend = new LocalBackend(sessions);
  assert.deepEqual(await backend.call('editVm', { id: 'a', changes: { displayDevice: 'qxl', cpus: 2 } }), { ok: true, value: vm });
  assert.deepEqual(edits, [{ cpus: 2, display: 'qxl' }]);
  const presets = await backend.call('presets', {});
  assert.ok(presets.ok);
  assert.deepEqual(
    presets.value.map((p) => [p.id, p.displayDevice]),
    [
      ['linux', 'virtio-vga'],
      ['windows', 'std'],
      ['dos', 'std'],
      ['bsd', 'virtio-vga'],
      ['other', 'std'],
    ],
  );
});

test('shared folders from a front end are confined folders; forwards and USB go to the running VM through the session manager', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-backend-links-'));
  try {
    const lib = join(dir, 'library');
    const share = join(lib, 'share');
    mkdirSync(share, { recursive: true });
    writeFileSync(join(lib, 'file.txt'), 'x');
    const touched: string[] = [];
    const fwd = { proto: 'tcp' as const, hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 };
    const sessions = {
      list: async () => [vm],
      listenerCount: () => 0,
      library: {
        root: lib,
        get: async (id: string) => ({ config: { id, name: 'A' }, dir: join(lib, 'A.kju') }),
        edit: async (id: string, c: unknown) => void touched.push(`edit ${id} ${JSON.stringify(c)}`),
      },
      forward: async (id: string, p: { op: string }) => (touched.push(`forward ${id} ${JSON.stringify(p)}`), { forwards: p.op === 'remove' ? [] : [fwd] }),
      usb: async (id: string, p: { op: string; device?: string }) => (
        touched.push(`usb ${id} ${JSON.stringify(p)}`),
        p.op === 'detach' ? { attached: [], removed: false } : { attached: p.op === 'attach' ? ['1-2'] : [] }
      ),
    } as unknown as SessionManager;
    const backend = new LocalBackend(sessions);
    for (const path of ['/etc', join(lib, 'file.txt'), '/dev', join(lib, 'missing')]) {
      const r = await backend.call('editVm', { id: 'a', changes: { shares: [{ path, readOnly: false }] } });
      assert.equal(r.ok, false, path);
      assert.ok(!r.ok && ['path-not-allowed', 'missing-file'].includes(r.code), `${path}: ${JSON.stringify(r)}`);
    }
    const c = await backend.call('createVm', { name: 'x', preset: 'linux', memoryMiB: 128, cpus: 1, disk: { kind: 'none' }, shares: [{ path: '/etc', readOnly: true }] });
    assert.equal(!c.ok && c.code, 'path-not-allowed');
    assert.deepEqual(touched, []);
    assert.equal((await backend.call('editVm', { id: 'a', changes: { shares: [{ path: share, readOnly: true }], forwards: [fwd] } })).ok, true);
    assert.equal(touched.pop(), `edit a ${JSON.stringify({ shares: [{ path: share, readOnly: true }], forwards: [fwd] })}`);

    assert.deepEqual(await backend.call('listForwards', { id: 'a' }), { ok: true, value: [fwd] });
    assert.deepEqual(await backend.call('addForward', { id: 'a', forward: fwd }), { ok: true, value: [fwd] });
    assert.deepEqual(await backend.call('removeForward', { id: 'a', forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080 } }), { ok: true, value: [] });
    assert.deepEqual(await backend.call('attachUsb', { id: 'a', device: '1-2' }), { ok: true, value: ['1-2'] });
    assert.deepEqual(await backend.call('detachUsb', { id: 'a', device: '046d:c52b' }), { ok: true, value: { removed: false, attached: [] } });
    assert.deepEqual(await backend.call('attachedUsb', { id: 'a' }), { ok: true, value: [] });
    assert.deepEqual(touched, [
      'forward a {"op":"list"}',
      `forward a ${JSON.stringify({ op: 'add', forward: fwd })}`,
      'forward a {"op":"remove","forward":{"proto":"tcp","hostAddr":"127.0.0.1","hostPort":8080}}',
      'usb a {"op":"attach","device":"1-2"}',
      'usb a {"op":"detach","device":"046d:c52b"}',
      'usb a {"op":"list"}',
    ]);
    const hostUsb = await backend.call('listHostUsb', {});
    assert.equal(hostUsb.ok, true);
    for (const d of hostUsb.ok ? hostUsb.value : []) assert.ok(/^[0-9a-f]{4}$/.test(d.vendorId) && !('devnum' in d), JSON.stringify(d));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('editVm: kernel, initrd and append set and removed, kernel paths confined; a refusal names its field, not config.json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-backend-edit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { Library, toVmSummary } = await import('../library/library.js');
  const { createVm } = await import('../library/vm-create.js');
  const library = new Library(join(dir, 'library'), { host: { cpus: 4, memoryMiB: 8192 } });
  await createVm(library, { name: 'K', preset: 'other', diskSize: null, memoryMiB: 64, cpus: 1, display: 'std' });
  const sessions = { list: async () => (await library.list()).map(toVmSummary), listenerCount: () => 0, library } as unknown as SessionManager;
  const backend = new LocalBackend(sessions, { allow: [dir] });
  const kernel = join(dir, 'vmlinuz');
  const initrd = join(dir, 'initrd.img');
  writeFileSync(kernel, 'k');
  writeFileSync(initrd, 'i');

  const set = await backend.call('editVm', { id: 'K', changes: { kernel, initrd, append: 'console=ttyS0' } });
  assert.ok(set.ok, JSON.stringify(set));
  assert.deepEqual([set.value.kernel, set.value.initrd, set.value.append], [kernel, initrd, 'console=ttyS0'], 'the summary carries them');

  const outside = await backend.call('editVm', { id: 'K', changes: { kernel: '/etc/passwd' } });
  assert.deepEqual(!outside.ok && [outside.code, outside.field], ['path-not-allowed', 'kernel']);
  const missing = await backend.call('editVm', { id: 'K', changes: { initrd: join(dir, 'gone.img') } });
  assert.deepEqual(!missing.ok && [missing.code, missing.field], ['missing-file', 'initrd']);
  assert.match(!missing.ok ? missing.message : '', /the initrd .*gone\.img does not exist/);
  const heads = await backend.call('editVm', { id: 'K', changes: { displays: 2 } });
  assert.deepEqual(!heads.ok && [heads.code, heads.field], ['invalid-argument', 'displays']);
  assert.doesNotMatch(!heads.ok ? heads.message : '', /config\.json/, 'the file is fine; the change is refused');
  const memory = await backend.call('editVm', { id: 'K', changes: { memoryMiB: 9000 } });
  assert.deepEqual(!memory.ok && [memory.code, memory.field], ['host-limit', 'memoryMiB']);

  const removed = await backend.call('editVm', { id: 'K', changes: { kernel: null, initrd: null, append: null } });
  assert.ok(removed.ok, JSON.stringify(removed));
  assert.deepEqual([removed.value.kernel, removed.value.initrd, removed.value.append], [undefined, undefined, undefined]);
  const config = (await library.get('K')).config;
  assert.ok(!('kernel' in config) && !('append' in config), 'the fields are gone from the config');

  assert.deepEqual(await backend.call('checkHostPath', { path: kernel, kind: 'kernel' }), { ok: true, value: { path: kernel } });
  const gone = await backend.call('checkHostPath', { path: join(dir, 'no.iso'), kind: 'iso' });
  assert.equal(!gone.ok && gone.code, 'missing-file');
  assert.match(!gone.ok ? gone.message : '', /^the ISO .*no\.iso does not exist$/);
  assert.equal(await backend.call('checkHostPath', { path: '/etc/passwd', kind: 'iso' }).then((r) => !r.ok && r.code), 'path-not-allowed');
});

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { electronBinary, findOnPath, freeBytes, libraryLine, libvirtLine, qemuUserLine, runtimeDirLine } from './diagnostics.js';

const tmp = mkdtempSync(join(tmpdir(), 'kju-diagnostics-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const GiB = 1024 ** 3;

test('library line: free space thresholds, a library not created yet is measured at its parent', () => {
  const env = { KJU_LIBRARY: join(tmp, 'lib') };
  const at = (bytes: number) => () => ({ bytes, at: tmp });
  assert.equal(libraryLine(env, at(50 * GiB)).status, 'OK');
  assert.match(libraryLine(env, at(50 * GiB)).summary, /lib \(not created yet; measured at .*\): 50\.0 GiB free$/);
  assert.equal(libraryLine(env, at(5 * GiB)).status, 'WARN');
  assert.equal(libraryLine(env, at(0.5 * GiB)).status, 'FAIL');
  assert.ok(libraryLine(env, at(0.5 * GiB)).fix);
  const real = freeBytes(join(tmp, 'lib', 'deeper'));
  assert.equal(real.at, tmp);
  assert.ok(real.bytes > 0);
});

test('QEMU user line (kju as root): there and unprivileged, missing (the useradd fix), root itself', () => {
  const passwd = join(tmp, 'passwd');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\nkju-qemu:x:999:995::/nonexistent:/usr/sbin/nologin\n');
  const ok = qemuUserLine({}, passwd);
  assert.equal(ok.status, 'OK');
  assert.match(ok.summary, /QEMU and swtpm run as the unprivileged user "kju-qemu" \(uid 999\)/);
  const missing = qemuUserLine({ KJU_QEMU_USER: 'nobody-here' }, passwd);
  assert.equal(missing.status, 'FAIL');
  assert.match(missing.fix!, /^useradd --system --no-create-home --shell \/usr\/sbin\/nologin nobody-here/);
  assert.equal(qemuUserLine({ KJU_QEMU_USER: 'root' }, passwd).status, 'FAIL');
});

test('runtime dir line: not created, ours 0700, wrong mode, a file in the way', () => {
  const env = { XDG_RUNTIME_DIR: join(tmp, 'rt') };
  assert.match(runtimeDirLine(env).summary, /not created yet/);
  assert.equal(runtimeDirLine(env).status, 'OK');
  mkdirSync(join(tmp, 'rt', 'kju'), { recursive: true, mode: 0o700 });
  chmodSync(join(tmp, 'rt', 'kju'), 0o700);
  assert.deepEqual(runtimeDirLine(env), { id: 'runtime-dir', status: 'OK', summary: `runtime dir ${join(tmp, 'rt', 'kju')}: yours, mode 700` });
  chmodSync(join(tmp, 'rt', 'kju'), 0o755);
  assert.equal(runtimeDirLine(env).status, 'WARN');
  assert.match(runtimeDirLine(env).summary, /mode 755/);
  assert.equal(runtimeDirLine(env, 12345).status, 'FAIL', 'another uid owns it');
  const blocked = { XDG_RUNTIME_DIR: join(tmp, 'rt2') };
  mkdirSync(blocked.XDG_RUNTIME_DIR);
  writeFileSync(join(blocked.XDG_RUNTIME_DIR, 'kju'), '');
  assert.equal(runtimeDirLine(blocked).status, 'FAIL');
});

test('electron binary: found through path.txt beside the package, missing when not downloaded', () => {
  const pkg = join(tmp, 'app', 'node_modules', 'electron');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'package.json'), '{"name":"electron","main":"index.js"}');
  const from = pathToFileURL(join(tmp, 'app', 'out', 'kju.js')).href;
  assert.deepEqual(electronBinary('linux', from), { looked: join(pkg, 'dist', 'electron') });
  writeFileSync(join(pkg, 'path.txt'), 'electron-bin');
  writeFileSync(join(pkg, 'dist', 'electron-bin'), '');
  assert.equal(electronBinary('linux', from).path, join(pkg, 'dist', 'electron-bin'));
  assert.match(electronBinary('linux', pathToFileURL('/nonexistent/x.js').href).looked, /not installed/);
});

test('findOnPath: PATH order, Homebrew dirs on macOS only', () => {
  const a = join(tmp, 'a');
  const b = join(tmp, 'b');
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(join(b, 'swtpm'), '');
  assert.equal(findOnPath('swtpm', { PATH: `${a}:${b}` }, 'linux'), join(b, 'swtpm'));
  assert.equal(findOnPath('swtpm', { PATH: a }, 'linux'), undefined);
});

test('libvirt line: OK with its version, WARN with the install line where it cannot be loaded', () => {
  assert.deepEqual(
    libvirtLine('linux', () => ({ version: '11.3.0', library: 'libvirt.so.0' })),
    {
      id: 'libvirt',
      status: 'OK',
      summary: 'libvirt 11.3.0 (libvirt.so.0): kju -c qemu:///system reaches its VMs',
    },
  );
  const missing = libvirtLine('linux', () => ({ missing: 'libvirt is not installed here: libvirt.so.0: cannot open shared object file' }));
  assert.equal(missing.status, 'WARN');
  assert.match(missing.summary, /^libvirt is not installed here: .*: no libvirt connections/);
  assert.match(missing.fix!, /apt install libvirt-daemon-driver-qemu libvirt-clients/);
  assert.match(libvirtLine('darwin', () => ({ missing: 'x' })).fix!, /brew install libvirt/);
});

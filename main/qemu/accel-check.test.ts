import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Accelerator } from '../../common/contract.js';
import type { QemuBinary } from './find-qemu.js';
import { QemuNotFoundError } from './find-qemu.js';
import type { ProbeResult } from './accel-probe.js';
import { type AccelCheckDeps, accelCheckCacheFile, checkAccelerator, fallbackNotice, readAccelCheck } from './accel-check.js';

const root = mkdtempSync(join(tmpdir(), 'kju-accel-check-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const qemu10: QemuBinary = {
  path: '/usr/bin/qemu-system-x86_64',
  version: { major: 10, minor: 0, micro: 2 },
  versionText: 'QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)',
  sharedMemoryDisplay: true,
  warnings: [],
};
const qemu10_1: QemuBinary = { ...qemu10, version: { major: 10, minor: 1, micro: 0 }, versionText: 'QEMU emulator version 10.1.0' };

const passing: ProbeResult = { works: true, reason: 'a test guest reached 64-bit mode and took a timer interrupt in 60 ms', steps: 'RPGLI', elapsedMs: 60 };
const hanging: ProbeResult = {
  works: false,
  reason: 'no result within 3000 ms: the guest reached real mode and stopped before protected mode',
  steps: 'R',
  elapsedMs: 3004,
};

/** A fresh cache file and a probe that records its calls and answers `result`. */
function setup(result: ProbeResult, over: Partial<AccelCheckDeps> = {}) {
  const cacheFile = join(root, `case-${++n}`, 'kju', 'accel-check.json');
  const calls: Array<[string, Accelerator]> = [];
  const deps: AccelCheckDeps = {
    offered: () => 'kvm',
    findQemu: async () => qemu10,
    probe: async (path, accel) => (calls.push([path, accel]), result),
    kernelRelease: '6.1.0-57-amd64',
    cacheFile,
    now: () => new Date('2026-11-30T12:00:00Z'),
    ...over,
  };
  return { cacheFile, calls, deps };
}
const env = { PATH: '/usr/bin' };

test('probe passes: the offered accelerator is used, no notice, the result is cached with its key', async () => {
  const { cacheFile, calls, deps } = setup(passing);
  const c = await checkAccelerator({ env }, deps);
  assert.equal(c.accel, 'kvm');
  assert.equal(c.source, 'probe');
  assert.equal(c.notice, undefined);
  assert.equal(c.warning, undefined);
  assert.deepEqual(calls, [[qemu10.path, 'kvm']]);
  const saved = JSON.parse(readFileSync(cacheFile, 'utf8'));
  assert.deepEqual(saved, {
    key: { qemuPath: qemu10.path, qemuVersion: qemu10.versionText, kernelRelease: '6.1.0-57-amd64', accel: 'kvm' },
    works: true,
    reason: passing.reason,
    checkedAt: '2026-11-30T12:00:00.000Z',
    probeMs: 60,
  });
  assert.deepEqual(readAccelCheck(cacheFile), saved);
});

test('probe hangs past its deadline: TCG, with the plain notice and the reason kept', async () => {
  const { cacheFile, deps } = setup(hanging);
  const c = await checkAccelerator({ env }, deps);
  assert.equal(c.accel, 'tcg');
  assert.equal(c.source, 'probe');
  assert.equal(c.notice, 'KVM is present but does not run guests here (nested virtualization?); using software emulation, which is slower');
  assert.equal(c.check?.reason, hanging.reason);
  assert.equal(readAccelCheck(cacheFile)?.works, false);
});

test('HVF has its own notice (no nested-virtualization guess)', async () => {
  const { deps } = setup(hanging, { offered: () => 'hvf' });
  const c = await checkAccelerator({ env }, deps);
  assert.equal(c.accel, 'tcg');
  assert.equal(c.notice, fallbackNotice('hvf'));
  assert.match(c.notice!, /^HVF is present but does not run guests here; using software emulation/);
});

test('QEMU missing: not checked, the offered accelerator stands, nothing cached, the reason given', async () => {
  const { cacheFile, calls, deps } = setup(passing, {
    findQemu: async () => {
      throw new QemuNotFoundError('QEMU not found: qemu-system-x86_64 is not on PATH; install it');
    },
  });
  const c = await checkAccelerator({ env }, deps);
  assert.equal(c.accel, 'kvm');
  assert.equal(c.source, 'unchecked');
  assert.match(c.warning!, /KVM was not checked: QEMU not found/);
  assert.equal(calls.length, 0);
  assert.equal(existsSync(cacheFile), false);
});

test('a cached result is reused without probing (pass and fail)', async () => {
  for (const result of [passing, hanging]) {
    const { calls, deps } = setup(result);
    const first = await checkAccelerator({ env }, deps);
    const second = await checkAccelerator({ env }, { ...deps, probe: async () => assert.fail('probed again') });
    assert.equal(calls.length, 1);
    assert.equal(second.source, 'cache');
    assert.equal(second.accel, first.accel);
    assert.equal(second.notice, first.notice);
    assert.equal(second.check?.reason, result.reason);
  }
});

test('the cache goes stale when the QEMU version, its path, the kernel or the offered accelerator changes', async () => {
  const { cacheFile, calls, deps } = setup(hanging);
  await checkAccelerator({ env }, deps);
  assert.equal(calls.length, 1);
  const changes: Array<[string, Partial<AccelCheckDeps>]> = [
    ['QEMU version', { findQemu: async () => qemu10_1 }],
    ['QEMU path', { findQemu: async () => ({ ...qemu10, path: '/opt/qemu/bin/qemu-system-x86_64' }) }],
    ['kernel', { kernelRelease: '6.12.9-amd64' }],
    ['accelerator', { offered: () => 'hvf' }],
  ];
  let probes = 1;
  for (const [what, change] of changes) {
    const c = await checkAccelerator({ env }, { ...deps, ...change, probe: async (p, a) => (calls.push([p, a]), passing) });
    assert.equal(calls.length, ++probes, `${what} changed: probed again`);
    assert.equal(c.source, 'probe', what);
    assert.equal(c.notice, undefined, what);
    // the newest check replaced the old one
    assert.equal(readAccelCheck(cacheFile)?.works, true, what);
    await checkAccelerator({ env }, { ...deps, probe: async (p, a) => (calls.push([p, a]), hanging) });
    probes++;
  }
  // with a QEMU given by the caller (launchQemu passes the one it found), its version is the key
  const given = await checkAccelerator({ env, qemu: qemu10 }, { ...deps, findQemu: async () => assert.fail('not looked up') });
  assert.equal(given.source, 'cache');
});

test('a corrupt cache file or --recheck probes again', async () => {
  const { cacheFile, calls, deps } = setup(passing);
  mkdirSync(join(cacheFile, '..'), { recursive: true });
  writeFileSync(cacheFile, '{"key": "not a key"');
  assert.equal((await checkAccelerator({ env }, deps)).source, 'probe');
  assert.equal((await checkAccelerator({ env }, deps)).source, 'cache');
  assert.equal((await checkAccelerator({ env, recheck: true }, deps)).source, 'probe');
  assert.equal(calls.length, 2);
});

test('KJU_ACCEL overrides everything and skips the probe', async () => {
  for (const forced of ['tcg', 'kvm', 'hvf'] as const) {
    const { calls, cacheFile, deps } = setup(hanging, { offered: () => assert.fail('offered() asked'), findQemu: async () => assert.fail('QEMU looked up') });
    const c = await checkAccelerator({ env: { ...env, KJU_ACCEL: forced } }, deps);
    assert.deepEqual(c, { accel: forced, source: 'KJU_ACCEL' });
    assert.equal(calls.length, 0);
    assert.equal(existsSync(cacheFile), false);
  }
});

test('no accelerator offered: TCG without a probe or a notice', async () => {
  const { calls, deps } = setup(passing, { offered: () => 'tcg' });
  assert.deepEqual(await checkAccelerator({ env }, deps), { accel: 'tcg', source: 'no-accelerator' });
  assert.equal(calls.length, 0);
});

test('an unwritable cache dir: the decision stands, with a warning; the next call probes again', async () => {
  const blocker = join(root, `blocker-${++n}`);
  writeFileSync(blocker, 'a file where the cache dir should be');
  const { calls, deps } = setup(hanging, { cacheFile: join(blocker, 'kju', 'accel-check.json') });
  const c = await checkAccelerator({ env }, deps);
  assert.equal(c.accel, 'tcg');
  assert.equal(c.notice, fallbackNotice('kvm'));
  assert.match(c.warning!, /could not be saved \(.*(ENOTDIR|EEXIST).*\); it runs again next time/);
  await checkAccelerator({ env }, deps);
  assert.equal(calls.length, 2);
});

test('cache file location: KJU_CACHE, XDG_CACHE_HOME, ~/.cache', () => {
  assert.equal(accelCheckCacheFile({ KJU_CACHE: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' }), '/c/accel-check.json');
  assert.equal(accelCheckCacheFile({ XDG_CACHE_HOME: '/x', HOME: '/h' }), '/x/kju/accel-check.json');
  assert.equal(accelCheckCacheFile({ HOME: '/h' }), '/h/.cache/kju/accel-check.json');
});

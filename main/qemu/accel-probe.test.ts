// The probe's image and its process handling, with fake QEMUs (shell scripts); the real guest runs
// in accel-probe.integration.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PROBE_SOURCE_SHA256 } from './accel-probe-image.generated.js';
import { probeArgv, probeImage, runAccelProbe } from './accel-probe.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kju-accel-probe-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function fakeQemu(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the generated image matches accel-probe.S (sha256; reassembled when binutils are here)', (t) => {
  const source = readFileSync(join(root, 'main/qemu/accel-probe.S'));
  assert.equal(createHash('sha256').update(source).digest('hex'), PROBE_SOURCE_SHA256, 'accel-probe.S changed: run node scripts/gen-accel-probe.mjs');
  try {
    execFileSync('as', ['--version'], { stdio: 'ignore' });
  } catch {
    t.diagnostic('GNU as not found: the image was not reassembled');
    return;
  }
  const out = execFileSync('node', [join(root, 'scripts/gen-accel-probe.mjs'), '--check'], { encoding: 'utf8' });
  assert.match(out, /is up to date/);
});

test('the image: 64 KiB, the reset vector jumps to the code at offset 0, which starts with cli', () => {
  const image = probeImage();
  assert.equal(image.length, 0x10000);
  assert.equal(image[0xfff0], 0xe9, 'jmp rel16 at the reset vector');
  const target = (0xfff3 + (image[0xfff1]! | (image[0xfff2]! << 8))) & 0xffff;
  assert.equal(target, 0);
  assert.equal(image[0], 0xfa);
  assert.ok(
    image.subarray(0x400, 0xfff0).every((b) => b === 0),
    'code fits in the first KiB',
  );
});

test('the probe runs with the accelerator arguments of a launch (-cpu host off TCG)', () => {
  const kvm = probeArgv('/x/probe.bin', 'kvm');
  assert.deepEqual(kvm.slice(kvm.indexOf('-accel'), kvm.indexOf('-accel') + 4), ['-accel', 'kvm', '-cpu', 'host']);
  const tcg = probeArgv('/x/probe.bin', 'tcg');
  assert.equal(tcg.includes('-cpu'), false);
  assert.deepEqual(tcg.slice(tcg.indexOf('-bios'), tcg.indexOf('-bios') + 2), ['-bios', '/x/probe.bin']);
});

test('a guest that hangs: a definite failure at the deadline, QEMU killed, temp dir gone', async () => {
  const pidFile = join(dir, 'hang.pid');
  const qemu = fakeQemu('hang', `echo $$ > ${pidFile}\nprintf R\nexec sleep 60`);
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  const r = await runAccelProbe(qemu, 'kvm', { deadlineMs: 400, tmpDir: tmp });
  assert.equal(r.works, false);
  assert.equal(r.steps, 'R');
  assert.equal(r.reason, 'no result within 400 ms: the guest reached real mode and stopped before protected mode');
  assert.ok(r.elapsedMs >= 400 && r.elapsedMs < 2000, `returned after ${r.elapsedMs} ms`);
  assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false, 'the hung QEMU is gone');
  assert.deepEqual(readdirSync(tmp), []);
});

test('a guest that passes every step and exits through isa-debug-exit', async () => {
  const qemu = fakeQemu('pass', 'for a in "$@"; do [ "$prev" = -bios ] && [ -s "$a" ] && printf RPGLI && exit 67; prev=$a; done; exit 1');
  const r = await runAccelProbe(qemu, 'kvm');
  assert.equal(r.works, true, r.reason);
  assert.equal(r.steps, 'RPGLI');
  assert.match(r.reason, /reached 64-bit mode and took a timer interrupt/);
});

test('the pass needs both the exit status and every step', async () => {
  const r = await runAccelProbe(fakeQemu('partial', 'printf RPG; exit 67'), 'kvm');
  assert.equal(r.works, false);
  assert.match(r.reason, /^QEMU exited with status 67 after \d+ ms \(the guest reached paging with long mode enabled and stopped before 64-bit code\)$/);
});

test('QEMU that aborts: its exit and last stderr lines are the reason', async () => {
  const qemu = fakeQemu('abort', `echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069' >&2\necho 'Assertion failed.' >&2\nkill -ABRT $$`);
  const r = await runAccelProbe(qemu, 'kvm');
  assert.equal(r.works, false);
  assert.match(r.reason, /^QEMU was killed by SIGABRT after \d+ ms \(the guest printed nothing\): qemu-system-x86_64: error: failed to set MSR 0x10a to 0xc000069 \/ Assertion failed\.$/);
});

test('a QEMU that cannot be run', async () => {
  const r = await runAccelProbe(join(dir, 'no-such-qemu'), 'tcg');
  assert.equal(r.works, false);
  assert.match(r.reason, /^cannot run .*no-such-qemu: .*ENOENT/);
});

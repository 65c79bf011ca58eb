// Integration (real QEMU under TCG, real swtpm, the demo guest, a temp library, the CLI): a VM made
// with --tpm has a TPM 2.0 the guest kernel finds, a PCR extended in the guest keeps its value
// across suspend to disk and resume and comes back with a snapshot revert, and swtpm never outlives QEMU.
import assert from 'node:assert/strict';
import { pidsOf as pidsOfTest } from '../testing/test-processes.js';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest, type DemoGuest } from '../testing/guest.js';
import { kjuScratch } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';

const s = kjuScratch('kju-tpm');
const { ok, runtimeDirOf, dir: scratch } = s;
const pidsOf = (program: 'qemu-system' | 'swtpm'): number[] => pidsOfTest(program, scratch);
/** the real uid of a process, from /proc/<pid>/status */
function uidOf(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}
async function gone(program: 'qemu-system' | 'swtpm', ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pidsOf(program).length) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/**
 * TPM2_PCR_Extend(PCR 16, sha256 = 32 × 0x5a) with an empty password session, as octal escapes for
 * the guest's busybox printf: the guest has no tpm2-tools, so the command is written to /dev/tpm0 raw.
 */
function pcrExtendCommand(): string {
  const body = [
    0x80,
    0x02,
    0,
    0,
    0,
    65,
    0,
    0,
    0x01,
    0x82, // TPM_ST_SESSIONS, size 65, TPM_CC_PCR_Extend
    0,
    0,
    0,
    16, // PCR 16 (the debug PCR)
    0,
    0,
    0,
    9,
    0x40,
    0,
    0,
    9,
    0,
    0,
    0,
    0,
    0, // auth area: TPM_RS_PW, no nonce, no attributes, empty password
    0,
    0,
    0,
    1,
    0,
    0x0b,
    ...new Array(32).fill(0x5a), // one digest, TPM_ALG_SHA256
  ];
  assert.equal(body.length, 65);
  return body.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

let guest: DemoGuest;

describe('integration: TPM 2.0 (swtpm)', () => {
  before(async () => {
    guest = await ensureDemoGuest();
  });
  after(() => {
    for (const pid of [...pidsOf('qemu-system'), ...pidsOf('swtpm')]) process.kill(pid, 'SIGKILL');
    s.remove();
  });

  test('the guest sees tpm0; a PCR extended before suspend reads the same after resume and after a snapshot revert; swtpm dies with QEMU', async () => {
    const created = JSON.parse(
      ok('create', 'Tpm', '--memory', '256', '--cpus', '1', '--nic', 'none', '--disk-size', '64M', '--kernel', guest.kernel, '--initrd', guest.initrd, '--append', guest.append, '--tpm', '--json'),
    ) as { bundle: string; config: { tpm?: boolean } };
    assert.equal(created.config.tpm, true);
    ok('start', 'Tpm');
    assert.equal(pidsOf('swtpm').length, 1, 'one swtpm runs beside QEMU');
    if (process.geteuid?.() === 0) assert.notEqual(uidOf(pidsOf('swtpm')[0]), 0, 'kju runs as root: swtpm runs as the unprivileged QEMU user');
    const rt = runtimeDirOf('Tpm');
    assert.ok(existsSync(rt.tpmSocket), 'swtpm socket is in the private runtime dir');

    let serial = await SerialConsole.connect(rt.serialSocket);
    serial.write('\n');
    await serial.waitFor(/kju# /, 120_000);
    assert.equal((await serial.run('cat /sys/class/tpm/tpm0/tpm_version_major')).trim(), '2');
    const zero = '0'.repeat(64);
    assert.equal((await serial.run('cat /sys/class/tpm/tpm0/pcr-sha256/16')).trim().toLowerCase(), zero);
    await serial.run(`printf '${pcrExtendCommand()}' > /dev/tpm0`);
    const extended = (await serial.run('cat /sys/class/tpm/tpm0/pcr-sha256/16')).trim().toLowerCase();
    assert.match(extended, /^[0-9a-f]{64}$/);
    assert.notEqual(extended, zero, 'the extend changed PCR 16');
    serial.close();
    // the state swtpm keeps in the bundle
    assert.ok(
      readdirSync(join(created.bundle, 'tpm')).some((f) => f.startsWith('tpm2-')),
      'swtpm wrote its state into the bundle',
    );

    ok('suspend', 'Tpm');
    assert.ok(await gone('qemu-system'), 'QEMU quit on suspend');
    assert.ok(await gone('swtpm'), 'swtpm ended with QEMU (--terminate)');

    ok('resume', 'Tpm');
    assert.equal(pidsOf('swtpm').length, 1);
    serial = await SerialConsole.connect(rt.serialSocket);
    serial.write('\n');
    assert.equal((await serial.run('cat /sys/class/tpm/tpm0/pcr-sha256/16')).trim().toLowerCase(), extended, 'PCR 16 survived suspend/resume');

    // snapshots: the TPM state is part of a live snapshot, so a revert brings PCR 16 back too
    ok('snapshot', 'create', 'Tpm', 'one');
    await serial.run(`printf '${pcrExtendCommand()}' > /dev/tpm0`);
    const twice = (await serial.run('cat /sys/class/tpm/tpm0/pcr-sha256/16')).trim().toLowerCase();
    assert.notEqual(twice, extended, 'a second extend changed PCR 16 again');
    serial.close();
    ok('snapshot', 'revert', 'Tpm', 'one');
    serial = await SerialConsole.connect(rt.serialSocket);
    serial.write('\n');
    assert.equal((await serial.run('cat /sys/class/tpm/tpm0/pcr-sha256/16')).trim().toLowerCase(), extended, 'the revert restored the TPM with the snapshot');
    serial.close();

    ok('stop', 'Tpm', '--force');
    assert.ok(await gone('qemu-system'));
    assert.ok(await gone('swtpm'), 'swtpm is not left running after stop');
  });
});

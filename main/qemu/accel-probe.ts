// Runs the accelerator probe: a tiny guest (accel-probe.S) that takes the steps every 64-bit kernel
// takes first, under the accelerator and CPU model a launch would use. Runs on the Node loop.
//
// Why this probe (measured 2026-11-30 on a 2-core nested-KVM Debian 12 machine, QEMU 10.0.2,
// kernel 6.18 under Firecracker; /dev/kvm opens there but Linux never starts):
// - A reset-vector guest that only writes to isa-debug-exit passes under KVM (≈ 60 ms): real mode
//   runs, so that test proves nothing.
// - This payload under KVM with `-cpu qemu64` prints 'R' and hangs in the far jump into protected
//   mode until the deadline; the demo kernel behaves the same (its real-mode "Probing EDD" line
//   appears, then nothing), so the payload fails where Linux fails, without needing a kernel.
// - With `-cpu host` (what launches use on KVM) QEMU aborts after ≈ 50 ms ("failed to set MSR
//   0x10a"), which the probe reports as QEMU's exit: the probe must use the launch's CPU model.
// - Under TCG the payload passes in 30-100 ms; the demo kernel takes ≈ 3 s under TCG to print its
//   first protected-mode line ("Linux version"), and /boot holds no kernel on such machines.
// The timer interrupt step ('I') also proves interrupt delivery and hlt wake-up, which a kernel
// needs next. The deadline is ~30x a passing run under load, so a busy machine does not fail it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accelerator } from '../../common/contract.js';
import { acceleratorArgs } from './build-argv.js';
import { PROBE_CODE_HEX, PROBE_IMAGE_SIZE, PROBE_RESET_OFFSET, PROBE_RESET_VECTOR_HEX } from './accel-probe-image.generated.js';

export interface ProbeResult {
  /** The guest reached the end: 64-bit mode with paging, and a timer interrupt arrived. */
  works: boolean;
  /** One line for people: what passed, or where and how it failed. */
  reason: string;
  /** The step letters the guest printed (see STEPS). */
  steps: string;
  elapsedMs: number;
}

export interface ProbeOptions {
  /** Default 3000 ms; QEMU is killed when it passes. */
  deadlineMs?: number;
  /** Where the private temp dir for the image goes; default os.tmpdir(). */
  tmpDir?: string;
  /** Appended to the probe's arguments (a later -cpu wins: tests try another CPU model). */
  extraArgs?: string[];
}

export const DEFAULT_PROBE_DEADLINE_MS = 3000;
/** What each letter on the probe's serial port means, in order. */
export const STEPS: Record<string, string> = {
  R: 'real mode',
  P: 'protected mode',
  G: 'paging with long mode enabled',
  L: '64-bit code',
  I: 'a timer interrupt',
};
const ALL_STEPS = Object.keys(STEPS).join('');
/** isa-debug-exit turns the guest's 0x21 into QEMU exit status (0x21 << 1) | 1. */
const PASSED_EXIT = (0x21 << 1) | 1;

/** The 64 KiB image given to `qemu -bios`. */
export function probeImage(): Uint8Array {
  const image = new Uint8Array(PROBE_IMAGE_SIZE);
  image.set(Buffer.from(PROBE_CODE_HEX, 'hex'), 0);
  image.set(Buffer.from(PROBE_RESET_VECTOR_HEX, 'hex'), PROBE_RESET_OFFSET);
  return image;
}

/** QEMU arguments for the probe; the accelerator's own arguments are the ones launches use. */
export function probeArgv(imagePath: string, accel: Accelerator): string[] {
  return [
    '-nodefaults',
    '-no-user-config',
    '-no-reboot',
    '-machine',
    'q35',
    ...acceleratorArgs(accel),
    '-m',
    '16M',
    '-smp',
    '1',
    '-display',
    'none',
    '-bios',
    imagePath,
    '-device',
    'isa-debug-exit',
    '-serial',
    'stdio',
  ];
}

function describeStop(steps: string): string {
  const last = steps.at(-1);
  if (!last) return 'the guest printed nothing';
  const next = ALL_STEPS[ALL_STEPS.indexOf(last) + 1];
  return next ? `the guest reached ${STEPS[last]} and stopped before ${STEPS[next]}` : `the guest reached ${STEPS[last]}`;
}

/**
 * Boots the probe guest under `accel` and resolves with a definite result within the deadline
 * (plus QEMU's teardown). Never rejects; QEMU is always killed and the temp dir removed before it
 * resolves. `qemuPath` is the binary launches use.
 */
export async function runAccelProbe(qemuPath: string, accel: Accelerator, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_PROBE_DEADLINE_MS;
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  let dir: string;
  try {
    dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'kju-accel-probe-')); // mode 0700
    writeFileSync(join(dir, 'probe.bin'), probeImage(), { mode: 0o600 });
  } catch (err) {
    return { works: false, reason: `cannot write the probe image: ${(err as Error).message}`, steps: '', elapsedMs: elapsed() };
  }
  try {
    return await new Promise<ProbeResult>((resolve) => {
      const child = spawn(qemuPath, [...probeArgv(join(dir, 'probe.bin'), accel), ...(opts.extraArgs ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
      let steps = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.setEncoding('latin1').on('data', (s: string) => (steps += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
      // A probe that outlives kju would spin a core forever: kill it if this process exits first.
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, deadlineMs);
      const finish = (r: Omit<ProbeResult, 'elapsedMs' | 'steps'>) => {
        clearTimeout(timer);
        process.removeListener('exit', killOnExit);
        resolve({ ...r, steps, elapsedMs: elapsed() });
      };
      child.once('error', (err) => finish({ works: false, reason: `cannot run ${qemuPath}: ${err.message}` }));
      child.once('close', (code, signal) => {
        if (timedOut) return finish({ works: false, reason: `no result within ${deadlineMs} ms: ${describeStop(steps)}` });
        if (code === PASSED_EXIT && steps.includes(ALL_STEPS)) return finish({ works: true, reason: `a test guest reached 64-bit mode and took a timer interrupt in ${elapsed()} ms` });
        const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        const said = stderr.trim().split('\n').filter(Boolean).slice(-2).join(' / ');
        finish({ works: false, reason: `QEMU ${how} after ${elapsed()} ms (${describeStop(steps)})${said ? `: ${said}` : ''}` });
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

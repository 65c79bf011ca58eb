// Every kju error class through both mappings: the backend's Result (main/backend/failure.ts) and
// the CLI's text and exit code (cli-error.ts). Classes are found by scanning the source tree, so a
// new one fails this test until it has a sample below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KJU_ERROR_CODES, KjuError, type KjuErrorCode } from '../../common/errors.js';
import { toFailure } from '../backend/failure.js';
import { cliFailure, CliError, EXIT_INTERNAL } from './cli-error.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['common', 'native', 'main', 'renderer'];

/** `class X extends Y` in every non-test .ts/.tsx file under the source dirs: X → {file, base}. */
function declaredClasses(): Map<string, { file: string; base: string }> {
  const found = new Map<string, { file: string; base: string }>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'build') walk(p);
      } else if (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/\bclass\s+(\w+)(?:<[^>]*>)?\s+extends\s+(\w+)/g)) {
          found.set(m[1], { file: relative(root, p), base: m[2] });
        }
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return found;
}

/** The classes that extend KjuError directly or through another kju error class. */
function kjuErrorClasses(): Map<string, string> {
  const all = declaredClasses();
  const kju = new Map<string, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, { file, base }] of all) {
      if (!kju.has(name) && (base === 'KjuError' || kju.has(base))) {
        kju.set(name, file);
        grew = true;
      }
    }
  }
  return kju;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = new (...args: any[]) => Error;
type Sample = { make: (C: AnyClass) => Error; code: KjuErrorCode; exit?: number; hint?: RegExp };

/** One or more instances per class, made with the class's real constructor, and the code each must map to. */
const SAMPLES: Record<string, Sample[]> = {
  FramePacketError: [{ make: (C) => new C('rect 3 lies outside the surface'), code: 'bad-frame' }],
  JsonLinesError: [{ make: (C) => new C('a line is not JSON'), code: 'protocol-error' }],
  ServeError: [{ make: (C) => new C('port 8080 on 127.0.0.1 is in use: pick another with --port'), code: 'serve-failed' }],
  LibraryError: [
    { make: (C) => new C('missing-file', 'disk /x.qcow2 does not exist', '/x.qcow2'), code: 'missing-file' },
    { make: (C) => new C('in-use', 'VM "A" is running; shut it down first'), code: 'in-use' },
  ],
  RuntimeDirError: [{ make: (C) => new C('/run/user/1000/kju is not a directory'), code: 'runtime-dir-unusable' }],
  GuestLinkError: [
    { make: (C) => new C('port-in-use', 'host tcp port 8080 on 127.0.0.1 is already in use', { hint: 'pick another host port' }), code: 'port-in-use', hint: /another host port/ },
    { make: (C) => new C('invalid-argument', 'the host port in "tcp:0:80" must be a number from 1 to 65535'), code: 'invalid-argument' },
  ],
  UsbError: [
    { make: (C) => new C('usb-permission', 'cannot hand USB device 046d:c52b (1-2) to the VM: /dev/bus/usb/001/004 is mode 0664, owner uid 0, group "plugdev" (gid 46)'), code: 'usb-permission' },
    { make: (C) => new C('usb-failed', 'no host USB device 1-9 (see kju usb list)'), code: 'usb-failed' },
  ],
  VmDescriptionError: [{ make: (C) => new C('invalid VM description:\n  memoryMiB: too small'), code: 'invalid-description' }],
  QemuNotFoundError: [{ make: (C) => new C('QEMU not found: qemu-system-x86_64 is not on PATH'), code: 'qemu-not-found', hint: /install/ }],
  QemuUnsupportedError: [{ make: (C) => new C('QEMU 6.2.0 is too old', { hint: 'install QEMU ≥ 9.2' }), code: 'qemu-unsupported', hint: /install QEMU/ }],
  SwtpmMissingError: [{ make: (C) => new C('a TPM needs swtpm, which is not on PATH: install the swtpm package'), code: 'no-swtpm' }],
  QemuLaunchError: [{ make: (C) => new C('QEMU exited during startup (exit status 1)'), code: 'launch-failed' }],
  ShareProtocolError: [{ make: (C) => new C('not JSON'), code: 'protocol-error' }],
  SurfaceError: [{ make: (C) => new C('stride 10 is smaller than width*4'), code: 'bad-surface' }],
  KeyNameError: [{ make: (C) => new C('no key named "hyper"'), code: 'unknown-key' }],
  QmpProtocolError: [{ make: (C) => new C('reply with neither return nor error'), code: 'protocol-error' }],
  QmpError: [{ make: (C) => new C('stop', 'GenericError', 'not allowed'), code: 'qmp-failed' }],
  QmpClosedError: [{ make: (C) => new C('QMP connection closed'), code: 'connection-closed' }],
  QmpTimeoutError: [{ make: (C) => new C('no QMP greeting within 10 s'), code: 'timeout' }],
  QmpFdPassingError: [{ make: (C) => new C('this stream cannot carry fds'), code: 'fd-passing-unsupported' }],
  SerialCommandError: [{ make: (C) => new C('false', 1, ''), code: 'guest-command-failed' }],
  DbusCallError: [{ make: (C) => new C('org.freedesktop.DBus.Error.Failed', 'no console'), code: 'dbus-failed' }],
  DbusClosedError: [{ make: (C) => new C('the D-Bus connection closed'), code: 'connection-closed' }],
  SessionError: [
    { make: (C) => new C('not-running', 'VM "A" is not running; start it with "kju start A"'), code: 'not-running', exit: 3 },
    { make: (C) => new C('already-running', 'VM "A" is already running'), code: 'already-running', exit: 3 },
    { make: (C) => new C('no-console', 'VM "A" has 1 graphic console(s); there is no console 2'), code: 'no-console' },
    { make: (C) => new C('no-sound', 'VM "A" has no sound card; give it one with "kju edit A --sound intel-hda"'), code: 'no-sound' },
  ],
  NoOwnerError: [{ make: (C) => new C('no kju process owns this VM (ENOENT)'), code: 'no-owner' }],
  OwnerCallError: [
    { make: (C) => new C('ETIMEDOUT', "the kju process that owns this VM did not answer 'status' within 5 s"), code: 'owner-call-failed' },
    { make: (C) => new C('not-running', 'VM "A" is not running', { hint: 'kju start A' }), code: 'not-running', exit: 3, hint: /kju start/ },
  ],
  OwnerRequestError: [{ make: (C) => new C('EINVAL', 'screenshot needs an absolute path'), code: 'bad-args' }],
  VmNotRunningError: [{ make: (C) => new C("'A' is not running (start it with: kju start A, or kju run <vm.json>)"), code: 'not-running', exit: 3 }],
  VmNotFoundError: [{ make: (C) => new C('/x/vm.json: no such file'), code: 'vm-not-found' }],
  SavedStateError: [{ make: (C) => new C('disks-changed', 'the disks changed since the VM was suspended; start it with --fresh'), code: 'disks-changed' }],
  SnapshotError: [{ make: (C) => new C('not-qcow2', 'snapshots need qcow2 disks'), code: 'not-qcow2' }],
  LifecycleError: [{ make: (C) => new C('migration-failed', 'saving the VM state failed: no space left'), code: 'migration-failed' }],
  LibvirtError: [
    { make: (C) => new C('bad-connection', '"qemu:/system" is not a connection kju can use', { hint: 'write qemu:///system' }), code: 'bad-connection', hint: /qemu:\/\/\/system/ },
    { make: (C) => new C('vm-not-found', 'qemu:///system has no domain "x"'), code: 'vm-not-found' },
    { make: (C) => new C('already-running', 'domain "x" on qemu:///system is already running'), code: 'already-running', exit: 3 },
  ],
  VmBusyError: [{ make: (C) => new C('VM "A" is starting (another kju process holds it, pid 4242)'), code: 'vm-busy' }],
  NativeError: [{ make: (C) => new C('connect ENOENT: No such file or directory', 'ENOENT', 'connect'), code: 'system-error' }],
  BlitterError: [{ make: (C) => new C('WebGL2 is not available'), code: 'webgl-failed' }],
  CliError: [
    { make: (C) => new C('kju start takes one VM name', 2), code: 'usage', exit: 2 },
    { make: (C) => new C('the guest did not power off within 60 s', 3), code: 'command-failed', exit: 3 },
    { make: (C) => new C('could not connect to QEMU’s display'), code: 'command-failed', exit: 1 },
  ],
};

const noLog = () => {};

test('every class that extends KjuError has a sample, and every sample a class', async () => {
  const classes = kjuErrorClasses();
  assert.ok(classes.size >= 20, `only ${classes.size} kju error classes found: is the scan broken?`);
  const missing = [...classes.keys()].filter((c) => !SAMPLES[c]);
  assert.deepEqual(missing, [], `kju error classes without a sample in ${relative(root, fileURLToPath(import.meta.url))}: ${missing.join(', ')}`);
  const stale = Object.keys(SAMPLES).filter((c) => !classes.has(c));
  assert.deepEqual(stale, [], `samples for classes that are gone or no longer extend KjuError: ${stale.join(', ')}`);
});

test('every kju error maps to its own code in the Result and to a message and exit code in the CLI', async () => {
  for (const [name, file] of kjuErrorClasses()) {
    const mod = (await import(pathToFileURL(join(root, file)).href)) as Record<string, unknown>;
    const C = mod[name] as AnyClass | undefined;
    assert.equal(typeof C, 'function', `${name} is not exported from ${file}`);
    for (const sample of SAMPLES[name] ?? []) {
      const err = sample.make(C!);
      assert.ok(err instanceof KjuError, `${name} is not a KjuError at run time`);
      assert.equal(err.name, name, `${name}.name`);
      assert.ok((KJU_ERROR_CODES as readonly string[]).includes(err.code), `${name}: code ${err.code} is not in KJU_ERROR_CODES`);
      const what = `${name}(${err.message.split('\n')[0]})`;

      let logged = '';
      const failure = toFailure(err, 'someMethod', (t) => (logged += t));
      assert.equal(failure.code, sample.code, what);
      assert.notEqual(failure.code, 'internal', what);
      assert.equal(failure.message, err.message, what);
      assert.equal(failure.hint, err.hint, what);
      if (sample.hint) assert.match(failure.hint ?? '', sample.hint, what);
      assert.equal(logged, '', `${what}: an expected error is data, not a logged bug`);

      const cli = cliFailure(err);
      assert.notEqual(cli.exitCode, EXIT_INTERNAL, what);
      assert.equal(cli.exitCode, sample.exit ?? 1, what);
      assert.equal(cli.text, err.hint ? `kju: ${err.message}\n${err.hint}` : `kju: ${err.message}`, what);
      assert.doesNotMatch(cli.text, /^\s+at /m, `${what}: no stack trace for an expected error`);
      assert.doesNotMatch(cli.text, /internal error/, what);
    }
  }
});

test('not-running and already-running exit 3; usage exits 2 (codes, whatever the class)', () => {
  assert.equal(cliFailure(new KjuError('not-running', 'VM "A" is not running')).exitCode, 3);
  assert.equal(cliFailure(new KjuError('already-running', 'VM "A" is already running')).exitCode, 3);
  assert.equal(cliFailure(new KjuError('usage', 'name a VM')).exitCode, 2);
  assert.equal(cliFailure(new KjuError('in-use', 'VM "A" is running')).exitCode, 1);
  assert.equal(cliFailure(new CliError('x', 3)).exitCode, 3);
});

test('a plain Error is a bug: internal with its message in the Result (stack logged), 70 with the stack in the CLI', () => {
  const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
  let logged = '';
  assert.deepEqual(
    toFailure(bug, 'startVm', (t) => (logged += t)),
    { ok: false, code: 'internal', message: `startVm failed: ${bug.message}` },
  );
  assert.match(logged, /internal error in startVm: TypeError: Cannot read properties/);
  assert.match(logged, /^\s+at /m);
  assert.deepEqual(toFailure('just a string', undefined, noLog), { ok: false, code: 'internal', message: 'just a string' });
  const cli = cliFailure(bug);
  assert.equal(cli.exitCode, EXIT_INTERNAL);
  assert.match(cli.text, /^kju: internal error: TypeError: Cannot read properties/);
  assert.match(cli.text, /^\s+at /m);
});

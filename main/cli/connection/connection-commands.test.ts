// kju -c on libvirt's built-in test driver (test:///default: one running domain "test", inside the
// CLI's own process, no daemon). The QEMU driver through libvirtd: libvirt-cli.integration.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeLibvirt } from '../../libvirt/libvirt-domains.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const skip = 'missing' in probeLibvirt() ? 'libvirt is not installed here (bash scripts/setup.sh installs it)' : false;

function kju(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/kju.ts', ...args], { cwd: root, env: { ...process.env, KJU_CONNECT: '', ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('list, stop --force on test:///default; KJU_CONNECT names the connection too', { skip }, () => {
  const list = kju({}, '-c', 'test:///default', 'list');
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(list.stdout.trim().split('\n'), ['NAME  STATE', 'test  running']);
  const json = kju({ KJU_CONNECT: 'test:///default' }, 'list', '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), [{ name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', state: 'running', persistent: true }]);
  const stop = kju({}, '--connect', 'test:///default', 'stop', '--force', 'test');
  assert.deepEqual([stop.code, stop.stdout], [0, 'stopped\n'], stop.stderr);
});

test('an unknown domain and a malformed URI: one line and its fix, exit 1; a command connections lack: exit 2', { skip }, () => {
  const unknown = kju({}, '-c', 'test:///default', 'start', 'nope');
  assert.equal(unknown.code, 1);
  assert.deepEqual(unknown.stderr.trim().split('\n'), ['kju: test:///default has no domain "nope"', '"kju -c test:///default list" shows its domains']);
  const bad = kju({}, '-c', 'qemu:/system', 'list');
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.stderr.trim().split('\n'), [
    'kju: "qemu:/system" is not a connection kju can use: not a URI like qemu:///system',
    'write qemu:///system, qemu:///session or qemu+ssh://[user@]host[:port]/system',
  ]);
  const other = kju({}, '-c', 'test:///default', 'screenshot', 'test', 'x.png');
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^kju: kju screenshot does not work on a connection yet; on test:\/\/\/default kju can list, start, stop/);
});

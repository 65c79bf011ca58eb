import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../cli-error.js';
import { parseGlobalOptions } from './global-options.js';

test('-c, --connect and --connect= before the command; KJU_CONNECT when none is given', () => {
  assert.deepEqual(parseGlobalOptions(['-c', 'qemu:///system', 'list']), { connect: 'qemu:///system', rest: ['list'] });
  assert.deepEqual(parseGlobalOptions(['--connect', 'qemu:///system', 'stop', '--force', 'a']), { connect: 'qemu:///system', rest: ['stop', '--force', 'a'] });
  assert.deepEqual(parseGlobalOptions(['--connect=qemu:///session', 'list']), { connect: 'qemu:///session', rest: ['list'] });
  assert.deepEqual(parseGlobalOptions(['list', '-c', 'x'], {}), { connect: undefined, rest: ['list', '-c', 'x'] }, 'after the command they are its own');
  assert.deepEqual(parseGlobalOptions(['list'], { KJU_CONNECT: 'qemu:///system' }), { connect: 'qemu:///system', rest: ['list'] });
  assert.deepEqual(parseGlobalOptions(['-c', 'qemu:///session', 'list'], { KJU_CONNECT: 'qemu:///system' }).connect, 'qemu:///session');
  assert.deepEqual(parseGlobalOptions(['list'], { KJU_CONNECT: '' }), { connect: undefined, rest: ['list'] });
});

test('-c without its value is a usage error', () => {
  for (const argv of [['-c'], ['--connect', '--help']]) {
    assert.throws(
      () => parseGlobalOptions(argv, {}),
      (e: unknown) => e instanceof CliError && e.exitCode === 2 && /needs a connection/.test(e.message),
    );
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConnectionUri } from './connection-uri.js';
import { LibvirtError } from './libvirt-error.js';

test('libvirt URIs for the QEMU driver, local and remote, and the test driver', () => {
  assert.deepEqual(parseConnectionUri('qemu:///system'), { uri: 'qemu:///system', driver: 'qemu', host: '' });
  assert.deepEqual(parseConnectionUri('qemu:///session'), { uri: 'qemu:///session', driver: 'qemu', host: '' });
  assert.deepEqual(parseConnectionUri('qemu+ssh://root@nas:2222/system'), { uri: 'qemu+ssh://root@nas:2222/system', driver: 'qemu', transport: 'ssh', host: 'root@nas:2222' });
  assert.equal(parseConnectionUri('qemu+unix:///system?socket=/tmp/s').transport, 'unix');
  assert.equal(parseConnectionUri('test:///default').driver, 'test');
});

test('anything else is refused with what to write instead', () => {
  const cases: [string, RegExp][] = [
    ['qemu:/system', /not a URI like qemu:\/\/\/system/],
    ['qemu//system', /not a URI/],
    ['system', /not a URI/],
    ['', /not a URI/],
    ['qemu:///', /path must be \/system or \/session, not "\/"/],
    ['qemu:///sytem', /not "\/sytem"/],
    ['qemu://', /not "\(none\)"/],
    ['xen:///system', /not "xen"/],
    ['qemu+foo:///system', /no transport "foo"/],
    ['qemu+ssh:///system', /needs a host/],
    ['ssh://root@host', /kju over SSH is not available yet/],
    ['qemu:///system extra', /not a URI/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseConnectionUri(text),
      (e: unknown) => e instanceof LibvirtError && e.code === 'bad-connection' && why.test(e.message) && /qemu/.test(e.hint ?? ''),
      text,
    );
  }
});

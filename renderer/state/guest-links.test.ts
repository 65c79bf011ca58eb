import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSharePath, EMPTY_FORWARD, forwardFromDraft, forwardLabel, shareMountLine, usbBusPort, usbLabel } from './guest-links.js';

test('a forward draft becomes a forward: address default 127.0.0.1, ports 1..65535, no host port twice', () => {
  assert.deepEqual(forwardFromDraft({ ...EMPTY_FORWARD, hostPort: '8080', guestPort: '80' }, []), { forward: { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 } });
  assert.deepEqual(forwardFromDraft({ proto: 'udp', hostAddr: ' ', hostPort: '5353', guestPort: '53' }, []), { forward: { proto: 'udp', hostAddr: '127.0.0.1', hostPort: 5353, guestPort: 53 } });
  const bad: [Partial<typeof EMPTY_FORWARD>, RegExp][] = [
    [{ hostPort: '0', guestPort: '80' }, /host port/],
    [{ hostPort: '65536', guestPort: '80' }, /host port/],
    [{ hostPort: '80.5', guestPort: '80' }, /host port/],
    [{ hostPort: '8080', guestPort: '' }, /guest port/],
    [{ hostAddr: 'localhost', hostPort: '8080', guestPort: '80' }, /IPv4/],
    [{ hostAddr: '1.2.3.256', hostPort: '8080', guestPort: '80' }, /IPv4/],
  ];
  for (const [d, re] of bad) {
    const r = forwardFromDraft({ ...EMPTY_FORWARD, ...d }, []);
    assert.ok('error' in r && re.test(r.error), `${JSON.stringify(d)} → ${JSON.stringify(r)}`);
  }
  const existing = [{ proto: 'tcp' as const, hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 }];
  assert.match((forwardFromDraft({ ...EMPTY_FORWARD, hostPort: '8080', guestPort: '81' }, existing) as { error: string }).error, /already forwarded/);
  assert.match((forwardFromDraft({ ...EMPTY_FORWARD, hostAddr: '0.0.0.0', hostPort: '8080', guestPort: '81' }, existing) as { error: string }).error, /already forwarded/);
  assert.ok('forward' in forwardFromDraft({ ...EMPTY_FORWARD, proto: 'udp', hostPort: '8080', guestPort: '81' }, existing), 'udp and tcp are separate');
  assert.equal(forwardLabel(existing[0]), 'tcp 127.0.0.1:8080 → 80');
});

test('folder paths: full paths, each folder once; mount lines and USB labels', () => {
  assert.equal(checkSharePath('/home/u/Shared', []), undefined);
  assert.match(checkSharePath('', []) ?? '', /full path/);
  assert.match(checkSharePath('Shared', []) ?? '', /starts with \//);
  assert.match(checkSharePath('/home/u/Shared/', [{ path: '/home/u/Shared', readOnly: true }]) ?? '', /already shared/);
  assert.equal(shareMountLine(1), 'mount -t 9p -o trans=virtio,version=9p2000.L share1 /mnt');
  assert.equal(usbBusPort({ bus: 3, port: '1.4' }), '3-1.4');
  assert.equal(usbLabel({ vendorId: '046d', productId: 'c52b', bus: 1, port: '2', manufacturer: 'Logitech', product: 'USB Receiver' }), '046d:c52b Logitech USB Receiver');
  assert.equal(usbLabel({ vendorId: '1234', productId: '5678', bus: 1, port: '2' }), '1234:5678');
});

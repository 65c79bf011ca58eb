import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { checkForwardsDistinct, checkPortsFree, formatPortForward, GuestLinkError, hostfwdRule, parsePortForward, parseShareSpec, parseUsernetForwards } from './guest-links.js';

test('share specs: DIR, DIR:ro, DIR:rw; an empty folder is refused', () => {
  assert.deepEqual(parseShareSpec('/home/u/Shared'), { path: '/home/u/Shared', readOnly: false });
  assert.deepEqual(parseShareSpec('/home/u/Shared:ro'), { path: '/home/u/Shared', readOnly: true });
  assert.deepEqual(parseShareSpec('rel/dir:rw'), { path: 'rel/dir', readOnly: false });
  assert.deepEqual(parseShareSpec('/a:b'), { path: '/a:b', readOnly: false });
  assert.throws(() => parseShareSpec(':ro'), GuestLinkError);
});

test('forward specs: default address 127.0.0.1, an explicit one, udp; bad ones say what is wrong', () => {
  assert.deepEqual(parsePortForward('tcp:8080:80'), { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestPort: 80 });
  assert.deepEqual(parsePortForward('tcp:0.0.0.0:8080:80'), { proto: 'tcp', hostAddr: '0.0.0.0', hostPort: 8080, guestPort: 80 });
  assert.deepEqual(parsePortForward('udp:5353:53'), { proto: 'udp', hostAddr: '127.0.0.1', hostPort: 5353, guestPort: 53 });
  assert.equal(hostfwdRule(parsePortForward('tcp:8080:80')), 'tcp:127.0.0.1:8080-:80');
  assert.equal(formatPortForward(parsePortForward('udp:5353:53')), 'udp:127.0.0.1:5353:53');
  assert.throws(() => parsePortForward('sctp:1:2'), /PROTO tcp or udp/);
  assert.throws(() => parsePortForward('tcp:8080'), /PROTO:\[HOSTADDR:\]HOSTPORT:GUESTPORT/);
  assert.throws(() => parsePortForward('tcp:70000:80'), /host port .* 1 to 65535/);
  assert.throws(() => parsePortForward('tcp:8080:0'), /guest port/);
  assert.throws(() => parsePortForward('tcp:localhost:8080:80'), /IPv4 address/);
});

test('two forwards on one host port are refused, 0.0.0.0 overlapping any address', () => {
  const f = (s: string) => parsePortForward(s);
  checkForwardsDistinct([f('tcp:8080:80'), f('udp:8080:80'), f('tcp:8081:80')]);
  assert.throws(() => checkForwardsDistinct([f('tcp:8080:80'), f('tcp:8080:81')]), /two forwards take host tcp port 8080/);
  assert.throws(() => checkForwardsDistinct([f('tcp:8080:80'), f('tcp:0.0.0.0:8080:81')]), /port 8080/);
});

test('a host port in use is a port-in-use error naming the port; a free one passes', async (t) => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const busy = (server.address() as { port: number }).port;
  await assert.rejects(checkPortsFree([parsePortForward(`tcp:${busy}:80`)]), (err: GuestLinkError) => {
    assert.equal(err.code, 'port-in-use');
    assert.match(err.message, new RegExp(`tcp port ${busy} on 127.0.0.1 is already in use`));
    return true;
  });
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const free = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  await checkPortsFree([parsePortForward(`tcp:${free}:80`), parsePortForward(`udp:${free}:53`)]);
});

test("QEMU's info usernet (recorded from QEMU 10.0.2) → the host forwards", () => {
  const text = [
    'Hub -1 (#net051):',
    '  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ',
    '  TCP[HOST_FORWARD]   9       127.0.0.1 18099       10.0.2.15    81     0     0',
    '  TCP[ESTABLISHED]   14       10.0.2.15 39210    93.184.216.34   443     0     0',
    '  UDP[HOST_FORWARD]   3               * 18097       10.0.2.15    53     0     0',
  ].join('\r\n');
  assert.deepEqual(parseUsernetForwards(text), [
    { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 18099, guestPort: 81 },
    { proto: 'udp', hostAddr: '0.0.0.0', hostPort: 18097, guestPort: 53 },
  ]);
});

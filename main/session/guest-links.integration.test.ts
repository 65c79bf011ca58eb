// Integration (real QEMU under TCG, the demo guest not waited for): port forwards added, listed and
// removed live through the owner API's code (HMP hostfwd), a busy port named; USB hot-plug
// bookkeeping with an emulated usb-storage as the stand-in for a host device (this machine has none),
// and the permission error path of a real usb-host attach.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addFileFdset, removeFdset } from '../qmp/fdset.js';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { addForward, listForwards, removeForward } from './port-forwards.js';
import { addUsbDevice, attachedUsb, attachUsb, detachUsb, UsbError } from './usb.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-links-'));
let guest: BootedGuest | undefined;
after(async () => {
  await guest?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('port forwards live, and USB attach/detach bookkeeping, on one running QEMU', async () => {
  const p1 = await freePort();
  guest = await bootDemoGuest({ waitForPrompt: false, name: 'kju-links', extraArgs: ['-nic', `user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:${p1}-:80`] });
  const { qmp } = guest;

  assert.deepEqual(await listForwards(qmp), [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p1, guestPort: 80 }]);
  const p2 = await freePort();
  const added = await addForward(qmp, { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p2, guestPort: 8080 });
  assert.ok(
    added.some((f) => f.hostPort === p2 && f.guestPort === 8080),
    JSON.stringify(added),
  );
  // QEMU really listens there now, on 127.0.0.1
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve() : reject(err)));
    probe.listen(p2, '127.0.0.1', () => probe.close(() => reject(new Error(`port ${p2} is not held by QEMU`))));
  });
  // a port something else holds: named, and nothing changes
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const busy = (blocker.address() as { port: number }).port;
  await assert.rejects(addForward(qmp, { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: busy, guestPort: 22 }), (err: Error & { code: string }) => {
    assert.equal(err.code, 'port-in-use');
    assert.match(err.message, new RegExp(`port ${busy}`));
    return true;
  });
  blocker.close();
  await assert.rejects(addForward(qmp, { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p1, guestPort: 81 }), /already forwarded/);
  const removed = await removeForward(qmp, { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p2 });
  assert.deepEqual(removed, [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p1, guestPort: 80 }]);
  await assert.rejects(removeForward(qmp, { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: p2 }), /no forward of host tcp port/);

  // USB: an emulated usb-storage stands in for a host device on kju's controller
  const img = join(dir, 'stick.raw');
  writeFileSync(img, Buffer.alloc(1 << 20));
  // handed over as an fd set, as kju hands files to a QEMU that may not open them itself
  const stick = await addFileFdset(qmp, img, 'read-write');
  await qmp.execute('blockdev-add', { driver: 'raw', 'node-name': 'stick', file: { driver: 'file', filename: stick.path } });
  await removeFdset(qmp, stick.id);
  assert.deepEqual(await attachedUsb(qmp), []);
  await addUsbDevice(qmp, 'kju-usb-1-4', { driver: 'usb-storage', drive: 'stick' });
  assert.deepEqual(await attachedUsb(qmp), ['1-4']);
  await assert.rejects(addUsbDevice(qmp, 'kju-usb-1-4', { driver: 'usb-storage', drive: 'stick' }), UsbError);
  assert.deepEqual(await detachUsb(qmp, '1-4'), { removed: true, attached: [] });
  // gone already (as a device unplugged from the host): not an error, the VM runs on
  assert.deepEqual(await detachUsb(qmp, '1-4'), { removed: false, attached: [] });
  // a host device whose node this user cannot open: refused before QEMU, naming the permission
  await assert.rejects(
    attachUsb(qmp, { vendorId: '046d', productId: 'c52b', bus: 1, port: '2', devnum: 4 }, () => '/dev/bus/usb/001/004 is mode 0664, owner uid 0, group "plugdev" (gid 46)'),
    (err: UsbError) => err.code === 'usb-permission' && /mode 0664.*plugdev/.test(err.message),
  );
  // a host device with a node: kju opens the node and QEMU gets the fd (hostdevice=/dev/fdset/N).
  // No real USB device here: a plain file stands in for the node. QEMU opens the fd set ("failed to
  // open /dev/fdset/N" otherwise) and then libusb refuses the file as a USB device; nothing is attached.
  const devRoot = join(dir, 'usb');
  mkdirSync(join(devRoot, '003'), { recursive: true });
  writeFileSync(join(devRoot, '003', '007'), '');
  await assert.rejects(
    attachUsb(qmp, { vendorId: '1234', productId: '5678', bus: 3, port: '1', devnum: 7 }, () => undefined, devRoot),
    (err: UsbError) => {
      assert.equal(err.code, 'usb-failed');
      assert.match(err.message, /failed to open host usb device \/dev\/fdset\/\d+$/, err.message);
      return true;
    },
  );
  assert.deepEqual(await attachedUsb(qmp), []);
  // kju's fds are out of every set again (a set QEMU still uses a copy of stays listed, empty)
  assert.deepEqual(
    (await qmp.execute('query-fdsets')).flatMap((s) => s.fds),
    [],
  );
  // a real usb-host on a bus-port with no device: QEMU accepts it and waits for the device to appear
  const attached = await attachUsb(qmp, { vendorId: '1234', productId: '5678', bus: 9, port: '9' }, () => undefined);
  assert.deepEqual(attached, ['9-9']);
  assert.deepEqual(await detachUsb(qmp, '9-9'), { removed: true, attached: [] });
  assert.equal((await qmp.execute('query-status')).status, 'running', 'the VM kept running');
});

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findHostUsb, listSysfsUsb, parseIoregUsb, usbPermissionProblem } from './host-usb.js';

const root = mkdtempSync(join(tmpdir(), 'kju-sysfs-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function device(name: string, files: Record<string, string>): void {
  const d = join(root, 'bus/usb/devices', name);
  mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), `${v}\n`);
}

test('a fake sysfs tree: devices with ids, names and bus-port; root hubs and interfaces left out', () => {
  device('usb1', { idVendor: '1d6b', idProduct: '0002', busnum: '1', devnum: '1' });
  device('1-2', { idVendor: '046D', idProduct: 'c52b', busnum: '1', devnum: '4', manufacturer: 'Logitech', product: 'USB Receiver' });
  device('1-2:1.0', { bInterfaceClass: '03' });
  device('3-1.4', { idVendor: '0403', idProduct: '6001', busnum: '3', devnum: '7', product: 'FT232R USB UART' });
  const devices = listSysfsUsb(root);
  assert.deepEqual(devices, [
    { vendorId: '046d', productId: 'c52b', bus: 1, port: '2', devnum: 4, manufacturer: 'Logitech', product: 'USB Receiver' },
    { vendorId: '0403', productId: '6001', bus: 3, port: '1.4', devnum: 7, product: 'FT232R USB UART' },
  ]);
  assert.equal(findHostUsb(devices, '0403:6001')?.port, '1.4');
  assert.equal(findHostUsb(devices, '1-2')?.vendorId, '046d');
  assert.equal(findHostUsb(devices, '9-9'), undefined);
  assert.deepEqual(listSysfsUsb(join(root, 'none')), []);
});

// recorded shape of `ioreg -p IOUSB -l -w0` on macOS 14 (trimmed to the keys read)
const IOREG = `+-o Root  <class IORegistryEntry, id 0x100000100, retain 30>
  +-o AppleT8103USBXHCI@00000000  <class AppleT8103USBXHCI, id 0x100000300>
  | {
  |   "locationID" = 0
  | }
  | +-o USB Receiver@00100000  <class IOUSBHostDevice, id 0x100000a1b>
  |     {
  |       "USB Product Name" = "USB Receiver"
  |       "idProduct" = 50475
  |       "USB Vendor Name" = "Logitech"
  |       "idVendor" = 1133
  |       "locationID" = 1048576
  |       "USB Address" = 1
  |     }
  | +-o FT232R USB UART@01140000  <class IOUSBHostDevice, id 0x100000b2c>
  |     {
  |       "USB Product Name" = "FT232R USB UART"
  |       "idProduct" = 24577
  |       "idVendor" = 1027
  |       "locationID" = 18087936
  |       "USB Address" = 3
  |     }
`;

test('macOS ioreg output: ids in hex, bus and port path from locationID', () => {
  assert.deepEqual(parseIoregUsb(IOREG), [
    { vendorId: '046d', productId: 'c52b', bus: 0, port: '1', devnum: 1, manufacturer: 'Logitech', product: 'USB Receiver' },
    { vendorId: '0403', productId: '6001', bus: 1, port: '1.4', devnum: 3, product: 'FT232R USB UART' },
  ]);
});

test('a device node this user cannot open: the message names the node, its mode and group', () => {
  const dev = join(root, 'dev');
  mkdirSync(join(dev, '001'), { recursive: true });
  writeFileSync(join(dev, '001', '004'), '');
  const d = { vendorId: '046d', productId: 'c52b', bus: 1, port: '2', devnum: 4 };
  const problem = usbPermissionProblem(d, dev, () => false);
  assert.match(problem ?? '', new RegExp(`${join(dev, '001', '004')} is mode 0644, owner uid \\d+, group .*needs read and write permission`));
  assert.equal(
    usbPermissionProblem(d, dev, () => true),
    undefined,
  );
  assert.match(usbPermissionProblem({ ...d, devnum: 9 }, dev, () => false) ?? '', /does not exist \(was the device unplugged\?\)/);
});

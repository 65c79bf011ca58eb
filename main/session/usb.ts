// Host USB devices handed to a running VM: usb-host devices on the qemu-xhci controller every
// library VM has (build-argv.ts), added and removed over QMP. Our devices carry ids kju-usb-*,
// which is how they are listed again. Runs on the Node loop of whoever holds QMP. On Linux kju opens
// the device node and hands it to QEMU as an fd set (qmp/fdset.ts): QEMU may run as a user that
// cannot open it. Without a node (macOS, or a device whose number is unknown) QEMU finds the device.
import { KjuError, type KjuErrorCode, type KjuErrorOptions } from '../../common/errors.js';
import { USB_CONTROLLER_ID } from '../qemu/build-argv.js';
import { busPort, findHostUsb, isUsbSpec, listHostUsb, type HostUsbDevice, USB_DEV_ROOT, usbDeviceNode, usbPermissionProblem } from '../qemu/host-usb.js';
import { withFileFdset } from '../qmp/fdset.js';
import { QmpError } from '../qmp/qmp-client.js';
import type { QmpExecutor, QmpFdExecutor } from '../qmp/qmp-types.js';

export class UsbError extends KjuError {
  override name = 'UsbError';
  constructor(code: Extract<KjuErrorCode, 'usb-failed' | 'usb-permission'>, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

const ID_PREFIX = 'kju-usb-';

/** The qdev id kju gives the device at `bus-port` (dots are not allowed in ids). */
export function usbDeviceId(d: Pick<HostUsbDevice, 'bus' | 'port'>): string {
  return `${ID_PREFIX}${busPort(d).replaceAll('.', '_')}`;
}

/** The bus-port of each kju USB device in the VM. */
export async function attachedUsb(qmp: QmpExecutor): Promise<string[]> {
  const children = await qmp.execute('qom-list', { path: '/machine/peripheral' });
  return children
    .filter((c) => c.name.startsWith(ID_PREFIX))
    .map((c) => c.name.slice(ID_PREFIX.length).replaceAll('_', '.'))
    .sort();
}

/**
 * Hands `d` to the guest. A device node this user cannot open is a UsbError 'usb-permission' saying
 * which permission is missing, checked before QEMU is asked (QEMU's own message does not say).
 */
export async function attachUsb(qmp: QmpFdExecutor, d: HostUsbDevice, permission = usbPermissionProblem, devRoot = USB_DEV_ROOT): Promise<string[]> {
  const problem = permission(d);
  if (problem) throw new UsbError('usb-permission', `cannot hand USB device ${d.vendorId}:${d.productId} (${busPort(d)}) to the VM: ${problem}`);
  const node = usbDeviceNode(d, devRoot);
  if (node) await withFileFdset(qmp, node, 'read-write', (hostdevice) => addUsbDevice(qmp, usbDeviceId(d), { driver: 'usb-host', hostdevice }));
  else await addUsbDevice(qmp, usbDeviceId(d), { driver: 'usb-host', hostbus: d.bus, hostport: d.port });
  return attachedUsb(qmp);
}

/** device_add of a USB device on kju's controller; errors become UsbError 'usb-failed'. Tests add an emulated usb-storage this way. */
export async function addUsbDevice(qmp: QmpExecutor, id: string, props: { driver: string; [prop: string]: string | number | boolean }): Promise<void> {
  try {
    await qmp.execute('device_add', { ...props, id, bus: `${USB_CONTROLLER_ID}.0` });
  } catch (err) {
    if (!(err instanceof QmpError)) throw err;
    const why = /Bus .* not found/i.test(err.desc)
      ? 'this VM has no kju USB controller (it was started before kju added one; restart it)'
      : /Duplicate ID/i.test(err.desc)
        ? 'it is already attached'
        : err.desc;
    throw new UsbError('usb-failed', `QEMU could not attach the USB device: ${why}`, { cause: err });
  }
}

/**
 * Takes the device at `spec` (bus-port) away from the guest. One that is already gone (unplugged
 * from the host and removed, or never attached) is no error: the VM is not disturbed either way.
 */
export async function detachUsb(qmp: QmpExecutor, spec: string): Promise<{ removed: boolean; attached: string[] }> {
  const id = `${ID_PREFIX}${spec.replaceAll('.', '_')}`;
  let removed = true;
  try {
    await qmp.execute('device_del', { id });
  } catch (err) {
    if (!(err instanceof QmpError && err.errorClass === 'DeviceNotFound')) throw err;
    removed = false;
  }
  // USB unplug completes at once (no guest handshake), so the list after it is current
  return { removed, attached: await attachedUsb(qmp) };
}

/** The owner-socket `usb` method: the host device is looked up here, on the host that runs QEMU. */
export async function runUsbOp(qmp: QmpFdExecutor, p: { op: 'list' } | { op: 'attach' | 'detach'; device: string }): Promise<{ attached: string[]; removed?: boolean }> {
  if (p.op === 'list') return { attached: await attachedUsb(qmp) };
  if (!isUsbSpec(p.device)) throw new UsbError('usb-failed', `'${p.device}' is not a USB device: give vendor:product (4 hex digits each) or bus-port (e.g. 1-2.3); see kju usb list`);
  const isBusPort = /^\d+-[\d.]+$/.test(p.device);
  if (p.op === 'detach' && isBusPort) return detachUsb(qmp, p.device);
  const host = findHostUsb(await listHostUsb(), p.device);
  if (!host) {
    if (p.op === 'detach') return { removed: false, attached: await attachedUsb(qmp) };
    throw new UsbError('usb-failed', `no host USB device ${p.device} (see kju usb list)`);
  }
  if (p.op === 'detach') return detachUsb(qmp, busPort(host));
  return { attached: await attachUsb(qmp, host) };
}

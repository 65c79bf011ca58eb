// The host's USB devices, as `kju usb list` shows them and `kju usb attach` finds them: Linux reads
// sysfs (/sys/bus/usb/devices), macOS parses `ioreg -p IOUSB -l -w0`. Node loop; small sync reads.
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface HostUsbDevice {
  /** 4 hex digits, lower case */
  vendorId: string;
  productId: string;
  /** bus number and port path ("1-2.3" → bus 1, port "2.3"), as QEMU's usb-host hostbus/hostport take them */
  bus: number;
  port: string;
  /** the device number on its bus (its /dev/bus/usb/BBB/DDD node), when known */
  devnum?: number;
  manufacturer?: string;
  product?: string;
}

/** Where Linux's usbfs has the device nodes. */
export const USB_DEV_ROOT = '/dev/bus/usb';

/** The device's usbfs node (`/dev/bus/usb/BBB/DDD`), or undefined where there is none (macOS) or its number is unknown. */
export function usbDeviceNode(d: Pick<HostUsbDevice, 'bus' | 'devnum'>, devRoot = USB_DEV_ROOT): string | undefined {
  if (d.devnum === undefined || process.platform === 'darwin') return undefined;
  return join(devRoot, String(d.bus).padStart(3, '0'), String(d.devnum).padStart(3, '0'));
}

/** `1-2.3` style name; also what `kju usb attach` accepts besides vendor:product. */
export function busPort(d: Pick<HostUsbDevice, 'bus' | 'port'>): string {
  return `${d.bus}-${d.port}`;
}

const read = (dir: string, file: string): string | undefined => {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** USB devices under a sysfs root (`/sys` on a real host; tests pass a fake tree). Hubs' interfaces and root hubs are left out. */
export function listSysfsUsb(sysRoot = '/sys'): HostUsbDevice[] {
  const dir = join(sysRoot, 'bus/usb/devices');
  if (!existsSync(dir)) return [];
  const out: HostUsbDevice[] = [];
  for (const name of readdirSync(dir).sort()) {
    // "1-2" or "1-2.3" are devices; "usb1" root hubs; "1-2:1.0" interfaces
    const m = /^(\d+)-([\d.]+)$/.exec(name);
    if (!m) continue;
    const d = join(dir, name);
    const vendorId = read(d, 'idVendor');
    const productId = read(d, 'idProduct');
    if (!vendorId || !productId) continue;
    const devnum = Number(read(d, 'devnum'));
    out.push({
      vendorId: vendorId.toLowerCase(),
      productId: productId.toLowerCase(),
      bus: Number(read(d, 'busnum') ?? m[1]),
      port: m[2],
      ...(Number.isInteger(devnum) && devnum > 0 ? { devnum } : {}),
      ...(read(d, 'manufacturer') ? { manufacturer: read(d, 'manufacturer') } : {}),
      ...(read(d, 'product') ? { product: read(d, 'product') } : {}),
    });
  }
  return out;
}

/**
 * Devices in `ioreg -p IOUSB -l -w0` output. The port path comes from locationID (0xBBPPPP..: bus
 * in the top byte, then one nibble per hub port), as QEMU's usb-host on macOS (libusb) numbers them.
 */
export function parseIoregUsb(text: string): HostUsbDevice[] {
  const out: HostUsbDevice[] = [];
  for (const block of text.split(/\n(?=[\s|]*\+-o )/)) {
    const num = (key: string): number | undefined => {
      const m = new RegExp(`"${key}" = (0x[0-9a-fA-F]+|\\d+)`).exec(block);
      return m ? Number(m[1]) : undefined;
    };
    const str = (key: string): string | undefined => new RegExp(`"${key}" = "([^"]*)"`).exec(block)?.[1];
    const vendor = num('idVendor');
    const product = num('idProduct');
    const location = num('locationID');
    if (vendor === undefined || product === undefined || location === undefined) continue;
    const bus = (location >>> 24) & 0xff;
    const ports: number[] = [];
    for (let shift = 20; shift >= 0; shift -= 4) {
      const p = (location >>> shift) & 0xf;
      if (!p) break;
      ports.push(p);
    }
    if (!ports.length) continue; // a root hub
    const hex = (n: number) => n.toString(16).padStart(4, '0');
    const devnum = num('USB Address');
    out.push({
      vendorId: hex(vendor),
      productId: hex(product),
      bus,
      port: ports.join('.'),
      ...(devnum !== undefined ? { devnum } : {}),
      ...(str('USB Vendor Name') ? { manufacturer: str('USB Vendor Name') } : {}),
      ...(str('USB Product Name') ? { product: str('USB Product Name') } : {}),
    });
  }
  return out;
}

/** The host's USB devices (Linux sysfs, macOS ioreg); an empty list elsewhere. */
export async function listHostUsb(): Promise<HostUsbDevice[]> {
  if (process.platform === 'darwin') {
    const { execFile } = await import('node:child_process');
    const text = await new Promise<string>((resolve, reject) => execFile('ioreg', ['-p', 'IOUSB', '-l', '-w0'], { maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
    return parseIoregUsb(text);
  }
  return listSysfsUsb();
}

/** Whether `spec` has the form of a device name: `vendor:product` (4+4 hex digits) or `bus-port` (1-2.3). */
export function isUsbSpec(spec: string): boolean {
  return /^[0-9a-f]{4}:[0-9a-f]{4}$/i.test(spec) || /^\d+-\d+(\.\d+)*$/.test(spec);
}

/** The device `spec` names: `vendor:product` (hex) or `bus-port` (1-2.3). Undefined when none matches. */
export function findHostUsb(devices: readonly HostUsbDevice[], spec: string): HostUsbDevice | undefined {
  const vp = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(spec);
  if (vp) return devices.find((d) => d.vendorId === vp[1].toLowerCase() && d.productId === vp[2].toLowerCase());
  return devices.find((d) => busPort(d) === spec);
}

/**
 * Why this user cannot open the device's node (/dev/bus/usb/BBB/DDD), or undefined when it can (or
 * the node is unknown, as on macOS). Names the node, its mode, owner and group, and the fix.
 */
export function usbPermissionProblem(d: HostUsbDevice, devRoot = USB_DEV_ROOT, access: (path: string) => boolean = canReadWrite): string | undefined {
  const node = usbDeviceNode(d, devRoot);
  if (node === undefined || access(node)) return undefined;
  let st;
  try {
    st = statSync(node);
  } catch {
    return `${node} does not exist (was the device unplugged?)`;
  }
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  const group = groupName(st.gid);
  return `${node} is mode ${mode}, owner uid ${st.uid}, group ${group}: this user needs read and write permission on it (add yourself to group ${group}, or add a udev rule giving your user access to ${d.vendorId}:${d.productId})`;
}

function canReadWrite(path: string): boolean {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function groupName(gid: number): string {
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    return line ? `"${line.split(':')[0]}" (gid ${gid})` : `gid ${gid}`;
  } catch {
    return `gid ${gid}`;
  }
}

// The settings dialog's shared folders and port forwards, and the USB menu's labels: pure, so they
// run under Node in unit tests and the dialog shows the same messages before anything is sent.
// The backend checks again (main/backend/arg-checks.ts, host-paths.ts).
import type { HostUsbDevice, VmForward, VmShare } from '../../common/contract.js';

/** What the add-forward row holds, as typed. */
export interface ForwardDraft {
  proto: 'tcp' | 'udp';
  hostAddr: string;
  hostPort: string;
  guestPort: string;
}

export const EMPTY_FORWARD: ForwardDraft = { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: '', guestPort: '' };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function port(text: string): number | undefined {
  if (!/^\s*\d{1,5}\s*$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** The forward a draft describes, or the message to show; `existing` catches a host port used twice. */
export function forwardFromDraft(d: ForwardDraft, existing: readonly VmForward[]): { forward: VmForward } | { error: string } {
  const hostAddr = d.hostAddr.trim() || '127.0.0.1';
  if (!IPV4.test(hostAddr)) return { error: 'The host address is an IPv4 address such as 127.0.0.1 (this computer only) or 0.0.0.0 (every network).' };
  const hostPort = port(d.hostPort);
  if (hostPort === undefined) return { error: 'The host port is a whole number from 1 to 65535.' };
  const guestPort = port(d.guestPort);
  if (guestPort === undefined) return { error: 'The guest port is a whole number from 1 to 65535.' };
  if (existing.some((f) => f.proto === d.proto && f.hostPort === hostPort && (f.hostAddr === hostAddr || f.hostAddr === '0.0.0.0' || hostAddr === '0.0.0.0'))) {
    return { error: `Host ${d.proto} port ${hostPort} is already forwarded.` };
  }
  return { forward: { proto: d.proto, hostAddr, hostPort, guestPort } };
}

/** `tcp 127.0.0.1:8080 → 80`, as the table shows a forward. */
export function forwardLabel(f: VmForward): string {
  return `${f.proto} ${f.hostAddr}:${f.hostPort} → ${f.guestPort}`;
}

/** The message for a folder path about to be added, or undefined when it may be sent. */
export function checkSharePath(path: string, existing: readonly VmShare[]): string | undefined {
  const p = path.trim();
  if (!p) return 'Enter the folder’s full path.';
  if (!p.startsWith('/')) return 'Give the full path of the folder (it starts with /).';
  const norm = (s: string) => s.replace(/\/+$/, '') || '/';
  if (existing.some((s) => norm(s.path) === norm(p))) return 'That folder is already shared.';
  return undefined;
}

/** The guest's mount command for the n-th shared folder (as the README gives it). */
export function shareMountLine(index: number): string {
  return `mount -t 9p -o trans=virtio,version=9p2000.L share${index} /mnt`;
}

/** `1-2`: the name kju usb and attachUsb take for a device (bus-port). */
export function usbBusPort(d: Pick<HostUsbDevice, 'bus' | 'port'>): string {
  return `${d.bus}-${d.port}`;
}

/** `046d:c52b Logitech USB Receiver`, or the ids alone when the device names nothing. */
export function usbLabel(d: HostUsbDevice): string {
  const name = [d.manufacturer, d.product].filter(Boolean).join(' ');
  return `${d.vendorId}:${d.productId}${name ? ` ${name}` : ''}`;
}

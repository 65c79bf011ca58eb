// What `kju -c URI` may name, checked before anything is opened: a libvirt URI
// (driver[+transport]://[user@][host][:port]/path[?query]) for the QEMU driver (or libvirt's
// built-in test driver, test:///default). kju over SSH (ssh://) is named but not reachable yet.
import { LibvirtError } from './libvirt-error.js';

export interface LibvirtUri {
  /** the URI as given, for libvirt's virConnectOpen */
  uri: string;
  driver: 'qemu' | 'test';
  /** the transport after '+' (ssh, unix, tcp, tls...); absent for the local default */
  transport?: string;
  /** the host part (user@host:port), '' when local */
  host: string;
}

const TRANSPORTS = ['ssh', 'libssh', 'libssh2', 'unix', 'tcp', 'tls', 'ext'];
const HINT = 'write qemu:///system, qemu:///session or qemu+ssh://[user@]host[:port]/system';
const URI = /^([a-z][a-z0-9]*)(?:\+([a-z0-9]+))?:\/\/([^/?#\s]*)(\/[^?#\s]*)?(\?[^#\s]*)?$/;

function refuse(text: string, why: string, hint = HINT): never {
  throw new LibvirtError('bad-connection', `"${text}" is not a connection kju can use: ${why}`, { hint });
}

/** Checks `text` and says what it names; throws LibvirtError 'bad-connection' with the fix. */
export function parseConnectionUri(text: string): LibvirtUri {
  const m = URI.exec(text);
  if (!m) refuse(text, 'not a URI like qemu:///system');
  const [, driver, transport, host, path = ''] = m;
  if (driver === 'ssh' && !transport) refuse(text, 'kju over SSH is not available yet', 'for the libvirt VMs of that host write qemu+ssh://[user@]host[:port]/system');
  if (driver !== 'qemu' && driver !== 'test') refuse(text, `kju knows libvirt's QEMU driver (qemu://), not "${driver}"`);
  if (transport !== undefined && !TRANSPORTS.includes(transport)) refuse(text, `libvirt has no transport "${transport}" (${TRANSPORTS.join(', ')})`);
  const remote = transport !== undefined && transport !== 'unix';
  if (remote && !host) refuse(text, `the ${transport} transport needs a host`);
  if (driver === 'qemu' && path !== '/system' && path !== '/session') refuse(text, `the path must be /system or /session, not "${path || '(none)'}"`);
  if (driver === 'test' && (!path || path === '/')) refuse(text, 'the test driver needs a path (test:///default)');
  return { uri: text, driver: driver as LibvirtUri['driver'], ...(transport ? { transport } : {}), host: host! };
}

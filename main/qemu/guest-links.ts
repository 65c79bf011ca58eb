// What links a guest to the host besides its disks: shared folders (virtio-9p) and port forwards
// (QEMU user networking's hostfwd). Their specs as users write them, and the QEMU option values.
// Pure except checkPortsFree, which binds each host port for a moment (Node loop).
import { createServer } from 'node:net';
import { KjuError, type KjuErrorCode, type KjuErrorOptions } from '../../common/errors.js';

export class GuestLinkError extends KjuError {
  override name = 'GuestLinkError';
  constructor(code: Extract<KjuErrorCode, 'invalid-argument' | 'port-in-use'>, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

/** A host folder exported to the guest; the n-th gets mount tag `share<n>`. */
export interface SharedFolder {
  /** absolute host path of a directory */
  path: string;
  readOnly: boolean;
}

/** How QEMU's 9p server stores the owners, modes and special files the guest sets: in user.*
 *  xattrs, or (file systems without them) in .virtfs_metadata files beside them. */
export type ShareSecurityModel = 'mapped-xattr' | 'mapped-file';

export interface PortForward {
  proto: 'tcp' | 'udp';
  /** the host address QEMU listens on; 127.0.0.1 unless the user wrote another */
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

export const DEFAULT_FORWARD_ADDR = '127.0.0.1';

/** `DIR` or `DIR:ro` → the folder as given (made absolute by the caller). */
export function parseShareSpec(spec: string): SharedFolder {
  const readOnly = spec.endsWith(':ro');
  const path = readOnly ? spec.slice(0, -3) : spec.endsWith(':rw') ? spec.slice(0, -3) : spec;
  if (!path) throw new GuestLinkError('invalid-argument', `--share needs a folder, as DIR or DIR:ro; got "${spec}"`);
  return { path, readOnly };
}

export function shareTag(index: number): string {
  return `share${index}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function port(text: string, what: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new GuestLinkError('invalid-argument', `the ${what} port in "${spec}" must be a number from 1 to 65535`);
  }
  return Number(text);
}

/** `tcp:8080:80`, `udp:5353:53`, `tcp:0.0.0.0:8080:80` → a forward (default address 127.0.0.1). */
export function parsePortForward(spec: string): PortForward {
  const parts = spec.split(':');
  const usage = `a forward is PROTO:[HOSTADDR:]HOSTPORT:GUESTPORT with PROTO tcp or udp (e.g. tcp:8080:80, tcp:0.0.0.0:8080:80); got "${spec}"`;
  if (parts.length !== 3 && parts.length !== 4) throw new GuestLinkError('invalid-argument', usage);
  const proto = parts[0];
  if (proto !== 'tcp' && proto !== 'udp') throw new GuestLinkError('invalid-argument', usage);
  const hostAddr = parts.length === 4 ? parts[1] : DEFAULT_FORWARD_ADDR;
  if (!IPV4.test(hostAddr)) throw new GuestLinkError('invalid-argument', `the host address in "${spec}" must be an IPv4 address such as 127.0.0.1 or 0.0.0.0`);
  return { proto, hostAddr, hostPort: port(parts[parts.length - 2], 'host', spec), guestPort: port(parts[parts.length - 1], 'guest', spec) };
}

/** Which forward a removal means: protocol and host port, and the host address only when written. */
export type ForwardKey = Pick<PortForward, 'proto' | 'hostPort'> & { hostAddr?: string };

/** `tcp:8080`, `tcp:0.0.0.0:8080`, or a whole forward's spec (`tcp:8080:80`, `tcp:0.0.0.0:8080:80`) → its key. */
export function parseForwardKey(spec: string): ForwardKey {
  const parts = spec.split(':');
  const proto = parts[0];
  if ((proto !== 'tcp' && proto !== 'udp') || parts.length < 2 || parts.length > 4) {
    throw new GuestLinkError('invalid-argument', `a forward to remove is PROTO:[HOSTADDR:]HOSTPORT[:GUESTPORT] with PROTO tcp or udp (e.g. tcp:8080); got "${spec}"`);
  }
  // tcp:A:B is ADDR:HOSTPORT when A is an address, else HOSTPORT:GUESTPORT
  const hasAddr = parts.length === 4 || (parts.length === 3 && parts[1].includes('.'));
  const hostAddr = hasAddr ? parts[1] : undefined;
  if (hostAddr !== undefined && !IPV4.test(hostAddr)) throw new GuestLinkError('invalid-argument', `the host address in "${spec}" must be an IPv4 address such as 127.0.0.1 or 0.0.0.0`);
  const hostPort = port(parts[hasAddr ? 2 : 1], 'host', spec);
  if (parts.length === (hasAddr ? 4 : 3)) port(parts[parts.length - 1], 'guest', spec);
  return { proto, hostPort, ...(hostAddr === undefined ? {} : { hostAddr }) };
}

/** Whether `f` is a forward `key` names (any address when the key has none). */
export function forwardMatches(f: PortForward, key: ForwardKey): boolean {
  return f.proto === key.proto && f.hostPort === key.hostPort && (key.hostAddr === undefined || f.hostAddr === key.hostAddr);
}

/** The spec a user writes for `f`: `tcp:127.0.0.1:8080:80`. */
export function formatPortForward(f: PortForward): string {
  return `${f.proto}:${f.hostAddr}:${f.hostPort}:${f.guestPort}`;
}

/** QEMU's hostfwd rule for `f`: `tcp:127.0.0.1:8080-:80` (the guest address is the DHCP one). */
export function hostfwdRule(f: PortForward): string {
  return `${f.proto}:${f.hostAddr}:${f.hostPort}-:${f.guestPort}`;
}

/** QEMU's hostfwd_remove argument for `f`: `tcp:127.0.0.1:8080`. */
export function hostfwdRemoveRule(f: Pick<PortForward, 'proto' | 'hostAddr' | 'hostPort'>): string {
  return `${f.proto}:${f.hostAddr}:${f.hostPort}`;
}

export function samePortForward(a: Pick<PortForward, 'proto' | 'hostAddr' | 'hostPort'>, b: Pick<PortForward, 'proto' | 'hostAddr' | 'hostPort'>): boolean {
  return a.proto === b.proto && a.hostAddr === b.hostAddr && a.hostPort === b.hostPort;
}

/** Throws GuestLinkError 'invalid-argument' when two forwards take the same host port. */
export function checkForwardsDistinct(forwards: readonly PortForward[]): void {
  forwards.forEach((f, i) => {
    const twin = forwards.findIndex((g) => g.proto === f.proto && g.hostPort === f.hostPort && (g.hostAddr === f.hostAddr || g.hostAddr === '0.0.0.0' || f.hostAddr === '0.0.0.0'));
    if (twin !== i) throw new GuestLinkError('invalid-argument', `two forwards take host ${f.proto} port ${f.hostPort}: ${formatPortForward(forwards[twin])} and ${formatPortForward(f)}`);
  });
}

/**
 * Binds each forward's host port for a moment and lets go: a port something else holds is a
 * GuestLinkError 'port-in-use' naming it, before QEMU starts (QEMU's own message names no port).
 * A tiny race remains (the port can be taken between this check and QEMU's bind); QEMU then fails.
 */
export async function checkPortsFree(forwards: readonly PortForward[]): Promise<void> {
  for (const f of forwards) {
    const problem = await bindProbe(f);
    if (problem) {
      throw new GuestLinkError('port-in-use', `host ${f.proto} port ${f.hostPort} on ${f.hostAddr} is ${problem} (forward ${formatPortForward(f)})`, {
        hint: `stop what uses port ${f.hostPort} or pick another host port (kju edit --no-forward, then --forward ${f.proto}:${f.hostAddr}:OTHERPORT:${f.guestPort})`,
      });
    }
  }
}

async function bindProbe(f: PortForward): Promise<string | undefined> {
  const explain = (code: string | undefined): string =>
    code === 'EADDRINUSE'
      ? 'already in use'
      : code === 'EACCES'
        ? 'not allowed for this user (ports below 1024 need privileges)'
        : code === 'EADDRNOTAVAIL'
          ? 'on an address this host does not have'
          : `not usable (${code})`;
  if (f.proto === 'tcp') {
    return new Promise((resolve) => {
      const server = createServer();
      server.once('error', (err: NodeJS.ErrnoException) => resolve(explain(err.code)));
      server.listen({ port: f.hostPort, host: f.hostAddr, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
  }
  const { createSocket } = await import('node:dgram');
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', (err: NodeJS.ErrnoException) => {
      sock.close();
      resolve(explain(err.code));
    });
    sock.bind({ port: f.hostPort, address: f.hostAddr, exclusive: true }, () => sock.close(() => resolve(undefined)));
  });
}

/** A row of QEMU's `info usernet`: the forwards a running user network has (HOST_FORWARD rows). */
export function parseUsernetForwards(text: string): PortForward[] {
  const out: PortForward[] = [];
  // "  TCP[HOST_FORWARD]  13       127.0.0.1  8080       10.0.2.15    80     0     0"
  for (const m of text.matchAll(/^\s*(TCP|UDP)\[HOST_FORWARD\]\s+\S+\s+(\S+)\s+(\d+)\s+\S+\s+(\d+)/gm)) {
    out.push({ proto: m[1].toLowerCase() as 'tcp' | 'udp', hostAddr: m[2] === '*' ? '0.0.0.0' : m[2], hostPort: Number(m[3]), guestPort: Number(m[4]) });
  }
  return out;
}

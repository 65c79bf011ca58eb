// A terminal attached to a running VM's first serial port (`kju console`): QEMU's serial socket
// chardev in the VM's runtime dir (serial.sock, server=on) takes one client at a time, so kju
// connects to it directly from whichever process asks (the owner does not hold it) and refuses
// when another client is attached. Output flows with backpressure (a guest flooding the port is
// slowed to what the terminal reads, never buffered without bound). Runs on the caller's Node loop.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import { SessionError, VmNotRunningError } from './session-errors.js';

/** Ctrl+] (GS), virsh console's escape: it detaches, and never reaches the guest. */
export const ESCAPE_BYTE = 0x1d;

/**
 * Whether a client is connected to the unix socket server bound at `path`: an accepted socket
 * shows in /proc/net/unix with the listener's path, state 03 (connected) and no listening flag.
 * Linux only; elsewhere false (nobody is seen).
 */
export function socketHasClient(path: string): boolean {
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      // "Num RefCount Protocol Flags Type St Inode Path"
      const f = line.trim().split(/\s+/);
      if (f.length >= 8 && f.slice(7).join(' ') === path && (Number.parseInt(f[3], 16) & 0x10000) === 0 && f[5] === '03') return true;
    }
  } catch {
    // no /proc
  }
  return false;
}

/** The bytes of `chunk` before the escape byte, and whether it came. */
export function cutAtEscape(chunk: Buffer): { pass: Buffer; escaped: boolean } {
  const at = chunk.indexOf(ESCAPE_BYTE);
  return at < 0 ? { pass: chunk, escaped: false } : { pass: chunk.subarray(0, at), escaped: true };
}

export interface SerialAttachment {
  /** 'detached': the escape key or the end of input; 'closed': QEMU closed the port (the VM stopped) */
  readonly ended: Promise<'detached' | 'closed'>;
  detach(): void;
}

/** Connects to the VM's serial socket; VmNotRunningError when nothing listens, SessionError in-use when someone is attached. */
export async function openSerial(rt: RuntimeDir, name: string): Promise<Socket> {
  if (socketHasClient(rt.serialSocket)) {
    throw new SessionError(
      'serial-in-use',
      `the serial console of '${name}' is in use by another client (another kju console, or a tool on ${rt.serialSocket}); detach it first (Ctrl+] in kju console)`,
    );
  }
  return new Promise((resolve, reject) => {
    const sock = connect(rt.serialSocket);
    sock.once('connect', () => {
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new VmNotRunningError(`'${name}' is not running (start it with: kju start ${name})`));
      else reject(err);
    });
  });
}

/**
 * Relays `input` to the guest and the guest to `output` until the escape byte in `input`, its end,
 * or the port closing. `output` backpressure pauses the socket (bounded memory).
 */
export function relaySerial(sock: Socket, input: Readable, output: Writable): SerialAttachment {
  let finish: (how: 'detached' | 'closed') => void = () => {};
  const ended = new Promise<'detached' | 'closed'>((resolve) => (finish = resolve));
  let done = false;
  const end = (how: 'detached' | 'closed') => {
    if (done) return;
    done = true;
    input.off('data', onInput);
    input.off('end', onEnd);
    sock.unpipe(output);
    sock.destroy();
    finish(how);
  };
  const onInput = (chunk: Buffer | string) => {
    const { pass, escaped } = cutAtEscape(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    // a fast input (a pipe) waits for the guest instead of queueing in the socket
    if (pass.length && !sock.write(pass)) {
      input.pause();
      sock.once('drain', () => input.resume());
    }
    if (escaped) end('detached');
  };
  const onEnd = () => end('detached');
  sock.pipe(output, { end: false });
  sock.on('error', () => end('closed'));
  sock.on('close', () => end('closed'));
  input.on('data', onInput);
  input.on('end', onEnd);
  return { ended, detach: () => end('detached') };
}

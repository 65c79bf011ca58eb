// The part every listener worker shares (the display's listener-worker.ts, the sound's
// audio-listener-worker.ts): the p2p D-Bus link on the fd QEMU will call, the handshake and close
// reports to the owner, Properties (QEMU reads `Interfaces` with a synchronous GetAll) and Ping,
// replying an error when a handler throws, and one shutdown. The worker itself handles its calls.
import { parentPort } from 'node:worker_threads';
import { PeerConnection, variant, type DbusMessage } from '../dbus/peer-connection.js';

const PROPS_IFACE = 'org.freedesktop.DBus.Properties';

/** What every listener worker tells its owner about the link. */
export type LinkReport = { t: 'handshake-started' } | { t: 'connected' } | { t: 'closed'; reason: string };

export interface ListenerWorkerSpec<Owner extends { t: string }> {
  fd: number;
  /** for logs: "<vm> console 0 listener", "<vm> audio" */
  name: string;
  /** the listener interface QEMU reads `Interfaces` from, and what it lists */
  iface: string;
  interfaces: string[];
  /** the D-Bus error a failed call replies with */
  errorName: string;
  fixedCalls?: Map<string, number>;
  handle(m: DbusMessage): void;
  /** errors of this kind are the peer's fault and are not logged */
  expected?(err: unknown): boolean;
  /** a message from the owner other than `close` */
  message?(m: Owner): void;
  /** runs once at shutdown, before the owner hears `closed` */
  closing?(): void;
}

export interface ListenerWorker<Out> {
  conn: PeerConnection;
  post(m: Out, transfer?: ArrayBuffer[]): void;
  closed(): boolean;
  shutdown(reason: string): void;
}

export function runListenerWorker<Out extends { t: string }, Owner extends { t: string }>(spec: ListenerWorkerSpec<Owner>): ListenerWorker<Out | LinkReport> {
  const port = parentPort!;
  let closed = false;
  const post = (m: Out | LinkReport, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
  const conn = new PeerConnection(spec.fd, { name: spec.name, ayView: true, fixedCalls: spec.fixedCalls });
  const shutdown = (reason: string) => {
    if (closed) return;
    closed = true;
    conn.close();
    spec.closing?.();
    post({ t: 'closed', reason });
    port.close();
  };
  post({ t: 'handshake-started' });
  conn.ready.then(
    () => post({ t: 'connected' }),
    () => {},
  );
  conn.on('close', (err) => shutdown(err?.message ?? `${spec.name} connection closed`));
  conn.on('call', (m) => {
    try {
      if (m.interface === PROPS_IFACE) properties(m);
      else if (m.interface === 'org.freedesktop.DBus.Peer' && m.member === 'Ping') conn.reply(m);
      else spec.handle(m);
    } catch (err) {
      if (!spec.expected?.(err)) console.error(`kju: ${spec.name} ${m.member} failed:`, err);
      conn.replyError(m, spec.errorName, err instanceof Error ? err.message : String(err));
    }
  });
  port.on('message', (m: Owner) => {
    if (m.t === 'close') shutdown('closed by its owner');
    else spec.message?.(m);
  });

  function properties(m: DbusMessage): void {
    const [iface, prop] = (m.body ?? []) as string[];
    const props: Record<string, [string, unknown]> = iface === spec.iface ? { Interfaces: ['as', spec.interfaces] } : {};
    if (m.member === 'GetAll') {
      conn.reply(m, 'a{sv}', [Object.entries(props).map(([k, [sig, v]]) => [k, variant(sig, v)])]);
    } else if (m.member === 'Get' && prop && props[prop]) {
      const [sig, v] = props[prop];
      conn.reply(m, 'v', [variant(sig, v)]);
    } else {
      conn.replyError(m, 'org.freedesktop.DBus.Error.UnknownProperty', `no property ${iface}.${prop ?? ''}`);
    }
  }

  return { conn, post, closed: () => closed, shutdown };
}

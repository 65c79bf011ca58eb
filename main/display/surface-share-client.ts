// Surface-share client: connects to a SurfaceShareServer, presents its token, maps every memfd it
// receives into a SharedArrayBuffer-backed view (native Mapping, shared mode) and acknowledges it,
// so the server's viewer stops sending that surface's pixels. Plain Node with the native addon:
// the Electron VM window's preload wraps it (main/electron/preload/shared-surfaces.ts), tests use it as is.
// Runs on the event loop of the thread that created it; mappings belong to that thread.
import { EventEmitter } from 'node:events';
import { FdSocket, Mapping, closeFd, connectUnix } from '../../native/index.js';
import { ShareServerDecoder, encodeLine, type ReceivedServerMessage, type SharedSurfaceNotice } from './surface-share-protocol.js';

export interface SharedSurface extends Omit<SharedSurfaceNotice, 't' | 'offset'> {
  /** `length` bytes aliasing QEMU's memfd (B,G,R,X rows of `stride`); reads zeros once released */
  view: Uint8Array;
}

export interface SurfaceShareClientEvents {
  /** surface mapped and acknowledged; the view is valid until 'released' with the same id */
  surface: [s: SharedSurface];
  /** the current surface has no memfd (copy transport): frames carry pixels */
  unshared: [id: number];
  /** this surface's mapping was released (a newer one replaced it, or the client closed) */
  released: [id: number];
  /** why the client stopped (refused, protocol error, mapping not shareable); 'close' follows */
  error: [err: Error];
  close: [];
}

export interface SurfaceShareClientOptions {
  /** older surfaces kept mapped after a switch, for frames still in flight (default 1) */
  keepOld?: number;
}

export class SurfaceShareClient extends EventEmitter<SurfaceShareClientEvents> {
  private readonly socket: FdSocket;
  private readonly decoder = new ShareServerDecoder();
  /** newest last */
  private readonly mapped: Array<{ s: SharedSurface; mapping: Mapping }> = [];
  private closed = false;
  /** bytes read from the socket (JSON lines only: pixels never travel here) */
  bytesReceived = 0;
  bytesSent = 0;
  fdsReceived = 0;

  constructor(
    socketPath: string,
    token: string,
    private readonly opts: SurfaceShareClientOptions = {},
  ) {
    super();
    this.socket = new FdSocket(connectUnix(socketPath)); // throws NativeError (ENOENT, ECONNREFUSED, ...)
    this.socket.on('fds', (fds: number[]) => {
      this.fdsReceived += fds.length;
      this.decoder.pushFds(fds);
    });
    this.socket.on('data', (chunk: Buffer) => this.received(chunk));
    this.socket.on('error', (err: Error) => this.fail(err));
    this.socket.on('close', () => this.close());
    this.send(encodeLine({ t: 'token', token }).toString());
  }

  /** The view of surface `id` while it is mapped. */
  view(id: number): Uint8Array | undefined {
    return this.mapped.find((m) => m.s.id === id)?.s.view;
  }

  get current(): SharedSurface | undefined {
    return this.mapped.at(-1)?.s;
  }

  /** surfaces currently mapped */
  get mappedCount(): number {
    return this.mapped.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the socket and releases every mapping (views read zeros afterwards). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const fd of this.decoder.takeUnclaimedFds()) closeFd(fd);
    for (const m of this.mapped.splice(0)) this.release(m);
    this.emit('close');
  }

  private send(text: string): void {
    this.bytesSent += Buffer.byteLength(text);
    this.socket.write(text);
  }

  private release(m: { s: SharedSurface; mapping: Mapping }): void {
    m.mapping.release();
    this.emit('released', m.s.id);
  }

  private received(chunk: Buffer): void {
    this.bytesReceived += chunk.byteLength;
    try {
      for (const m of this.decoder.push(chunk)) {
        if (this.closed) return; // close() has closed the fds of the notices not handled yet
        this.handle(m);
      }
    } catch (err) {
      this.fail(err as Error);
    }
  }

  private handle(m: ReceivedServerMessage): void {
    if (m.t === 'refused') throw new Error(`the display refused the connection: ${m.reason}`);
    if (m.t === 'unshared') return void this.emit('unshared', m.id);
    let mapping: Mapping;
    try {
      mapping = Mapping.open(m.fd, m.offset, m.length, { view: 'shared' });
    } finally {
      closeFd(m.fd); // the mapping holds the file
    }
    if (mapping.mode !== 'shared') {
      mapping.release();
      throw new Error(`the surface memory could not be mapped into a shared view (${mapping.reason}); the pixel path stays in use`);
    }
    const s: SharedSurface = { id: m.id, width: m.width, height: m.height, stride: m.stride, length: m.length, format: m.format, view: mapping.view };
    this.mapped.push({ s, mapping });
    const keep = this.opts.keepOld ?? 1;
    while (this.mapped.length > keep + 1) this.release(this.mapped.shift()!);
    this.emit('surface', s); // listeners put the view in place before the server stops sending pixels
    this.send(encodeLine({ t: 'ack', id: m.id }).toString());
  }

  private fail(err: Error): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.close();
  }
}

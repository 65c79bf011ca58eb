// Surface-share server: lets a viewer in another process (the Electron VM window's preload) map
// the guest screen itself. It serves a display's current 'map' surface memfd over a private unix
// socket to clients that present a ticket's random token, again on every surface switch; the
// client acknowledges each surface it has mapped, and from then on the viewer's FramePump may send
// that surface's frames as rects only (`ticket.holds(id)`). Only small JSON lines and fds cross
// the socket. Plain Node (no Electron): runs on the event loop of the thread that owns the source.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { FdServer, NativeError, type FdSocket } from '../../native/index.js';
import type { SurfaceFd } from './dbus-display.js';
import type { DisplaySource, Surface } from './display-source.js';
import { ShareClientDecoder, ShareProtocolError, encodeLine, type ShareServerMessage } from './surface-share-protocol.js';

/** A display that can lend the memfd of its current 'map' surface (DbusDisplay). */
export interface ShareableSource extends DisplaySource {
  surfaceFd(surfaceId: number): SurfaceFd | null;
}

export function isShareable(s: DisplaySource): s is ShareableSource {
  return typeof (s as Partial<ShareableSource>).surfaceFd === 'function';
}

export interface ShareTicketEvents {
  /** the client acknowledged surface `id` (it reads it through its own mapping now) */
  held: [id: number];
  /** the client no longer holds any surface (it left, or a new surface is not mapped yet) */
  lost: [];
}

/** One viewer's permission to connect, and what its client currently holds. Owner thread. */
export class ShareTicket extends EventEmitter<ShareTicketEvents> {
  readonly token = randomBytes(32).toString('hex');
  /** the surface id the client acknowledged and that is still current, or null */
  heldId: number | null = null;
  /** @internal set by the server while a client uses this ticket */
  conn: FdSocket | null = null;
  revoked = false;

  constructor(private readonly onRevoke: (t: ShareTicket) => void) {
    super();
  }

  /** Whether frames of surface `id` may go without pixels to this ticket's viewer. */
  holds(id: number): boolean {
    return this.heldId === id && this.conn !== null;
  }

  /** The viewer is gone: close its client connection, refuse the token from now on. */
  revoke(): void {
    if (this.revoked) return;
    this.revoked = true;
    this.onRevoke(this);
  }

  /** @internal */
  setHeld(id: number | null): void {
    const was = this.heldId;
    this.heldId = id;
    if (id !== null && id !== was) this.emit('held', id);
    if (id === null && was !== null) this.emit('lost');
  }
}

export interface SurfaceShareStats {
  clients: number;
  /** bytes written to clients (JSON lines only) */
  bytesSent: number;
  bytesReceived: number;
  fdsSent: number;
  refused: number;
}

export interface SurfaceShareOptions {
  /** how long a new connection has to present its token (default 5000 ms) */
  tokenTimeoutMs?: number;
  log?: (line: string) => void;
}

export class SurfaceShareServer {
  private readonly tickets = new Set<ShareTicket>();
  private readonly counters: SurfaceShareStats = { clients: 0, bytesSent: 0, bytesReceived: 0, fdsSent: 0, refused: 0 };
  private readonly onSurface = (s: Surface) => this.surfaceChanged(s);
  private readonly onClosed = () => this.close();
  private closed = false;

  private constructor(
    private readonly source: ShareableSource,
    private readonly server: FdServer,
    readonly path: string,
    private readonly opts: SurfaceShareOptions,
  ) {
    server.on('connection', (sock) => this.accepted(sock));
    server.on('acceptError', (err) => this.log(`surface share: accept failed (${err.code}); retrying`));
    source.on('surface', this.onSurface);
    source.on('closed', this.onClosed);
  }

  /**
   * Listens at `path` (put it in the VM's 0700 runtime dir; the socket file is 0600). A stale
   * socket file left by a crashed predecessor is replaced. Throws NativeError on listen failures.
   */
  static listen(source: ShareableSource, path: string, opts: SurfaceShareOptions = {}): SurfaceShareServer {
    let server: FdServer;
    try {
      server = FdServer.listen(path);
    } catch (err) {
      if (!(err instanceof NativeError) || err.errnoName !== 'EADDRINUSE') throw err;
      // Ours from an earlier utility (same private dir); a live one would be the same VM's, which is not allowed to coexist.
      unlinkQuiet(path);
      server = FdServer.listen(path);
    }
    return new SurfaceShareServer(source, server, path, opts);
  }

  /** A new ticket; give its token to exactly one viewer. */
  admit(): ShareTicket {
    if (this.closed) throw new Error('the surface share server is closed');
    const t = new ShareTicket((x) => this.revoked(x));
    this.tickets.add(t);
    return t;
  }

  stats(): SurfaceShareStats {
    return { ...this.counters };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stops listening (removes the socket file), ends every client, revokes every ticket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.off('surface', this.onSurface);
    this.source.off('closed', this.onClosed);
    this.server.close();
    for (const t of [...this.tickets]) t.revoke();
  }

  private log(line: string): void {
    (this.opts.log ?? ((l: string) => console.error(`kju: ${l}`)))(line);
  }

  private revoked(t: ShareTicket): void {
    this.tickets.delete(t);
    t.conn?.destroy();
  }

  private accepted(sock: FdSocket): void {
    if (this.closed) return void sock.destroy();
    sock.on('error', () => {}); // a vanished client is an ordinary end here
    sock.on('fds', (fds: number[]) => sock.closeFds(fds)); // clients send no fds
    const lines = new ShareClientDecoder();
    let ticket: ShareTicket | null = null;
    const timer = setTimeout(() => refuse('no token in time'), this.opts.tokenTimeoutMs ?? 5000);
    const refuse = (reason: string) => {
      clearTimeout(timer);
      this.counters.refused++;
      if (!sock.destroyed) {
        this.write(sock, { t: 'refused', reason });
        sock.end();
        setTimeout(() => sock.destroy(), 1000).unref();
      }
    };
    sock.on('data', (chunk: Buffer) => {
      this.counters.bytesReceived += chunk.byteLength;
      try {
        for (const m of lines.push(chunk)) {
          if (sock.destroyed) return;
          if (!ticket) {
            ticket = m.t === 'token' ? this.redeem(m.token) : null;
            if (!ticket) return refuse('bad token');
            clearTimeout(timer);
            ticket.conn = sock;
            this.counters.clients++;
            this.sendCurrent(ticket);
          } else if (m.t === 'ack') {
            const cur = this.source.surface;
            // An ack of a surface that is no longer current changes nothing.
            if (cur && m.id === cur.id && this.source.surfaceFd(cur.id)) ticket.setHeld(m.id);
          } else {
            throw new ShareProtocolError('a second token');
          }
        }
      } catch (err) {
        if (!(err instanceof ShareProtocolError)) throw err;
        if (!ticket) return refuse(`bad token (${err.message})`);
        this.log(`surface share: client closed (${err.message})`);
        sock.destroy();
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      const t = ticket as ShareTicket | null;
      if (t && t.conn === sock) {
        t.conn = null;
        this.counters.clients--;
        t.setHeld(null);
      }
    });
  }

  /** The unrevoked, unused ticket with this token (compared in constant time), or null. */
  private redeem(token: string): ShareTicket | null {
    const given = Buffer.from(token);
    for (const t of this.tickets) if (!t.revoked && timingSafeEqual(given, Buffer.from(t.token))) return t.conn ? null : t;
    return null;
  }

  private surfaceChanged(s: Surface): void {
    for (const t of this.tickets) {
      if (!t.conn) continue;
      t.heldId = null; // until the client acknowledges the new one (no 'lost': the pump resends the new surface whole anyway)
      this.sendCurrent(t, s);
    }
  }

  private sendCurrent(t: ShareTicket, s: Surface | null = this.source.surface): void {
    const sock = t.conn;
    if (!sock || !s) return;
    const fd = this.source.surfaceFd(s.id);
    if (!fd) return this.write(sock, { t: 'unshared', id: s.id });
    const m: ShareServerMessage = { t: 'surface', id: s.id, width: fd.width, height: fd.height, stride: fd.stride, offset: fd.offset, length: fd.length, format: fd.format };
    const line = encodeLine(m);
    this.counters.bytesSent += line.byteLength;
    this.counters.fdsSent++;
    sock.writeWithFds(line, [fd.fd]); // dups now: the display may close its fd on the next surface
  }

  private write(sock: FdSocket, m: ShareServerMessage): void {
    const line = encodeLine(m);
    this.counters.bytesSent += line.byteLength;
    sock.write(line);
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

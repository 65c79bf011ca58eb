// The VM window's WebSockets of `kju serve`: a display socket per (vm, console) viewer, sharing one
// DisplayHub per console (opened by its first viewer, closed after its last), and a sound socket per
// viewer. The upgrade's token, origin and path were checked by the caller.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServeBackend } from '../backend/backend.js';
import { toFailure } from '../backend/failure.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';
import { relayAudio } from './audio-relay.js';
import type { SocketEvents } from './backend-sockets.js';
import { DisplayHub, type FlowLimits, type ViewerStats } from './display-hub.js';
import { CloseCode, MAX_CLIPBOARD_MESSAGE, MAX_DISPLAY_MESSAGE } from './protocol.js';

export class ViewerSockets {
  private readonly hubs = new Map<string, Promise<DisplayHub | string>>();
  private readonly openHubs = new Set<DisplayHub>();
  private readonly wssDisplay: WebSocketServer;
  private readonly wssAudio: WebSocketServer;

  constructor(
    private readonly backend: ServeBackend,
    private readonly limits: FlowLimits,
    private readonly events: SocketEvents,
    handleProtocols: () => string,
  ) {
    this.wssDisplay = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIPBOARD_MESSAGE, handleProtocols });
    // the page sends nothing on the audio socket but its opening; the display's small-message limit is plenty
    this.wssAudio = new WebSocketServer({ noServer: true, maxPayload: MAX_DISPLAY_MESSAGE, handleProtocols });
  }

  get viewerCount(): number {
    return [...this.openHubs].reduce((n, h) => n + h.viewers.size, 0);
  }
  get displayCount(): number {
    return this.openHubs.size;
  }
  viewers(): ViewerStats[] {
    return [...this.openHubs].flatMap((h) => [...h.viewers].map((v) => v.stats()));
  }

  async acceptDisplay(req: IncomingMessage, socket: Duplex, head: Buffer, vmId: string, consoleNo: number): Promise<void> {
    const hub = await this.hubFor(vmId, consoleNo);
    this.wssDisplay.handleUpgrade(req, socket, head, (ws) => {
      if (typeof hub === 'string' || hub.isEnded) {
        refuse(ws, typeof hub === 'string' ? hub : 'the display has ended');
        return;
      }
      hub.addViewer(ws);
    });
    // handleUpgrade gives up silently on a socket that died while the display opened.
    if (typeof hub !== 'string') queueMicrotask(() => hub.releaseIfUnused());
  }

  async acceptAudio(req: IncomingMessage, socket: Duplex, head: Buffer, vmId: string): Promise<void> {
    const r = this.backend.openAudio
      ? await this.backend.openAudio(vmId).catch((err: unknown) => toFailure(err, 'openAudio', this.events.log))
      : { ok: false as const, code: 'unavailable', message: 'this backend has no sound' };
    this.wssAudio.handleUpgrade(req, socket, head, (ws) => {
      if (!r.ok) return refuse(ws, r.message);
      relayAudio(r.value, ws, this.events.log);
    });
    if (r.ok && socket.destroyed) r.value.close();
  }

  /** Ends every display (its viewers hear why) and cuts every socket. */
  close(): void {
    for (const hub of [...this.openHubs]) hub.end(null);
  }
  terminate(): void {
    for (const ws of [...this.wssDisplay.clients, ...this.wssAudio.clients]) ws.terminate();
  }

  /** One hub per (vm, console), opened by the first viewer; a string is why it could not open. */
  private hubFor(vmId: string, consoleNo: number): Promise<DisplayHub | string> {
    const key = JSON.stringify([vmId, consoleNo]);
    let p = this.hubs.get(key);
    if (!p) {
      p = this.backend.openDisplay(vmId, consoleNo).then(
        async (r) => {
          if (!r.ok) {
            this.hubs.delete(key);
            return r.message;
          }
          const clipboard = await this.clipboardOf(vmId);
          const hub = new DisplayHub(
            vmId,
            consoleNo,
            r.value,
            this.limits,
            this.events,
            () => {
              this.hubs.delete(key);
              this.openHubs.delete(hub);
            },
            clipboard,
          );
          this.openHubs.add(hub);
          return hub;
        },
        (err: unknown) => {
          this.hubs.delete(key);
          return err instanceof Error ? err.message : String(err);
        },
      );
      this.hubs.set(key, p);
    }
    return p;
  }

  /** The VM's clipboard for its viewers, when it shares it; a failure is logged and means none. */
  private async clipboardOf(vmId: string): Promise<GuestClipboard | undefined> {
    const r = await this.backend.sharedClipboard?.(vmId).catch((err: unknown) => toFailure(err, 'sharedClipboard', this.events.log));
    if (r && !r.ok) this.events.log(`clipboard of ${vmId} not shared: ${r.message}`);
    return (r?.ok && r.value) || undefined;
  }
}

function refuse(ws: WebSocket, reason: string): void {
  ws.send(JSON.stringify({ t: 'closed', reason }));
  ws.close(CloseCode.displayUnavailable, reason.slice(0, 120));
}

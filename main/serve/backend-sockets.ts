// The backend WebSockets of `kju serve` (BACKEND_PATH): each browser tab's calls into the backend,
// their replies, and the pushes (VM list, progress) to every tab. A tab that lets replies or calls
// pile up is closed (see MAX_BACKEND_PENDING, MAX_BACKEND_BUFFERED in ./protocol.ts).
import type { WebSocket } from 'ws';
import type { Result } from '../../common/contract.js';
import type { ServeBackend } from '../backend/backend.js';
import { toFailure } from '../backend/failure.js';
import { CloseCode, MAX_BACKEND_BUFFERED, MAX_BACKEND_PENDING, parseBackendRequest, type BackendServerMessage } from './protocol.js';

export interface SocketEvents {
  protocolViolation(why: string): void;
  log(line: string): void;
}

export class BackendSockets {
  /** calls of each client whose reply has not been sent yet */
  private readonly pending = new Map<WebSocket, number>();
  private readonly unsubscribe: (() => void)[];

  constructor(
    private readonly backend: ServeBackend,
    private readonly events: SocketEvents,
  ) {
    this.unsubscribe = [backend.onVmsChanged((vms) => this.push({ t: 'vms', vms })), backend.onProgress?.((p) => this.push({ t: 'progress', opId: p.opId, percent: p.percent })) ?? (() => {})];
  }

  get size(): number {
    return this.pending.size;
  }

  accept(ws: WebSocket): void {
    this.pending.set(ws, 0);
    ws.on('close', () => this.pending.delete(ws));
    ws.on('error', (err) => this.events.protocolViolation(`backend socket error: ${err.message}`));
    const reply = (m: BackendServerMessage) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
      this.closeIfBehind(ws);
    };
    ws.on('message', (data, isBinary) => {
      if (this.closeIfBehind(ws)) return;
      if (isBinary) {
        this.events.protocolViolation('backend client closed: binary message');
        return ws.close(CloseCode.unsupportedData, 'binary message');
      }
      const p = parseBackendRequest(data.toString());
      if (p.kind === 'fatal' || p.kind === 'drop') {
        this.events.protocolViolation(`backend client closed: ${p.why}`);
        return ws.close(CloseCode.policyViolation, p.why.slice(0, 120));
      }
      if (p.kind === 'reply') return reply({ id: p.id, result: p.result });
      const { id, method, args } = p.value;
      const settled = () => {
        const n = this.pending.get(ws);
        if (n !== undefined) this.pending.set(ws, n - 1);
      };
      this.pending.set(ws, (this.pending.get(ws) ?? 0) + 1);
      // The union of requests does not narrow `call`'s generic; each method's args were checked in parseBackendRequest.
      (this.backend.call as (m: string, a: unknown) => Promise<unknown>)(method, args).then(
        (result) => (settled(), reply({ id, result: result as Result<unknown> })),
        (err: unknown) => (settled(), reply({ id, result: toFailure(err, undefined, this.events.log) })),
      );
    });
  }

  /** Stops the pushes and says goodbye to every client. */
  close(): void {
    for (const u of this.unsubscribe) u();
    for (const ws of this.pending.keys()) ws.close(1001, 'kju serve is shutting down');
  }

  private push(m: BackendServerMessage): void {
    const text = JSON.stringify(m);
    for (const ws of this.pending.keys()) {
      if (ws.readyState === ws.OPEN) ws.send(text);
      this.closeIfBehind(ws);
    }
  }

  /** Closes a client that lets replies pile up; true when it was closed. */
  private closeIfBehind(ws: WebSocket): boolean {
    if (ws.readyState !== ws.OPEN) return true;
    const pending = this.pending.get(ws) ?? 0;
    if (pending <= MAX_BACKEND_PENDING && ws.bufferedAmount <= MAX_BACKEND_BUFFERED) return false;
    const why = pending > MAX_BACKEND_PENDING ? `more than ${MAX_BACKEND_PENDING} calls in flight` : `not reading its replies (${ws.bufferedAmount} bytes waiting)`;
    this.events.protocolViolation(`backend client closed: ${why}`);
    ws.close(CloseCode.policyViolation, why);
    // A client that does not read will not answer the close either; drop what it never read.
    setTimeout(() => ws.terminate(), 5000).unref();
    return true;
  }
}

// A DisplaySource wrapper that stamps every damage batch on arrival (Node wall clock) and works out
// which frame packet of the one serve viewer carried it, for damage-to-texture latency. Runs on the
// Node event loop that owns the inner source.
//
// Attribution: the serve viewer sends a packet either synchronously inside our 'damage' emit (a
// pull was pending) or when a pull arrives (the queue was non-empty); every packet takes the
// viewer's whole damage queue. So damage still pending when the viewer's framesSent grows went out
// in packet number lastSeen + 1, exactly; checking before and after each emit finds every send.
// A send on a pull happens inside FramePump.flush(), which reads `surface` first: a microtask
// queued there settles right after that send, which stamps when the packet left the pump.
import { EventEmitter } from 'node:events';
import type { CursorShape, InputMessage, Rect } from '../common/contract.js';
import type { DisplaySource, DisplaySourceEvents, Surface } from '../main/display/display-source.js';

export interface DamageRecord {
  /** Node wall clock (performance.timeOrigin + now()) when the batch reached this thread, ms */
  arrivedAt: number;
  rects: number;
  pixels: number;
  /** the viewer's packet number (1-based) that carried it; 0 while not yet sent */
  frame: number;
  /** Node wall clock when the listener worker read the batch's oldest update (NaN: not a D-Bus display) */
  receivedAt: number;
  /** Node wall clock when the packet carrying it was seen leaving the pump (NaN while not sent) */
  sentAt: number;
}

export const nodeWall = (): number => performance.timeOrigin + performance.now();

export class TimedSource extends EventEmitter<DisplaySourceEvents> implements DisplaySource {
  readonly records: DamageRecord[] = [];
  private pending: DamageRecord[] = [];
  private lastSeen = 0;
  private settleQueued = false;
  private readonly settleSoon = () => {
    this.settleQueued = false;
    this.settle();
  };
  private readonly forward: { [K in keyof DisplaySourceEvents]?: (...a: DisplaySourceEvents[K]) => void } = {};

  constructor(
    readonly inner: DisplaySource,
    /** packets sent so far to the viewer being measured */
    private readonly framesSent: () => number,
  ) {
    super();
    const pass =
      <K extends keyof DisplaySourceEvents>(k: K) =>
      (...a: DisplaySourceEvents[K]) =>
        (this.emit as (k: K, ...a: DisplaySourceEvents[K]) => boolean)(k, ...a);
    this.forward.surface = (s: Surface) => {
      this.settle();
      this.emit('surface', s);
      this.settle();
    };
    this.forward.damage = (rects: Rect[]) => this.onDamage(rects);
    this.forward.cursor = pass('cursor');
    this.forward.mouse = pass('mouse');
    this.forward['input-mode'] = pass('input-mode');
    this.forward.disabled = pass('disabled');
    this.forward.closed = pass('closed');
    for (const [k, f] of Object.entries(this.forward)) inner.on(k as keyof DisplaySourceEvents, f as never);
  }

  get surface(): Surface | null {
    if (!this.settleQueued) {
      this.settleQueued = true;
      queueMicrotask(this.settleSoon);
    }
    return this.inner.surface;
  }
  get cursor(): CursorShape | null {
    return this.inner.cursor;
  }
  get absolute(): boolean {
    return this.inner.absolute;
  }
  get modifiers(): number {
    return this.inner.modifiers;
  }
  sendInput(input: InputMessage): void {
    this.inner.sendInput(input);
  }

  close(): void {
    for (const [k, f] of Object.entries(this.forward)) this.inner.off(k as keyof DisplaySourceEvents, f as never);
    this.inner.close();
  }

  /** the viewer's packets counted at the last settle() */
  get sentSeen(): number {
    return this.lastSeen;
  }

  /** Attributes pending damage if a packet went out since the last look. Call before reading records. */
  settle(): void {
    const sent = this.framesSent();
    if (sent > this.lastSeen) {
      const now = nodeWall();
      for (const r of this.pending) {
        r.frame = this.lastSeen + 1;
        r.sentAt = now;
      }
      this.pending = [];
      this.lastSeen = sent;
    }
  }

  private onDamage(rects: Rect[]): void {
    const arrivedAt = nodeWall();
    this.settle();
    let pixels = 0;
    for (const r of rects) pixels += r.w * r.h;
    const receivedAt = (this.inner as { lastBatchReceivedAt?: number }).lastBatchReceivedAt ?? NaN;
    const rec: DamageRecord = { arrivedAt, rects: rects.length, pixels, frame: 0, receivedAt, sentAt: NaN };
    this.records.push(rec);
    this.pending.push(rec);
    this.emit('damage', rects);
    this.settle();
  }
}

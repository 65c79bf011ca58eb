// Paced key sequences: the one way kju sends synthesized press/release events to a guest (the
// window's key combos, `kju type` and `kju key`). Pure logic with an injectable clock; runs on the
// caller's event loop (renderer or Node).

/** One key event: a QEMU key number (XT set 1, extended keys as 0x80 | code) pressed or released. */
export interface KeyEvent {
  qnum: number;
  down: boolean;
}

/** The guest's PS/2 queue holds 16 bytes (≤ 2 per event) and unpaced bursts lose keys under TCG; 12 ms kept `kju type` lossless. */
export const KEY_PACE_MS = 12;

/** A chord's events: presses in the order given, then releases in reverse. */
export function chordEvents(qnums: readonly number[]): KeyEvent[] {
  return [...qnums.map((qnum) => ({ qnum, down: true })), ...[...qnums].reverse().map((qnum) => ({ qnum, down: false }))];
}

// common/ has neither DOM nor Node types; both have a global setTimeout.
const timers = globalThis as unknown as { setTimeout(cb: () => void, ms: number): unknown };
const wait = (ms: number): Promise<void> => new Promise((resolve) => timers.setTimeout(resolve, ms));

export interface PaceOptions {
  /** pause before each event after the first (default KEY_PACE_MS) */
  paceMs?: number;
  /** the clock (tests pass one that records) */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends events one at a time: waits for `send` (which may return a promise that settles when QEMU
 * has taken the event), then pauses before the next. Resolves after the last event was sent;
 * rejects with the first error `send` throws or rejects with, sending nothing after it.
 */
export async function sendPacedKeys(events: readonly KeyEvent[], send: (e: KeyEvent) => unknown, opts: PaceOptions = {}): Promise<void> {
  const paceMs = opts.paceMs ?? KEY_PACE_MS;
  const sleep = opts.sleep ?? wait;
  for (let i = 0; i < events.length; i++) {
    if (i > 0 && paceMs > 0) await sleep(paceMs);
    await send(events[i]!);
  }
}

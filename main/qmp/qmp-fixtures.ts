// Test data for the QMP tests: a transcript in QEMU 10.0's own formatting, and a small PRNG.
import { EventEmitter } from 'node:events';
import type { QmpStream } from './qmp-client.js';
export { seededRandom } from '../../common/seeded-random.js';

export const QMP_GREETING = '{"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": "Debian 1:10.0.2+ds-2+deb13u1~bpo12+1"}, "capabilities": ["oob"]}}\r\n';

/** What QEMU sends for: greeting, qmp_capabilities (kju-1), query-status (kju-2), an event, a
 *  failing command (kju-3), query-name (kju-4) with non-ASCII text. */
export const QMP_TRANSCRIPT =
  QMP_GREETING +
  '{"return": {}, "id": "kju-1"}\r\n' +
  '{"return": {"status": "running", "running": true}, "id": "kju-2"}\r\n' +
  '{"timestamp": {"seconds": 1763884000, "microseconds": 123456}, "event": "RESET", "data": {"guest": true, "reason": "guest-reset"}}\r\n' +
  '{"id": "kju-3", "error": {"class": "CommandNotFound", "desc": "The command bogus has not been found"}}\r\n' +
  '{"return": {"name": "démo ✓ 🖥"}, "id": "kju-4"}\r\n';

/** An in-memory QmpStream: records what the client writes; the test pushes bytes back. */
export class FakeQmpStream extends EventEmitter implements QmpStream {
  readonly written: Buffer[] = [];
  readonly fdWrites: { data: Buffer; fds: number[] }[] = [];
  destroyed = false;
  /** Called for each command the client writes (parsed). */
  onCommand: ((cmd: { execute: string; id: string; arguments?: unknown }) => void) | undefined;

  write(data: Uint8Array): boolean {
    const b = Buffer.from(data);
    this.written.push(b);
    this.parse(b);
    return true;
  }

  deliver(text: string | Buffer, splitEvery = 0): void {
    const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    if (!splitEvery) {
      this.emit('data', buf);
      return;
    }
    for (let i = 0; i < buf.length; i += splitEvery) this.emit('data', Buffer.from(buf.subarray(i, i + splitEvery)));
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => this.emit('close'));
  }

  protected parse(b: Buffer): void {
    for (const line of b.toString('utf8').split('\r\n').filter(Boolean)) {
      this.onCommand?.(JSON.parse(line) as { execute: string; id: string; arguments?: unknown });
    }
  }
}

export class FakeFdQmpStream extends FakeQmpStream {
  writeWithFds(data: Uint8Array, fds: number[]): boolean {
    const b = Buffer.from(data);
    this.fdWrites.push({ data: b, fds });
    this.parse(b);
    return true;
  }
}

// What a QEMU launch reports when it fails, shared by launch.ts and swtpm.ts (kept below both so
// they do not import each other): the exit of QEMU, the launch error and the log tail it quotes.
import { readFileSync } from 'node:fs';
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

export interface QemuExit {
  /** null when killed by a signal, or when unknown (re-attached process). */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines QEMU wrote to its log in this run. */
  logTail: string[];
}

export class QemuLaunchError extends KjuError {
  override name = 'QemuLaunchError';
  constructor(
    message: string,
    readonly exit?: QemuExit,
    options?: KjuErrorOptions,
  ) {
    super('launch-failed', message, options);
  }
}

const TAIL_LINES = 20;

/** Last `n` lines of `file` from byte `from` on (the current run's part of an appended log). */
export function readLogTail(file: string, from = 0, n = TAIL_LINES): string[] {
  let text: string;
  try {
    const buf = readFileSync(file);
    text = buf.subarray(Math.min(from, buf.length)).toString('utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-n);
}

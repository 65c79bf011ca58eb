// Test helper: the demo guest's root shell on ttyS0, reached through QEMU's serial unix socket.
// Runs on the Node event loop of the test; one command at a time.
import net from 'node:net';
import { KjuError } from '../../common/errors.js';

export class SerialCommandError extends KjuError {
  override name = 'SerialCommandError';
  constructor(
    readonly command: string,
    readonly status: number,
    readonly output: string,
  ) {
    super('guest-command-failed', `guest command failed (status ${status}): ${command}\n${output}`);
  }
}

export class SerialConsole {
  /** Everything the guest wrote since connect ("\r\n" normalized to "\n", lone "\r" dropped). */
  private text = '';
  /** waitFor() searches from here; a match moves it past the match. */
  private cursor = 0;
  private heldCr = '';
  private waiters = new Set<() => void>();
  private closed = false;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => {
      // A "\r\n" may be split across chunks: hold a trailing "\r" back until the next one.
      let chunk = this.heldCr + s;
      this.heldCr = chunk.endsWith('\r') ? '\r' : '';
      if (this.heldCr) chunk = chunk.slice(0, -1);
      this.text += chunk.replace(/\r+\n/g, '\n').replace(/\r/g, '');
      for (const w of [...this.waiters]) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of [...this.waiters]) w();
    });
    socket.on('error', () => {});
  }

  /** Connects to QEMU's `-serial unix:...,server=on` socket (retrying until it exists). */
  static async connect(path: string, timeoutMs = 10_000): Promise<SerialConsole> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection({ path });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new SerialConsole(socket);
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`cannot connect to the serial socket ${path}: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** All output received so far. */
  get output(): string {
    return this.text;
  }

  write(data: string): void {
    this.socket.write(data);
  }

  /** Resolves with the first match of `re` in output not yet consumed by an earlier waitFor/run. */
  waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const flags = re.flags.replace('g', '').replace('y', '');
        const m = new RegExp(re.source, flags).exec(this.text.slice(this.cursor));
        if (m) {
          this.cursor += m.index + m[0].length;
          finish();
          resolve(m);
          return true;
        }
        if (this.closed) {
          finish();
          reject(new Error(`serial console closed while waiting for ${re}; last output:\n${this.tail()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`no ${re} on the serial console within ${timeoutMs} ms; last output:\n${this.tail()}`));
      }, timeoutMs);
      const waiter = () => void check();
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
      check();
    });
  }

  /**
   * Runs `cmd` in the guest shell and resolves with its output (stdout+stderr, "\n" line ends,
   * no trailing newline). Rejects with SerialCommandError on a non-zero status unless allowFailure.
   * Commands are queued, so concurrent calls do not interleave.
   */
  run(cmd: string, opts: { timeoutMs?: number; allowFailure?: boolean } = {}): Promise<string> {
    const job = this.queue.then(() => this.runNow(cmd, opts.timeoutMs ?? 30_000, opts.allowFailure ?? false));
    this.queue = job.catch(() => undefined);
    return job;
  }

  private async runNow(cmd: string, timeoutMs: number, allowFailure: boolean): Promise<string> {
    if (cmd.includes('\n')) throw new Error('serial.run: one line only');
    const id = `${process.pid}x${this.nextId++}`;
    // One line, so nothing of ours is echoed while the command runs; the markers are split by ""
    // in the command line, so its echo never matches them.
    this.write(`echo KJU""B${id}; ${cmd.replace(/[\s;]+$/, '')}; echo KJU""E${id}:$?\n`);
    await this.waitFor(new RegExp(`\\nKJUB${id}\\n`), timeoutMs);
    const start = this.cursor;
    const end = await this.waitFor(new RegExp(`KJUE${id}:(\\d+)\\n`), timeoutMs);
    const output = this.text.slice(start, this.cursor - end[0].length).replace(/\n$/, '');
    const status = Number(end[1]);
    if (status !== 0 && !allowFailure) throw new SerialCommandError(cmd, status, output);
    return output;
  }

  close(): void {
    this.socket.destroy();
  }

  private tail(): string {
    return this.text.slice(-800);
  }
}

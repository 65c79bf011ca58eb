// JSON-lines framing, the one decoder for every JSON-per-line stream kju reads (QMP, kju.sock, the
// surface-share socket). Bytes may arrive split anywhere, including inside a multi-byte UTF-8
// character, so lines are cut on the raw bytes first. Runs on whichever loop owns the stream.
import { KjuError, type KjuErrorOptions } from '../../common/errors.js';

/** The stream broke the framing: a line that is not JSON, or a line longer than allowed. */
export class JsonLinesError extends KjuError {
  override name = 'JsonLinesError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('protocol-error', message, options);
  }
}

/** Feed raw chunks; returns the complete JSON values they finish. Not thread-safe; one owner. */
export class JsonLineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** `maxLine`: bytes an unfinished line may hold before the stream is refused (unbounded by default). */
  constructor(private readonly maxLine = Infinity) {}

  /** Throws JsonLinesError for a line that is not JSON or too long (the stream is then unusable). */
  push(chunk: Uint8Array | string): unknown[] {
    if (typeof chunk === 'string') chunk = Buffer.from(chunk, 'utf8');
    const out: unknown[] = [];
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let nl = buf.indexOf(0x0a);
    while (nl !== -1) {
      const head = buf.subarray(0, nl);
      const line = this.pendingBytes ? Buffer.concat([...this.pending, head]) : head;
      this.pending = [];
      this.pendingBytes = 0;
      if (line.length > this.maxLine) throw new JsonLinesError(`line longer than ${this.maxLine} bytes`);
      const value = parseLine(line);
      if (value !== undefined) out.push(value);
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length) {
      // Copy: the caller may reuse its chunk buffer.
      this.pending.push(Buffer.from(buf));
      this.pendingBytes += buf.length;
      if (this.pendingBytes > this.maxLine) throw new JsonLinesError(`line longer than ${this.maxLine} bytes`);
    }
    return out;
  }

  /** Bytes of an unfinished line still held. */
  get buffered(): number {
    return this.pendingBytes;
  }
}

function parseLine(line: Buffer): unknown {
  const text = line.toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    throw new JsonLinesError(`a line that is not JSON: ${shown}`, { cause: err });
  }
}

/** One JSON value as one line ("\r\n" ends it, which QMP wants and every decoder here accepts). */
export function encodeJsonLine(message: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\r\n`, 'utf8');
}

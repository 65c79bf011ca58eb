// QMP framing: one JSON object per line ("\r\n" terminated). Bytes may arrive split anywhere,
// including inside a multi-byte UTF-8 character, so lines are cut on the raw bytes first.

export class QmpProtocolError extends Error {
  override name = 'QmpProtocolError';
}

/** Feed raw chunks; returns the complete JSON values they finish. Not thread-safe; one owner. */
export class JsonLineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Throws QmpProtocolError for a line that is not JSON (the stream is then unusable). */
  push(chunk: Uint8Array): unknown[] {
    const out: unknown[] = [];
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let nl = buf.indexOf(0x0a);
    while (nl !== -1) {
      const head = buf.subarray(0, nl);
      const line = this.pendingBytes ? Buffer.concat([...this.pending, head]) : head;
      this.pending = [];
      this.pendingBytes = 0;
      const value = parseLine(line);
      if (value !== undefined) out.push(value);
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length) {
      // Copy: the caller may reuse its chunk buffer.
      this.pending.push(Buffer.from(buf));
      this.pendingBytes += buf.length;
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
    throw new QmpProtocolError(`QMP sent a line that is not JSON: ${shown}`, { cause: err });
  }
}

export function encodeCommand(message: Record<string, unknown>): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\r\n`, 'utf8');
}

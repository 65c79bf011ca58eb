// LineSplitter, the string line framer that display/surface-share*.ts still use (kju.sock itself
// moved to owner-protocol.ts and the byte-safe JsonLineDecoder); it goes when they move off it.

/** Splits a byte stream into lines, whatever the chunk boundaries; caps line length. */
export class LineSplitter {
  private buf = '';
  constructor(private readonly maxLine = 1 << 20) {}
  push(chunk: string): string[] {
    this.buf += chunk;
    const lines = this.buf.split('\n');
    this.buf = lines.pop()!;
    if (this.buf.length > this.maxLine) throw new Error(`line longer than ${this.maxLine} bytes`);
    return lines.filter((l) => l.trim().length > 0);
  }
}

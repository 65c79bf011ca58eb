// The PCM format QEMU announces in AudioOutListener.Init, checked, and its samples as float32.
// Pure (runs in the audio listener worker and in tests): a format kju cannot play is refused with
// the reason, never guessed at, so a bad Init costs one log line and no sound, not a crash.

export interface PcmFormat {
  bits: number;
  signed: boolean;
  float: boolean;
  /** frames per second (Hz) */
  rate: number;
  channels: number;
  bytesPerFrame: number;
  bytesPerSecond: number;
  bigEndian: boolean;
}

export const MIN_RATE = 4000;
export const MAX_RATE = 192_000;
export const MAX_CHANNELS = 8;

/** Init's arguments in order (t y b b u y u u b) without the stream id. */
export type InitArgs = [bits: number, signed: boolean, float: boolean, rate: number, channels: number, bytesPerFrame: number, bytesPerSecond: number, bigEndian: boolean];

/** The format, or a sentence saying why kju refuses it. */
export function checkPcmFormat(args: InitArgs): { ok: true; format: PcmFormat } | { ok: false; reason: string } {
  const [bits, signed, float, rate, channels, bytesPerFrame, bytesPerSecond, bigEndian] = args;
  const f: PcmFormat = { bits, signed, float, rate, channels, bytesPerFrame, bytesPerSecond, bigEndian };
  const bad = (reason: string) => ({ ok: false as const, reason: `${reason} (Init said ${describePcmFormat(f)})` });
  if (float ? bits !== 32 : ![8, 16, 32].includes(bits)) return bad(`${bits}-bit ${float ? 'float' : 'integer'} samples are not a PCM kju plays`);
  if (!Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE) return bad(`a rate of ${rate} Hz is outside ${MIN_RATE}..${MAX_RATE}`);
  if (!Number.isInteger(channels) || channels < 1 || channels > MAX_CHANNELS) return bad(`${channels} channels is outside 1..${MAX_CHANNELS}`);
  if (bytesPerFrame !== (channels * bits) / 8) return bad(`${bytesPerFrame} bytes per frame does not match ${channels} × ${bits} bits`);
  if (bytesPerSecond !== rate * bytesPerFrame) return bad(`${bytesPerSecond} bytes per second does not match ${rate} Hz × ${bytesPerFrame} bytes`);
  return { ok: true, format: f };
}

export function describePcmFormat(f: PcmFormat): string {
  const kind = f.float ? 'f' : f.signed ? 's' : 'u';
  return `${kind}${f.bits}${f.bits > 8 ? (f.bigEndian ? 'be' : 'le') : ''} ${f.rate} Hz × ${f.channels}, ${f.bytesPerFrame} B/frame, ${f.bytesPerSecond} B/s`;
}

/**
 * Interleaved float32 samples in [-1, 1) from `data` in format `f` (checked by checkPcmFormat).
 * A trailing partial frame is dropped. Allocates the result; the caller owns it.
 */
export function pcmToFloat32(data: Uint8Array, f: PcmFormat): Float32Array {
  const frames = Math.floor(data.byteLength / f.bytesPerFrame);
  const n = frames * f.channels;
  const out = new Float32Array(n);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = !f.bigEndian;
  switch (f.bits) {
    case 8:
      for (let i = 0; i < n; i++) out[i] = f.signed ? view.getInt8(i) / 128 : (view.getUint8(i) - 128) / 128;
      break;
    case 16:
      for (let i = 0; i < n; i++) out[i] = f.signed ? view.getInt16(i * 2, le) / 32768 : (view.getUint16(i * 2, le) - 32768) / 32768;
      break;
    case 32:
      if (f.float) for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, le);
      else for (let i = 0; i < n; i++) out[i] = f.signed ? view.getInt32(i * 4, le) / 2147483648 : (view.getUint32(i * 4, le) - 2147483648) / 2147483648;
      break;
  }
  return out;
}

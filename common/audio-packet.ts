// AudioPacket: one run of the guest's PCM in one transferable buffer, for the serve socket and the
// renderer's worklet. Layout (little-endian):
//   u32 magic 'KJUA' | u32 rate (Hz) | u32 channels | u32 frames | f64 receivedAt (ms since the
//   epoch, when kju read QEMU's Write) | frames × channels float32, interleaved
// Decoding checks every field against the size, so a malformed packet is dropped, never misread.

export const AUDIO_MAGIC = 0x41554a4b; // 'KJUA' read as little-endian u32
export const AUDIO_HEADER_BYTES = 24;
export const AUDIO_MAX_RATE = 192_000;
export const AUDIO_MAX_CHANNELS = 8;

export interface AudioChunk {
  rate: number;
  channels: number;
  /** interleaved, frames × channels */
  samples: Float32Array;
  receivedAt: number;
}

export function encodeAudioPacket(c: AudioChunk): ArrayBuffer {
  const frames = Math.floor(c.samples.length / c.channels);
  const buf = new ArrayBuffer(AUDIO_HEADER_BYTES + frames * c.channels * 4);
  const v = new DataView(buf);
  v.setUint32(0, AUDIO_MAGIC, true);
  v.setUint32(4, c.rate, true);
  v.setUint32(8, c.channels, true);
  v.setUint32(12, frames, true);
  v.setFloat64(16, c.receivedAt, true);
  new Float32Array(buf, AUDIO_HEADER_BYTES).set(c.samples.subarray(0, frames * c.channels));
  return buf;
}

/** The chunk (its samples a view into `buf`), or a sentence saying what is wrong with the packet. */
export function decodeAudioPacket(buf: ArrayBuffer): AudioChunk | string {
  if (buf.byteLength < AUDIO_HEADER_BYTES) return `audio packet of ${buf.byteLength} bytes is shorter than its header`;
  const v = new DataView(buf);
  if (v.getUint32(0, true) !== AUDIO_MAGIC) return 'not an audio packet (bad magic)';
  const rate = v.getUint32(4, true);
  const channels = v.getUint32(8, true);
  const frames = v.getUint32(12, true);
  const receivedAt = v.getFloat64(16, true);
  if (rate < 1 || rate > AUDIO_MAX_RATE) return `audio packet rate ${rate} Hz is outside 1..${AUDIO_MAX_RATE}`;
  if (channels < 1 || channels > AUDIO_MAX_CHANNELS) return `audio packet has ${channels} channels, outside 1..${AUDIO_MAX_CHANNELS}`;
  if (buf.byteLength !== AUDIO_HEADER_BYTES + frames * channels * 4) return `audio packet of ${buf.byteLength} bytes does not hold ${frames} frames × ${channels} channels`;
  if (!Number.isFinite(receivedAt)) return 'audio packet time is not a number';
  return { rate, channels, samples: new Float32Array(buf, AUDIO_HEADER_BYTES, frames * channels), receivedAt };
}

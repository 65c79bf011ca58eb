// The strength of one frequency in a block of samples (Goertzel), and the strongest of a range:
// how the sound tests and the bench tell a 1 kHz tone from a 440 Hz one without an FFT library.

/** Power of `freq` Hz in `samples` (mono, `rate` Hz), normalised by the block length. */
export function goertzelPower(samples: ArrayLike<number>, rate: number, freq: number): number {
  const w = (2 * Math.PI * freq) / rate;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.length * samples.length);
}

/** The frequency in [lo, hi] Hz with the most power in `samples`: a 5 Hz scan, then 0.25 Hz around the peak. */
export function dominantFrequency(samples: ArrayLike<number>, rate: number, lo = 50, hi = 5000): number {
  const scan = (from: number, to: number, step: number): number => {
    let best = from;
    let bestPower = -1;
    for (let f = from; f <= to; f += step) {
      const p = goertzelPower(samples, rate, f);
      if (p > bestPower) {
        bestPower = p;
        best = f;
      }
    }
    return best;
  };
  const coarse = scan(lo, hi, 5);
  return scan(Math.max(lo, coarse - 5), Math.min(hi, coarse + 5), 0.25);
}

/** Channel `ch` of interleaved samples. */
export function channelOf(interleaved: Float32Array, channels: number, ch = 0): Float32Array {
  const out = new Float32Array(Math.floor(interleaved.length / channels));
  for (let i = 0; i < out.length; i++) out[i] = interleaved[i * channels + ch];
  return out;
}

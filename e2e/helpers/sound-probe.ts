// Reads the page's sound: the renderer's AudioPlayer shows tests its AnalyserNode as
// `window.__kjuAudio` (`#/vm/<id>?test=1`); the loudest frequency it hears is the guest's tone.
import type { Page } from 'playwright-core';

/** What the renderer's AudioPlayer shows tests as `window.__kjuAudio` (`#/vm/<id>?test=1`). */
interface SoundProbe {
  analyser: AnalyserNode | null;
  latencies: number[];
  status: { state: string; underruns: number };
}
declare global {
  interface Window {
    __kjuAudio?: SoundProbe;
  }
}

/** The analyser's loudest frequency (parabolic interpolation between bins), or null in silence. */
export function peakFrequency(p: Page): Promise<{ freq: number; db: number; state: string } | null> {
  return p.evaluate(() => {
    const a = window.__kjuAudio?.analyser;
    if (!a) return null;
    const bins = new Float32Array(a.frequencyBinCount);
    a.getFloatFrequencyData(bins);
    let k = 1;
    for (let i = 2; i < bins.length - 1; i++) if (bins[i] > bins[k]) k = i;
    if (!(bins[k] > -60)) return null;
    const [l, c, r] = [bins[k - 1], bins[k], bins[k + 1]];
    const shift = (0.5 * (l - r)) / (l - 2 * c + r || 1);
    return { freq: ((k + shift) * a.context.sampleRate) / a.fftSize, db: c, state: window.__kjuAudio!.status.state };
  });
}

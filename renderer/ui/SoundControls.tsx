// The VM window's sound: opens the guest's audio stream (when the bridge has one), plays it through
// an AudioPlayer, and shows mute, volume, "mute when hidden" and the state/level in the status bar.
import { useEffect, useRef, useState } from 'react';
import type { KjuBridge } from '../../common/contract.js';
import { AudioPlayer, type AudioStatus } from '../audio/audio-player.js';
import { useSettings } from '../state/settings.js';

declare global {
  interface Window {
    __kjuAudio?: AudioPlayer;
  }
}

export function SoundControls({ bridge, vmId }: { bridge: KjuBridge; vmId: string }) {
  const [player, setPlayer] = useState<AudioPlayer | null>(null);
  const [problem, setProblem] = useState<string | null>(bridge.openAudio ? null : 'no sound in this window yet');
  const { soundVolume, soundMuted, muteWhenHidden, setSound } = useSettings();

  useEffect(() => {
    if (!bridge.openAudio) return;
    let cancelled = false;
    let p: AudioPlayer | null = null;
    void bridge.openAudio(vmId).then((r) => {
      if (cancelled) return r.ok && r.value.close();
      if (!r.ok) return setProblem(r.message);
      const s = useSettings.getState();
      p = new AudioPlayer(r.value, s.muteWhenHidden);
      p.setVolume(s.soundVolume);
      p.setMuted(s.soundMuted);
      if (/[?&]test=1(&|$)/.test(location.hash)) window.__kjuAudio = p;
      setPlayer(p);
    });
    // Browsers let audio start only after a user gesture: the first click or key in the window.
    const resume = () => p?.resume();
    window.addEventListener('pointerdown', resume);
    window.addEventListener('keydown', resume);
    return () => {
      cancelled = true;
      window.removeEventListener('pointerdown', resume);
      window.removeEventListener('keydown', resume);
      if (window.__kjuAudio === p) delete window.__kjuAudio;
      p?.destroy();
    };
  }, [bridge, vmId]);

  useEffect(() => {
    player?.setVolume(soundVolume);
    player?.setMuted(soundMuted);
    player?.setMuteWhenHidden(muteWhenHidden);
  }, [player, soundVolume, soundMuted, muteWhenHidden]);

  if (problem)
    return (
      <span className="sound-state" data-testid="sound-state" title={problem}>
        sound: off
      </span>
    );
  return (
    <span className="sound-controls">
      <button
        type="button"
        className="icon-button"
        data-testid="sound-mute"
        aria-label="Mute the guest"
        aria-pressed={soundMuted}
        title={soundMuted ? 'Unmute the guest' : 'Mute the guest'}
        onClick={() => setSound({ soundMuted: !soundMuted })}
      >
        <SpeakerIcon muted={soundMuted} />
      </button>
      <input type="range" aria-label="Guest volume" min={0} max={100} value={Math.round(soundVolume * 100)} onChange={(e) => setSound({ soundVolume: Number(e.target.value) / 100 })} />
      <label className="sound-hidden" data-testid="mute-when-hidden" title="Silence the guest while this window is hidden or minimised">
        <input type="checkbox" checked={muteWhenHidden} onChange={(e) => setSound({ muteWhenHidden: e.target.checked })} /> mute when hidden
      </label>
      <SoundState player={player} />
    </span>
  );
}

/** The level changes ten times a second: written into the DOM, no re-render. */
function SoundState({ player }: { player: AudioPlayer | null }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!player) return;
    return player.subscribe((s) => {
      if (ref.current) {
        ref.current.textContent = soundText(s);
        ref.current.title = soundText(s);
        ref.current.dataset.state = s.state;
      }
    });
  }, [player]);
  return (
    <span ref={ref} className="sound-state" data-testid="sound-state">
      sound: —
    </span>
  );
}

/** A speaker, crossed out when muted: drawn, so it shows without an emoji font. */
function SpeakerIcon({ muted }: { muted: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" stroke="currentColor" strokeWidth="1.5" strokeLinejoin="round">
      <path d="M2 6h3l4-3v10l-4-3H2z" fill="currentColor" />
      {muted ? <path d="M11 6l4 4M15 6l-4 4" /> : <path d="M11 5.5a3.5 3.5 0 0 1 0 5M12.5 3.5a6 6 0 0 1 0 9" />}
    </svg>
  );
}

export function soundText(s: AudioStatus): string {
  if (s.state === 'closed') return `sound: ended${s.reason ? ` (${s.reason})` : ''}`;
  if (s.state === 'waiting') return 'sound: silent';
  if (s.state === 'suspended') return 'sound: click to enable';
  if (s.muted) return 'sound: muted';
  if (s.guestMuted) return 'sound: muted by the guest';
  const db = s.level > 0 ? `${Math.max(-60, 20 * Math.log10(s.level)).toFixed(0)} dB` : '−∞ dB';
  return `sound: ${db}${s.underruns ? ` · ${s.underruns} underruns` : ''}`;
}

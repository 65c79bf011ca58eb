import { useEffect, useRef, useState } from 'react';
import type { KjuBridge } from '../../common/contract.js';
import { Viewer } from '../display/viewer.js';
import { useLibrary } from '../state/library.js';
import { useSession } from '../state/session.js';
import { useSettings } from '../state/settings.js';
import { useLiveLibrary } from './useLiveLibrary.js';
import { Toolbar } from './Toolbar.js';
import { StatusBar } from './StatusBar.js';

export function VmView({ bridge, vmId }: { bridge: KjuBridge; vmId: string }) {
  useLiveLibrary(bridge);
  const vm = useLibrary((s) => s.vms.find((v) => v.id === vmId));
  const hasDisplay = vm?.state === 'running' || vm?.state === 'paused';
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const blitter = useSettings((s) => s.blitter);
  const displayRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = vm ? `${vm.name} — kju` : 'kju';
  }, [vm?.name]);

  return (
    <div className="vm-view">
      <Toolbar viewer={viewer} vmName={vm?.name ?? vmId} fullscreenTarget={displayRef} bridge={bridge} vm={vm} />
      <div className="vm-display" ref={displayRef}>
        {hasDisplay ? <DisplayCanvas key={blitter} bridge={bridge} vmId={vmId} onViewer={setViewer} /> : <NoDisplay bridge={bridge} vmId={vmId} />}
      </div>
      <StatusBar viewer={viewer} vmState={vm?.state} />
    </div>
  );
}

function NoDisplay({ bridge, vmId }: { bridge: KjuBridge; vmId: string }) {
  const vm = useLibrary((s) => s.vms.find((v) => v.id === vmId));
  const loaded = useLibrary((s) => s.loaded);
  const busy = useLibrary((s) => !!s.busy[vmId]);
  if (!loaded) return <p className="display-message">Loading…</p>;
  if (!vm) return <p className="display-message">There is no VM called “{vmId}” in the library.</p>;
  return (
    <div className="display-message">
      <p>{vm.state === 'starting' ? 'Starting…' : `${vm.name} is not running.`}</p>
      {vm.problem && <pre className="log-tail">{vm.problem}</pre>}
      {(vm.state === 'stopped' || vm.state === 'crashed') && (
        <button className="primary" disabled={busy} onClick={() => void useLibrary.getState().start(bridge, vmId)}>Start</button>
      )}
      {vm.state === 'suspended' && (
        <button className="primary" disabled={busy} onClick={() => void useLibrary.getState().act(bridge, vmId, 'resumeVm', { id: vmId })}>Resume</button>
      )}
    </div>
  );
}

function DisplayCanvas({ bridge, vmId, onViewer }: { bridge: KjuBridge; vmId: string; onViewer: (v: Viewer | null) => void }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const phase = useSession((s) => s.phase);
  const message = useSession((s) => s.message);
  const disabled = useSession((s) => s.viewer.disabled);

  useEffect(() => {
    const session = useSession.getState();
    session.begin(vmId);
    let viewer: Viewer | null = null;
    let offProbe = () => {};
    let cancelled = false;
    bridge.openDisplay(vmId).then(
      (r) => {
        if (cancelled) {
          if (r.ok) r.value.close();
          return;
        }
        if (!r.ok) return session.failed(r.message);
        try {
          viewer = new Viewer({ canvas: canvasRef.current!, stream: r.value, blitter: useSettings.getState().blitter, onState: (s) => useSession.getState().setViewer(s) });
        } catch (e) {
          r.value.close();
          return session.failed((e as Error).message);
        }
        const { scaleMode, integerScale } = useSettings.getState();
        viewer.setScaling(scaleMode, integerScale);
        session.opened();
        onViewer(viewer);
        offProbe = exposeTestProbe(viewer);
        canvasRef.current?.focus();
      },
      (e: unknown) => !cancelled && session.failed((e as Error).message),
    );
    const offSettings = useSettings.subscribe((s) => viewer?.setScaling(s.scaleMode, s.integerScale));
    return () => {
      cancelled = true;
      offSettings();
      offProbe();
      viewer?.destroy();
      onViewer(null);
    };
  }, [bridge, vmId, onViewer]);

  return (
    <>
      <canvas ref={canvasRef} className="screen" tabIndex={0} aria-label="Guest display" data-testid="screen" />
      {phase === 'connecting' && <p className="display-message overlay">Connecting…</p>}
      {(phase === 'failed' || phase === 'closed') && <p className="display-message overlay" role="alert">{message}</p>}
      {phase === 'open' && disabled && <p className="display-message overlay">The guest turned its display off.</p>}
    </>
  );
}

/** What `window.__kju` offers end-to-end tests (e2e/serve-qemu-*.test.ts). Read-only. */
export interface KjuTestProbe {
  /** the guest surface as drawn at 1:1, RGBA rows, top first; empty before the first surface */
  readPixels(): Uint8Array;
  surfaceSize(): { width: number; height: number } | null;
  /** the blitter's latest per-frame stats (frames drawn so far, last damage-to-texture latency) */
  frameStats(): { frames: number; latencyMs: number };
}
declare global {
  interface Window { __kju?: KjuTestProbe }
}

/** Registers `window.__kju` only when the hash asks for it (`#/vm/<id>?test=1`); returns its removal. */
function exposeTestProbe(viewer: Viewer): () => void {
  if (!/[?&]test=1(&|$)/.test(location.hash)) return () => {};
  let last = { frames: 0, latencyMs: NaN };
  const off = viewer.blitter.subscribe((s) => (last = { frames: s.frames, latencyMs: s.latencyMs }));
  const probe: KjuTestProbe = {
    readPixels: () => viewer.blitter.readPixels(),
    surfaceSize: () => viewer.blitter.surfaceSize() ?? null,
    frameStats: () => ({ ...last }),
  };
  window.__kju = probe;
  return () => {
    off();
    if (window.__kju === probe) delete window.__kju;
  };
}

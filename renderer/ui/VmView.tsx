import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { KjuBridge, VmSummary } from '../../common/contract.js';
import { Viewer } from '../display/viewer.js';
import { displayOverlay, type DisplayOverlay } from '../state/display-overlay.js';
import { useLibrary } from '../state/library.js';
import { useVmWindow } from '../state/vm-window.js';
import { useSettings } from '../state/settings.js';
import { useLiveLibrary } from './useLiveLibrary.js';
import { devicePixels, GuestResizer, guestSizeMode } from '../display/guest-size.js';
import { headFromHash, playsSound } from './route.js';
import { Toolbar } from './Toolbar.js';
import { StatusBar } from './StatusBar.js';
import { SoundControls } from './SoundControls.js';

export function VmView({ bridge, vmId }: { bridge: KjuBridge; vmId: string }) {
  useLiveLibrary(bridge);
  const vm = useLibrary((s) => s.vms.find((v) => v.id === vmId));
  const hasDisplay = vm?.state === 'running' || vm?.state === 'paused';
  const [viewer, setViewer] = useState<Viewer | null>(null);
  const blitter = useSettings((s) => s.blitter);
  const head = useVmWindow((s) => s.head);
  const displayRef = useRef<HTMLDivElement>(null);

  // The head comes from the window's hash (Electron opens one window per head): set it before the display opens.
  const headKnown = useVmWindow((s) => s.vmId === vmId);
  useLayoutEffect(() => {
    useVmWindow.setState({ vmId, head: headFromHash(location.hash) });
  }, [vmId]);

  const vmName = vm?.name;
  useEffect(() => {
    document.title = vmName ? `${vmName} — kju` : 'kju';
  }, [vmName]);

  return (
    <div className="vm-view">
      <Toolbar viewer={viewer} vmName={vm?.name ?? vmId} fullscreenTarget={displayRef} bridge={bridge} vm={vm} />
      <div className="vm-display" ref={displayRef}>
        {hasDisplay && !headKnown ? null : hasDisplay ? (
          <DisplayCanvas key={`${blitter}:${head}`} bridge={bridge} vm={vm} head={head} onViewer={setViewer} />
        ) : (
          <NoDisplay bridge={bridge} vmId={vmId} />
        )}
      </div>
      <StatusBar viewer={viewer} vm={vm}>
        {hasDisplay && vm?.soundDevice && vm.soundDevice !== 'none' && playsSound(location.hash) && <SoundControls bridge={bridge} vmId={vm.id} />}
      </StatusBar>
    </div>
  );
}

function NoDisplay({ bridge, vmId }: { bridge: KjuBridge; vmId: string }) {
  const vm = useLibrary((s) => s.vms.find((v) => v.id === vmId));
  const loaded = useLibrary((s) => s.loaded);
  const busy = useLibrary((s) => !!s.busy[vmId]);
  if (!loaded) return <p className="display-message">Loading…</p>;
  if (!vm) return <p className="display-message">There is no VM called “{vmId}” in the library.</p>;
  const overlay = displayOverlay({ vm, phase: 'idle', hasSurface: false, disabled: false });
  return (
    <OverlayView overlay={overlay} cover={false}>
      {vm.problem && vm.problem.includes('\n') && <pre className="log-tail">{vm.problem}</pre>}
      {(vm.state === 'stopped' || vm.state === 'crashed') && (
        <button className="primary" disabled={busy} onClick={() => void useLibrary.getState().start(bridge, vmId)}>
          Start
        </button>
      )}
      {vm.state === 'suspended' && (
        <button className="primary" disabled={busy} onClick={() => void useLibrary.getState().act(bridge, vmId, 'resumeVm', { id: vmId })}>
          Resume
        </button>
      )}
    </OverlayView>
  );
}

/** The overlay's words; `cover` lays it over the canvas (pointer events pass through to the guest). */
function OverlayView({ overlay, cover, children }: { overlay: DisplayOverlay | null; cover: boolean; children?: ReactNode }) {
  if (!overlay) return null;
  return (
    <div className={cover ? 'display-message overlay' : 'display-message'} data-testid="display-overlay" data-overlay={overlay.kind} role={overlay.kind === 'error' ? 'alert' : 'status'}>
      <p className="overlay-title">{overlay.title}</p>
      {overlay.reason && <p className="overlay-reason">{overlay.reason}</p>}
      {children}
    </div>
  );
}

function DisplayCanvas({ bridge, vm, head, onViewer }: { bridge: KjuBridge; vm: VmSummary; head: number; onViewer: (v: Viewer | null) => void }) {
  const vmId = vm.id;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const phase = useVmWindow((s) => s.phase);
  const message = useVmWindow((s) => s.message);
  const disabled = useVmWindow((s) => s.viewer.disabled);
  const hasSurface = useVmWindow((s) => !!s.viewer.surface);
  const overlay = displayOverlay({ vm, phase, message, hasSurface, disabled });

  useEffect(() => {
    const vmWindow = useVmWindow.getState();
    vmWindow.begin(vmId);
    let viewer: Viewer | null = null;
    let offProbe = () => {};
    let cancelled = false;
    // Resize guest to window: the display area's size in device pixels, debounced, once per size.
    const resizer = new GuestResizer((m) => m.t === 'uiInfo' && viewer?.requestGuestSize(m.width, m.height));
    const mode = () => guestSizeMode(useSettings.getState().guestSize, vm.displayDevice);
    const area = canvasRef.current?.parentElement;
    const measure = () => {
      if (!area) return;
      const size = devicePixels(area.clientWidth, area.clientHeight, window.devicePixelRatio);
      useVmWindow.getState().setWindowSize(size);
      if (mode() === 'resize' && viewer) resizer.windowSize(size.width, size.height);
    };
    const observer = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(measure);
    if (area) observer?.observe(area);
    bridge.openDisplay(vmId, head).then(
      (r) => {
        if (cancelled) {
          if (r.ok) r.value.close();
          return;
        }
        if (!r.ok) return vmWindow.failed(r.message);
        try {
          viewer = new Viewer({
            canvas: canvasRef.current!,
            stream: r.value,
            clipboard: bridge.clipboard,
            blitter: useSettings.getState().blitter,
            onState: (s) => useVmWindow.getState().setViewer(s),
          });
        } catch (e) {
          r.value.close();
          return vmWindow.failed((e as Error).message);
        }
        const { scaleMode, integerScale } = useSettings.getState();
        viewer.setScaling(scaleMode, integerScale);
        vmWindow.opened();
        onViewer(viewer);
        offProbe = exposeTestProbe(viewer);
        canvasRef.current?.focus();
        measure();
      },
      (e: unknown) => !cancelled && vmWindow.failed((e as Error).message),
    );
    let lastGuestSize = useSettings.getState().guestSize;
    const offSettings = useSettings.subscribe((s) => {
      viewer?.setScaling(s.scaleMode, s.integerScale);
      if (s.guestSize !== lastGuestSize) {
        lastGuestSize = s.guestSize;
        resizer.reset();
        measure();
      }
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      resizer.dispose();
      offSettings();
      offProbe();
      viewer?.destroy();
      onViewer(null);
    };
  }, [bridge, vmId, head, onViewer, vm.displayDevice]);

  return (
    <>
      <canvas ref={canvasRef} className="screen" tabIndex={0} aria-label="Guest display" data-testid="screen" />
      <OverlayView overlay={overlay} cover />
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
  interface Window {
    __kju?: KjuTestProbe;
  }
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

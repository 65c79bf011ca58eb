import { useEffect, useRef, type ReactNode } from 'react';
import type { Accelerator, Transport, VmSummary } from '../../common/contract.js';
import type { Viewer } from '../display/viewer.js';
import { useVmWindow } from '../state/vm-window.js';
import { useSettings } from '../state/settings.js';
import { guestSizeMode } from '../display/guest-size.js';

export const ACCELERATOR_LABELS: Record<Accelerator, string> = { kvm: 'KVM', hvf: 'HVF', tcg: 'TCG' };
export const TRANSPORT_LABELS: Record<Transport, string> = { map: 'shared memory', copy: 'copy' };
export const TRANSPORT_TITLES: Record<Transport, string> = {
  map: 'The guest screen is shared memory (memfd), read in place',
  copy: 'QEMU sends the guest screen’s pixels over a socket (slower)',
};

export function StatusBar({ viewer, vm, children }: { viewer: Viewer | null; vm?: VmSummary; children?: ReactNode }) {
  const lastSurface = useVmWindow((s) => s.viewer.surface);
  const grabbed = useVmWindow((s) => s.viewer.grabbed);
  const absolute = useVmWindow((s) => s.viewer.absolute);
  const blitter = useVmWindow((s) => s.viewer.blitter);
  const head = useVmWindow((s) => s.head);
  const windowSize = useVmWindow((s) => s.windowSize);
  const sizeMode = guestSizeMode(
    useSettings((s) => s.guestSize),
    vm?.displayDevice,
  );
  const heads = vm?.displays ?? 1;
  const running = vm?.state === 'running' || vm?.state === 'paused';
  const surface = running ? lastSurface : undefined; // a stopped VM's last surface is history
  // The viewer's own surface says it for sure; before it, the backend's word (when it has one).
  const transport = surface?.transport ?? (running ? vm?.transport : undefined);
  const accelerator = running ? vm?.accelerator : undefined;
  const notice = vm?.state === 'stopped' ? undefined : vm?.acceleratorNotice;
  return (
    <>
      {notice && (
        <p className="status-notice" role="status" data-testid="accel-notice">
          ⚠ {notice}
        </p>
      )}
      <footer className="statusbar">
        <span data-testid="vm-state">{vm?.state ?? '—'}</span>
        {accelerator && (
          <span data-testid="accelerator" className="sb-drop-2" title="the accelerator this VM runs on">
            {ACCELERATOR_LABELS[accelerator] ?? accelerator}
          </span>
        )}
        <span data-testid="resolution">{surface ? `${surface.width}×${surface.height}` : '—'}</span>
        <span
          data-testid="window-size"
          className="sb-shrink sb-drop-2"
          data-mode={sizeMode}
          title={sizeMode === 'resize' ? 'guest size follows the window' : 'the guest keeps its size; the window scales it'}
        >
          {`window ${windowSize ? `${windowSize.width}×${windowSize.height}` : '—'} · ${sizeMode === 'resize' ? (surface && windowSize && (surface.width !== windowSize.width || surface.height !== windowSize.height) ? 'guest ≠ window' : 'guest = window') : 'scaled'}`}
        </span>
        {heads > 1 && <span data-testid="head">{`display ${head + 1} of ${heads}`}</span>}
        <span data-testid="transport" className="sb-drop-1" data-transport={transport ?? ''} title={transport ? TRANSPORT_TITLES[transport] : 'display transport: not known yet'}>
          {transport ? TRANSPORT_LABELS[transport] : '—'}
        </span>
        <span className="sb-drop-1">{absolute ? 'tablet' : 'relative mouse'}</span>
        <span data-testid="blitter" className="statusbar-blitter sb-drop-1" title={blitter?.reason}>
          {blitter?.reason ?? '—'}
        </span>
        <LiveFigures viewer={viewer} />
        {children}
        <span className="toolbar-spacer" />
        <span data-testid="grab-state" className="sb-shrink">
          {grabbed ? 'Grabbed — press Ctrl+Alt to release' : 'Not grabbed'}
        </span>
      </footer>
    </>
  );
}

/** fps and latency change every frame: written straight into the DOM, no re-render. */
function LiveFigures({ viewer }: { viewer: Viewer | null }) {
  const ref = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    if (!viewer) return;
    let last = 0;
    return viewer.subscribe((f) => {
      const now = performance.now();
      if (now - last < 250 || !ref.current) return;
      last = now;
      const lat = Number.isNaN(f.latencyMs) ? '—' : `${f.latencyMs.toFixed(1)} ms`;
      ref.current.textContent = `${f.fps} fps · ${lat}`;
    });
  }, [viewer]);
  return (
    <span ref={ref} className="sb-drop-2" data-testid="figures">
      — fps
    </span>
  );
}

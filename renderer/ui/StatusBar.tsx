import { useEffect, useRef } from 'react';
import type { VmRunState } from '../../common/contract.js';
import type { Viewer } from '../display/viewer.js';
import { useSession } from '../state/session.js';

export function StatusBar({ viewer, vmState }: { viewer: Viewer | null; vmState?: VmRunState }) {
  const surface = useSession((s) => s.viewer.surface);
  const grabbed = useSession((s) => s.viewer.grabbed);
  const absolute = useSession((s) => s.viewer.absolute);
  const blitter = useSession((s) => s.viewer.blitter);
  return (
    <footer className="statusbar">
      <span data-testid="vm-state">{vmState ?? '—'}</span>
      <span data-testid="resolution">{surface ? `${surface.width}×${surface.height}` : '—'}</span>
      <span data-testid="transport" title="map: shared memory; copy: pixels over the socket">{surface?.transport ?? '—'}</span>
      <span>{absolute ? 'tablet' : 'relative mouse'}</span>
      <span data-testid="blitter" className="statusbar-blitter" title={blitter?.reason}>{blitter?.reason ?? '—'}</span>
      <LiveFigures viewer={viewer} />
      <span className="toolbar-spacer" />
      <span data-testid="grab-state">{grabbed ? 'Grabbed — press Ctrl+Alt to release' : 'Not grabbed'}</span>
    </footer>
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
  return <span ref={ref} data-testid="figures">— fps</span>;
}

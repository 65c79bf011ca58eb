import { useEffect, useState } from 'react';
import type { KjuBridge, VmSummary, VmThumbnail as Thumb } from '../../common/contract.js';
import { pollThumbnail } from '../state/thumbnail-poller.js';

/** A library row's picture of its VM: live while it runs, else the last screen saved at stop or suspend. */
export function VmThumbnail({ vm, bridge }: { vm: VmSummary; bridge: KjuBridge }) {
  const [thumb, setThumb] = useState<Thumb | null>(null);
  const live = vm.state === 'running' || vm.state === 'paused';
  useEffect(() => {
    const p = pollThumbnail({
      live,
      doc: document,
      fetch: async () => {
        const r = await bridge.call('thumbnail', { id: vm.id });
        if (!r.ok) throw new Error(r.message);
        return r.value;
      },
      show: setThumb,
    });
    return () => p.stop();
  }, [bridge, vm.id, live, vm.state]);
  if (!thumb) return <div className="vm-thumb vm-thumb-empty" data-testid="vm-thumbnail" data-live="none" aria-hidden="true" />;
  return <img className="vm-thumb" data-testid="vm-thumbnail" data-live={String(thumb.live)} alt={`${vm.name}: ${thumb.live ? 'screen' : 'last screen'}`} src={`data:image/png;base64,${thumb.png}`} />;
}

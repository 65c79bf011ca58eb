import type { KjuBridge, VmSummary } from '../../common/contract.js';
import { useLibrary } from '../state/library.js';
import { StateBadge } from './StateBadge.js';
import { useLiveLibrary } from './useLiveLibrary.js';
import { vmHref } from './route.js';

export function LibraryView({ bridge }: { bridge: KjuBridge }) {
  useLiveLibrary(bridge);
  const vms = useLibrary((s) => s.vms);
  const loaded = useLibrary((s) => s.loaded);
  const error = useLibrary((s) => s.error);
  return (
    <main className="library">
      <header className="library-header">
        <h1>Virtual Machines</h1>
      </header>
      {error && <p className="error" role="alert">{error}</p>}
      {!loaded && <p className="hint">Loading…</p>}
      {loaded && vms.length === 0 && !error && <p className="hint">No virtual machines yet. Create one with <code>kju create</code>.</p>}
      <ul className="vm-list">
        {vms.map((vm) => <VmRow key={vm.id} vm={vm} bridge={bridge} />)}
      </ul>
    </main>
  );
}

function openWindow(id: string) {
  // One window (Electron) or tab (browser) per VM; the name makes a second Open reuse it.
  window.open(vmHref(id), `kju-vm-${id}`);
}

function VmRow({ vm, bridge }: { vm: VmSummary; bridge: KjuBridge }) {
  const busy = useLibrary((s) => !!s.busy[vm.id]);
  const { start, stop } = useLibrary.getState();
  const canStart = vm.state === 'stopped' || vm.state === 'crashed';
  const canStop = vm.state === 'running' || vm.state === 'paused' || vm.state === 'starting' || vm.state === 'suspended';
  const canOpen = vm.state === 'running' || vm.state === 'paused' || vm.state === 'starting';
  return (
    <li className="vm-row" data-vm-id={vm.id}>
      <div className="vm-main">
        <span className="vm-name">{vm.name}</span>
        <StateBadge state={vm.state} />
        <span className="vm-meta">{vm.cpus} CPU · {vm.memoryMiB} MiB · {vm.display}</span>
        {vm.problem && <span className="vm-problem" title={vm.problem}>{vm.problem}</span>}
      </div>
      <div className="vm-actions">
        {canStart && <button disabled={busy} onClick={() => void start(bridge, vm.id)}>Start</button>}
        {canStop && <button disabled={busy} onClick={() => void stop(bridge, vm.id)}>Stop</button>}
        <button className="primary" disabled={!canOpen} onClick={() => openWindow(vm.id)}>Open</button>
      </div>
    </li>
  );
}

import { useState, type MouseEvent } from 'react';
import type { KjuBridge, VmSummary } from '../../common/contract.js';
import { actionsFor, useLibrary } from '../state/library.js';
import { useDialogs } from '../state/dialogs.js';
import { resetAfterAsking } from '../state/reset.js';
import { acceleratorNotices, useDiagnostics } from '../state/diagnostics.js';
import { useWizard } from '../state/wizard.js';
import { StateBadge } from './StateBadge.js';
import { VmThumbnail } from './VmThumbnail.js';
import { useLiveLibrary } from './useLiveLibrary.js';
import { vmHref } from './route.js';
import { NewVmWizard } from './NewVmWizard.js';
import { LibraryDialogs } from './VmDialogs.js';
import { DiagnosticsDialog } from './DiagnosticsDialog.js';
import { ACCELERATOR_LABELS, TRANSPORT_LABELS } from './StatusBar.js';

export function LibraryView({ bridge }: { bridge: KjuBridge }) {
  useLiveLibrary(bridge);
  const vms = useLibrary((s) => s.vms);
  const loaded = useLibrary((s) => s.loaded);
  const error = useLibrary((s) => s.error);
  const diagnosticLines = useDiagnostics((s) => s.lines);
  const notices = acceleratorNotices(vms, diagnosticLines);
  const newVm = () =>
    void useWizard.getState().show(
      bridge,
      useLibrary.getState().vms.map((v) => v.name),
    );
  return (
    <main className="library">
      <header className="library-header">
        <h1>Virtual Machines</h1>
        <div className="library-tools">
          <button onClick={() => void useDiagnostics.getState().show(bridge)}>Diagnostics</button>
          <button className="primary" onClick={newVm}>
            New VM…
          </button>
        </div>
      </header>
      {notices.map((n) => (
        <p key={n} className="notice-banner" role="status" data-testid="accel-banner">
          ⚠ {n}
        </p>
      ))}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!loaded && <p className="hint">Loading…</p>}
      {loaded && vms.length === 0 && !error && <p className="hint">No virtual machines yet. Click “New VM…” to make one.</p>}
      {vms.length > 0 && (
        <ul className="vm-list">
          {vms.map((vm) => (
            <VmRow key={vm.id} vm={vm} bridge={bridge} />
          ))}
        </ul>
      )}
      <NewVmWizard bridge={bridge} />
      <LibraryDialogs bridge={bridge} />
      <DiagnosticsDialog bridge={bridge} />
    </main>
  );
}

function openWindow(id: string) {
  // One window (Electron) or tab (browser) per VM; the name makes a second Open reuse it.
  window.open(vmHref(id), `kju-vm-${id}`);
}

function VmRow({ vm, bridge }: { vm: VmSummary; bridge: KjuBridge }) {
  const busy = useLibrary((s) => !!s.busy[vm.id]);
  const rowError = useLibrary((s) => s.rowErrors[vm.id]);
  const { act, start } = useLibrary.getState();
  const a = actionsFor(vm.state);
  const id = vm.id;
  const live = vm.state === 'running' || vm.state === 'paused';
  // Double-click on the row itself (not on its buttons, menu or log) opens the VM's window.
  const onDoubleClick = (e: MouseEvent) => {
    if (a.open && !vm.fromFile && !(e.target as Element).closest('button, summary, pre, .menu')) openWindow(id);
  };
  return (
    <li className="vm-row" data-vm-id={vm.id} data-vm-name={vm.name} aria-label={vm.name} onDoubleClick={onDoubleClick}>
      {!vm.fromFile && <VmThumbnail vm={vm} bridge={bridge} />}
      <div className="vm-main">
        <span className="vm-name">{vm.name}</span>
        <StateBadge state={vm.state} />
        {vm.fromFile && (
          <span className="vm-from-file" data-testid="vm-from-file" title={`started with "kju run ${vm.fromFile}"; that kju owns it`}>
            not in library
          </span>
        )}
        <span className="vm-meta">
          {vm.cpus} CPU · {vm.memoryMiB} MiB · {vm.displayDevice}
          {vm.cdrom && (
            <>
              {' '}
              · ISO{' '}
              <span className="vm-path" title={vm.cdrom}>
                {basename(vm.cdrom)}
              </span>
            </>
          )}
          {live && vm.accelerator && (
            <>
              {' '}
              ·{' '}
              <span className="vm-accel" title="the accelerator this VM runs on">
                {ACCELERATOR_LABELS[vm.accelerator]}
              </span>
            </>
          )}
          {live && vm.transport && (
            <>
              {' '}
              ·{' '}
              <span className="vm-transport" title="how the guest screen reaches kju">
                {TRANSPORT_LABELS[vm.transport]}
              </span>
            </>
          )}
        </span>
        {vm.problem && <Problem state={vm.state} text={vm.problem} />}
        {rowError && (
          <p className="vm-row-error" role="alert">
            {rowError}{' '}
            <button className="link" onClick={() => useLibrary.getState().clearRowError(id)}>
              Dismiss
            </button>
          </p>
        )}
      </div>
      {vm.fromFile ? (
        <div className="vm-actions">
          <button disabled={busy} onClick={() => void useLibrary.getState().stop(bridge, id)}>
            Stop
          </button>
        </div>
      ) : (
        <div className="vm-actions">
          {a.start && (
            <button disabled={busy} onClick={() => void start(bridge, id)}>
              Start
            </button>
          )}
          {a.resume && (
            <button disabled={busy} onClick={() => void act(bridge, id, 'resumeVm', { id })}>
              {vm.state === 'paused' ? 'Continue' : 'Resume'}
            </button>
          )}
          {a.pause && (
            <button disabled={busy} onClick={() => void act(bridge, id, 'pauseVm', { id })}>
              Pause
            </button>
          )}
          {a.open && (
            <button className="primary" onClick={() => openWindow(id)}>
              Open
            </button>
          )}
          <MoreMenu vm={vm} bridge={bridge} busy={busy} />
        </div>
      )}
    </li>
  );
}

/** The crash log tail can be long: one line shown, the rest under a disclosure. */
function Problem({ state, text }: { state: VmSummary['state']; text: string }) {
  const [first, ...rest] = text.split('\n');
  if (!rest.length)
    return (
      <span className="vm-problem" title={text}>
        {text}
      </span>
    );
  return (
    <details className="vm-problem-details">
      <summary className="vm-problem">{state === 'crashed' ? `Crashed: ${first}` : first}</summary>
      <pre className="log-tail">{rest.join('\n')}</pre>
    </details>
  );
}

function MoreMenu({ vm, bridge, busy }: { vm: VmSummary; bridge: KjuBridge; busy: boolean }) {
  const [open, setOpen] = useState(false);
  const { act } = useLibrary.getState();
  const dialogs = useDialogs.getState();
  const a = actionsFor(vm.state);
  const id = vm.id;
  const item = (label: string, enabled: boolean, run: () => void, danger = false) => (
    <button
      role="menuitem"
      className={danger ? 'danger' : undefined}
      disabled={!enabled || busy}
      onClick={() => {
        setOpen(false);
        run();
      }}
    >
      {label}
    </button>
  );
  return (
    <div className="menu-anchor" onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node) && setOpen(false)}>
      <button aria-haspopup="menu" aria-expanded={open} aria-label={`More actions for ${vm.name}`} onClick={() => setOpen(!open)}>
        •••
      </button>
      {open && (
        <div className="menu" role="menu" aria-label={`Actions for ${vm.name}`}>
          {item('Shut Down', a.shutDown, () => void act(bridge, id, 'powerButton', { id }))}
          {item('Force Off…', a.forceOff, () => dialogs.open('force-off', id), true)}
          {item('Reset', a.reset, () => void resetAfterAsking(bridge, vm))}
          {item('Suspend', a.suspend, () => void act(bridge, id, 'suspendVm', { id }))}
          <hr />
          {item('Edit…', true, () => dialogs.open('edit', id))}
          {item('Clone…', a.clone, () => dialogs.open('clone', id))}
          {item('Snapshots…', a.snapshots, () => dialogs.open('snapshots', id))}
          <hr />
          {item('Delete…', a.remove, () => dialogs.open('delete', id), true)}
        </div>
      )}
    </div>
  );
}

function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

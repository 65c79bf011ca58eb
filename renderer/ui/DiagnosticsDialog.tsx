// The library window's Diagnostics view: `kju doctor`'s lines through the backend, OK / WARN / FAIL with the fix.
import type { Diagnostic, KjuBridge } from '../../common/contract.js';
import { useDiagnostics } from '../state/diagnostics.js';
import { Modal } from './Modal.js';

const LABELS: Record<Diagnostic['id'], string> = {
  qemu: 'QEMU',
  display: 'Display',
  accelerator: 'Accelerator',
  uefi: 'UEFI firmware',
  swtpm: 'TPM',
  'qemu-user': 'QEMU user',
  libvirt: 'libvirt',
  electron: 'Electron',
  library: 'Library',
  'runtime-dir': 'Runtime dir',
};

export function DiagnosticsDialog({ bridge }: { bridge: KjuBridge }) {
  const { open, loading, lines, error, close, show } = useDiagnostics();
  if (!open) return null;
  return (
    <Modal title="Diagnostics" onClose={close} wide>
      {loading && <p className="hint">Checking this host… (the first accelerator check boots a tiny guest and takes a few seconds)</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!loading && lines && (
        <ul className="diagnostics" aria-label="Diagnostics">
          {lines.map((l) => (
            <li key={l.id} className="diagnostic" data-diagnostic={l.id} data-status={l.status}>
              <span className={`diag-status diag-${l.status.toLowerCase()}`}>{l.status}</span>
              <span className="diag-label">{LABELS[l.id] ?? l.id}</span>
              <span className="diag-summary">{l.summary}</span>
              {l.fix && (
                <span className="diag-fix">
                  Fix: <code>{l.fix}</code>
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="modal-buttons">
        <button disabled={loading} onClick={() => void show(bridge)}>
          Check again
        </button>
        <button className="primary" onClick={close}>
          Close
        </button>
      </div>
    </Modal>
  );
}

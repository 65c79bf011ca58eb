import { useCallback, useRef, useState } from 'react';
import { useDismiss } from './useDismiss.js';
import type { KjuBridge, VmSummary } from '../../common/contract.js';
import { actionsFor, useLibrary } from '../state/library.js';
import { checkPath } from '../state/vm-form.js';
import { resetAfterAsking } from '../state/reset.js';

/** The VM window's machine controls: Pause/Continue, Reset, the power button, and the CD-ROM. */
export function VmControls({ bridge, vm }: { bridge: KjuBridge; vm: VmSummary }) {
  const busy = useLibrary((s) => !!s.busy[vm.id]);
  const { act } = useLibrary.getState();
  const a = actionsFor(vm.state);
  const id = vm.id;
  return (
    <>
      {vm.state === 'paused' ? (
        <button disabled={busy} onClick={() => void act(bridge, id, 'resumeVm', { id })}>
          Continue
        </button>
      ) : (
        <button disabled={busy || !a.pause} onClick={() => void act(bridge, id, 'pauseVm', { id })}>
          Pause
        </button>
      )}
      <button disabled={busy || !a.reset} onClick={() => void resetAfterAsking(bridge, vm)}>
        Reset
      </button>
      <button disabled={busy || !a.shutDown} title="ACPI power button: asks the guest to shut down" onClick={() => void act(bridge, id, 'powerButton', { id })}>
        Power
      </button>
      <CdromControl bridge={bridge} vm={vm} busy={busy} />
    </>
  );
}

function CdromControl({ bridge, vm, busy }: { bridge: KjuBridge; vm: VmSummary; busy: boolean }) {
  const [open, setOpen] = useState(false);
  const [path, setPath] = useState('');
  const [error, setError] = useState<string>();
  const { act } = useLibrary.getState();
  const area = useRef<HTMLSpanElement>(null);
  useDismiss(
    open,
    area,
    useCallback(() => setOpen(false), []),
  );
  const attach = async () => {
    const e = checkPath(path, 'ISO image', true);
    setError(e);
    if (e) return;
    if (await act(bridge, vm.id, 'setCdrom', { id: vm.id, path })) {
      setOpen(false);
      setPath('');
    }
  };
  const name = vm.cdrom ? vm.cdrom.slice(vm.cdrom.lastIndexOf('/') + 1) : null;
  return (
    <span className="menu-anchor" ref={area}>
      <button className="cd-button" aria-haspopup="dialog" aria-expanded={open} onClick={() => setOpen(!open)} title={vm.cdrom ?? 'The CD-ROM drive is empty'}>
        {name ? `CD: ${name}` : 'CD: empty'}
      </button>
      {open && (
        <form className="menu cd-popover" role="dialog" aria-label="CD-ROM" noValidate onSubmit={(e) => (e.preventDefault(), void attach())}>
          <label htmlFor="cd-path">ISO image path on the host</label>
          <input id="cd-path" autoFocus value={path} placeholder="/path/to/image.iso" onChange={(e) => setPath(e.target.value)} />
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
          <div className="modal-buttons">
            {vm.cdrom && (
              <button type="button" disabled={busy} onClick={() => void act(bridge, vm.id, 'setCdrom', { id: vm.id, path: null }).then((ok) => ok && setOpen(false))}>
                Eject
              </button>
            )}
            <span className="toolbar-spacer" />
            <button type="submit" className="primary" disabled={busy}>
              Attach
            </button>
          </div>
        </form>
      )}
    </span>
  );
}

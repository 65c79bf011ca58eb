// The VM settings' shared folders and port-forward table, and the VM window's USB menu (issue 10).
// Forwards of a running VM change live (addForward/removeForward); a stopped VM's are saved with
// the dialog. Renderer main thread.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useDismiss } from './useDismiss.js';
import type { HostUsbDevice, KjuBridge, VmForward, VmShare, VmSummary } from '../../common/contract.js';
import { checkSharePath, EMPTY_FORWARD, forwardFromDraft, forwardLabel, shareMountLine, usbBusPort, usbLabel, type ForwardDraft } from '../state/guest-links.js';

/** The folders list with read-only toggles; changes are saved by the dialog's Save. */
export function SharesField({ shares, onChange, disabled }: { shares: VmShare[]; onChange: (s: VmShare[]) => void; disabled: boolean }) {
  const [path, setPath] = useState('');
  const [error, setError] = useState<string>();
  const add = () => {
    const e = checkSharePath(path, shares);
    setError(e);
    if (e) return;
    onChange([...shares, { path: path.trim(), readOnly: false }]);
    setPath('');
  };
  return (
    <fieldset className="links-field" aria-label="Shared folders">
      <legend>Shared folders</legend>
      {shares.length === 0 ? (
        <p className="hint">No folders shared.</p>
      ) : (
        <ul className="share-list">
          {shares.map((s, i) => (
            <li key={s.path} data-share={s.path}>
              <code className="share-path" title={shareMountLine(i)}>
                share{i}: {s.path}
              </code>
              <label className="check">
                <input
                  type="checkbox"
                  aria-label={`Read-only ${s.path}`}
                  disabled={disabled}
                  checked={s.readOnly}
                  onChange={(e) => onChange(shares.map((x, j) => (j === i ? { ...x, readOnly: e.target.checked } : x)))}
                />{' '}
                Read-only
              </label>
              <button type="button" aria-label={`Remove folder ${s.path}`} disabled={disabled} onClick={() => onChange(shares.filter((_, j) => j !== i))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="inline-form">
        <input
          aria-label="Folder to share"
          placeholder="/path/to/folder"
          value={path}
          disabled={disabled}
          onChange={(e) => setPath(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), add())}
        />
        <button type="button" disabled={disabled} onClick={add}>
          Add Folder
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {shares.length > 0 && (
        <p className="hint">
          In the guest: <code>{shareMountLine(0)}</code>
        </p>
      )}
    </fieldset>
  );
}

/**
 * The port-forward table. `live`: the VM runs, rows come from listForwards and add/remove act at
 * once; otherwise it edits `forwards` for the dialog to save.
 */
export function ForwardsTable({ vm, bridge, live, forwards, onChange }: { vm: VmSummary; bridge: KjuBridge; live: boolean; forwards: VmForward[]; onChange: (f: VmForward[]) => void }) {
  const [liveRows, setRows] = useState<VmForward[]>([]);
  const rows = live ? liveRows : forwards;
  const [draft, setDraft] = useState<ForwardDraft>(EMPTY_FORWARD);
  const [error, setError] = useState<string>();
  // a list that could not be read is a note, not an alert: the dialog's own failure stays the one alert
  const [listProblem, setListProblem] = useState<string>();
  const [working, setWorking] = useState(false);
  useEffect(() => {
    if (!live) return;
    void bridge.call('listForwards', { id: vm.id }).then((r) => (r.ok ? setRows(r.value) : setListProblem(r.message)));
  }, [bridge, vm.id, live]);
  const apply = async (call: () => ReturnType<KjuBridge['call']>) => {
    setWorking(true);
    setError(undefined);
    try {
      const r = (await call()) as { ok: true; value: VmForward[] } | { ok: false; message: string };
      if (r.ok) setRows(r.value);
      else setError(r.message);
      return r.ok;
    } finally {
      setWorking(false);
    }
  };
  const add = async () => {
    const r = forwardFromDraft(draft, rows);
    if ('error' in r) return setError(r.error);
    setError(undefined);
    if (!live) {
      onChange([...rows, r.forward]);
      return setDraft(EMPTY_FORWARD);
    }
    if (await apply(() => bridge.call('addForward', { id: vm.id, forward: r.forward }))) setDraft(EMPTY_FORWARD);
  };
  const remove = (f: VmForward) => {
    if (!live) return onChange(rows.filter((x) => x !== f));
    void apply(() => bridge.call('removeForward', { id: vm.id, forward: { proto: f.proto, hostAddr: f.hostAddr, hostPort: f.hostPort } }));
  };
  return (
    <fieldset className="links-field" aria-label="Port forwards">
      <legend>Port forwards</legend>
      <p className="hint">{live ? 'The VM is running: changes apply now, until it stops.' : 'Host ports reach these guest ports when the VM starts.'}</p>
      <table className="forward-table">
        <thead>
          <tr>
            <th>Protocol</th>
            <th>Host address</th>
            <th>Host port</th>
            <th>Guest port</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr key={`${f.proto}:${f.hostAddr}:${f.hostPort}`} data-forward={forwardLabel(f)}>
              <td>{f.proto}</td>
              <td>{f.hostAddr}</td>
              <td>{f.hostPort}</td>
              <td>{f.guestPort}</td>
              <td>
                <button type="button" aria-label={`Remove forward ${forwardLabel(f)}`} disabled={working} onClick={() => remove(f)}>
                  Remove
                </button>
              </td>
            </tr>
          ))}
          <tr className="forward-draft">
            <td>
              <select aria-label="Forward protocol" value={draft.proto} onChange={(e) => setDraft({ ...draft, proto: e.target.value as 'tcp' | 'udp' })}>
                <option value="tcp">tcp</option>
                <option value="udp">udp</option>
              </select>
            </td>
            <td>
              <input aria-label="Forward host address" value={draft.hostAddr} onChange={(e) => setDraft({ ...draft, hostAddr: e.target.value })} />
            </td>
            <td>
              <input aria-label="Forward host port" inputMode="numeric" value={draft.hostPort} onChange={(e) => setDraft({ ...draft, hostPort: e.target.value })} />
            </td>
            <td>
              <input aria-label="Forward guest port" inputMode="numeric" value={draft.guestPort} onChange={(e) => setDraft({ ...draft, guestPort: e.target.value })} />
            </td>
            <td>
              <button type="button" disabled={working} onClick={() => void add()}>
                Add
              </button>
            </td>
          </tr>
        </tbody>
      </table>
      {listProblem && (
        <p className="hint" role="status">
          The running forwards could not be read: {listProblem}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** The VM window's USB menu: the host's devices, each with Attach or Detach for this running VM. */
export function UsbMenu({ vm, bridge }: { vm: VmSummary; bridge: KjuBridge }) {
  const [open, setOpen] = useState(false);
  const [devices, setDevices] = useState<HostUsbDevice[] | null>(null);
  const [attached, setAttached] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [working, setWorking] = useState(false);
  const running = vm.state === 'running' || vm.state === 'paused';
  const area = useRef<HTMLDivElement>(null);
  useDismiss(
    open,
    area,
    useCallback(() => setOpen(false), []),
  );
  const load = async () => {
    const [d, a] = await Promise.all([bridge.call('listHostUsb', {}), bridge.call('attachedUsb', { id: vm.id })]);
    if (d.ok) setDevices(d.value);
    if (a.ok) setAttached(a.value);
    setError(!a.ok ? a.message : !d.ok ? d.message : undefined);
  };
  const act = async (op: 'attachUsb' | 'detachUsb', device: string) => {
    setWorking(true);
    setError(undefined);
    try {
      const r = op === 'attachUsb' ? await bridge.call('attachUsb', { id: vm.id, device }) : await bridge.call('detachUsb', { id: vm.id, device });
      if (!r.ok) return setError(r.message);
      setAttached(Array.isArray(r.value) ? r.value : r.value.attached);
    } finally {
      setWorking(false);
    }
  };
  return (
    <div className="usb-menu" ref={area}>
      <button
        type="button"
        aria-haspopup="true"
        aria-expanded={open}
        disabled={!running}
        title={running ? 'USB devices of this computer' : 'Start the VM to attach USB devices'}
        onClick={() => {
          if (!open) void load();
          setOpen(!open);
        }}
      >
        USB
      </button>
      {open && (
        <div className="usb-popover" role="menu" aria-label="USB devices">
          {devices === null ? (
            <p className="hint">Looking for USB devices…</p>
          ) : devices.length === 0 ? (
            <p className="hint">No USB devices found on this computer.</p>
          ) : (
            <ul>
              {devices.map((d) => {
                const id = usbBusPort(d);
                const on = attached.includes(id);
                return (
                  <li key={id} data-usb={id}>
                    <span className="usb-name">{usbLabel(d)}</span>
                    <span className="vm-meta">{id}</span>
                    <button type="button" role="menuitem" disabled={working} onClick={() => void act(on ? 'detachUsb' : 'attachUsb', id)}>
                      {on ? 'Detach' : 'Attach'}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

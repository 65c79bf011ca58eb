import { useEffect, useState } from 'react';
import type { KjuBridge, VmDisplayDevice, VmEdit, VmForward, VmShare, VmSoundDevice, VmSummary } from '../../common/contract.js';
import { MAX_VM_DISPLAYS, VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../common/contract.js';
import { useDialogs } from '../state/dialogs.js';
import { actionsFor, useLibrary } from '../state/library.js';
import { useSnapshots } from '../state/snapshots.js';
import { checkCpus, checkMemory, checkName, checkPath } from '../state/vm-form.js';
import { ForwardsTable, SharesField } from './GuestLinks.js';
import { Field, Modal } from './Modal.js';

/** The one open library dialog (edit, clone, delete, snapshots, force off), for its VM. */
export function LibraryDialogs({ bridge }: { bridge: KjuBridge }) {
  const dialog = useDialogs((s) => s.dialog);
  const vm = useLibrary((s) => s.vms.find((v) => v.id === dialog?.vmId));
  if (!dialog || !vm) return null;
  const close = useDialogs.getState().close;
  switch (dialog.kind) {
    case 'edit':
      return <EditDialog key={vm.id} vm={vm} bridge={bridge} close={close} />;
    case 'clone':
      return <CloneDialog key={vm.id} vm={vm} bridge={bridge} close={close} />;
    case 'delete':
      return <DeleteDialog key={vm.id} vm={vm} bridge={bridge} close={close} />;
    case 'snapshots':
      return <SnapshotsDialog key={vm.id} vm={vm} bridge={bridge} close={close} />;
    case 'force-off':
      return (
        <Confirm title={`Force off “${vm.name}”?`} confirm="Force Off" danger close={close} onConfirm={() => useLibrary.getState().act(bridge, vm.id, 'stopVm', { id: vm.id, force: true })}>
          Like pulling the plug: anything the guest has not saved is lost. Use Shut Down to ask the guest to stop.
        </Confirm>
      );
  }
}

type DialogProps = { vm: VmSummary; bridge: KjuBridge; close: () => void };

/** Runs a call, keeps the dialog open with the backend's message if it fails. */
function useSubmit() {
  const [working, setWorking] = useState(false);
  const [failure, setFailure] = useState<string>();
  const submit = async (call: () => Promise<{ ok: true } | { ok: false; message: string }>, done: () => void) => {
    setWorking(true);
    setFailure(undefined);
    try {
      const r = await call();
      if (r.ok) done();
      else setFailure(r.message);
    } catch (e) {
      setFailure((e as Error).message);
    } finally {
      setWorking(false);
    }
  };
  return { working, failure, submit };
}

function Buttons({ close, working, label, danger }: { close: () => void; working: boolean; label: string; danger?: boolean }) {
  return (
    <div className="modal-buttons">
      <span className="toolbar-spacer" />
      <button type="button" onClick={close} disabled={working}>Cancel</button>
      <button type="submit" className={danger ? 'danger-primary' : 'primary'} disabled={working}>{label}</button>
    </div>
  );
}

function EditDialog({ vm, bridge, close }: DialogProps) {
  const [memory, setMemory] = useState(String(vm.memoryMiB));
  const [cpus, setCpus] = useState(String(vm.cpus));
  const [displayDevice, setDisplayDevice] = useState<VmDisplayDevice>(vm.displayDevice as VmDisplayDevice);
  const [displays, setDisplays] = useState(vm.displays ?? 1);
  const [soundDevice, setSoundDevice] = useState<VmSoundDevice>(vm.soundDevice ?? 'none');
  const [iso, setIso] = useState(vm.cdrom ?? '');
  const [shares, setShares] = useState<VmShare[]>(vm.shares ?? []);
  const [forwards, setForwards] = useState<VmForward[]>(vm.forwards ?? []);
  const [tpm, setTpm] = useState(!!vm.tpm);
  const [secureBoot, setSecureBoot] = useState(!!vm.secureBoot);
  const [host, setHost] = useState<{ cpus: number; memoryMiB: number } | null>(null);
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const { working, failure, submit } = useSubmit();
  const active = !actionsFor(vm.state).edit;
  useEffect(() => {
    void bridge.call('hostLimits', {}).then((r) => r.ok && setHost(r.value));
  }, [bridge]);
  const onSubmit = () => {
    const e = { memory: checkMemory(memory, host), cpus: checkCpus(cpus, host), iso: checkPath(iso, 'ISO image', false) };
    setErrors(e);
    if (e.memory || e.cpus || e.iso) return;
    const changes: VmEdit = {};
    if (Number(memory) !== vm.memoryMiB) changes.memoryMiB = Number(memory);
    if (Number(cpus) !== vm.cpus) changes.cpus = Number(cpus);
    if (displayDevice !== vm.displayDevice) changes.displayDevice = displayDevice;
    if (displays !== (vm.displays ?? 1)) changes.displays = displays;
    if (soundDevice !== (vm.soundDevice ?? 'none')) changes.soundDevice = soundDevice;
    if (iso !== (vm.cdrom ?? '')) changes.cdrom = iso || null;
    if (JSON.stringify(shares) !== JSON.stringify(vm.shares ?? [])) changes.shares = shares;
    if (JSON.stringify(forwards) !== JSON.stringify(vm.forwards ?? [])) changes.forwards = forwards;
    if (tpm !== !!vm.tpm) changes.tpm = tpm;
    if (secureBoot !== !!vm.secureBoot) changes.secureBoot = secureBoot;
    void submit(() => bridge.call('editVm', { id: vm.id, changes }), close);
  };
  return (
    <Modal title={`Edit “${vm.name}”`} onClose={close} locked={working}>
      <form noValidate onSubmit={(e) => (e.preventDefault(), onSubmit())}>
        {active && <p className="hint">{vm.name} is {vm.state}: hardware changes need it shut down. The ISO can be changed from its window while it runs.</p>}
        <Field id="edit-memory" label="Memory (MiB)" error={errors.memory} hint={host ? `This host has ${host.memoryMiB} MiB.` : undefined}>
          <input id="edit-memory" inputMode="numeric" value={memory} onChange={(e) => setMemory(e.target.value)} />
        </Field>
        <Field id="edit-cpus" label="CPUs" error={errors.cpus}>
          <input id="edit-cpus" inputMode="numeric" value={cpus} onChange={(e) => setCpus(e.target.value)} />
        </Field>
        <Field id="edit-display-device" label="Display device">
          <select id="edit-display-device" value={displayDevice} onChange={(e) => setDisplayDevice(e.target.value as VmDisplayDevice)}>
            {VM_DISPLAY_DEVICES.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </Field>
        <Field id="edit-displays" label="Displays" hint={displays > 1 && displayDevice !== 'virtio-vga' ? 'Several displays need the virtio-vga display device.' : 'Heads (monitors); each shows in its own window or the Display switcher.'}>
          <select id="edit-displays" value={displays} onChange={(e) => setDisplays(Number(e.target.value))}>
            {Array.from({ length: MAX_VM_DISPLAYS }, (_, k) => <option key={k} value={k + 1}>{k + 1}</option>)}
          </select>
        </Field>
        <Field id="edit-sound-device" label="Sound device" hint="The guest's sound plays in the VM window; none: no sound card.">
          <select id="edit-sound-device" value={soundDevice} onChange={(e) => setSoundDevice(e.target.value as VmSoundDevice)}>
            {VM_SOUND_DEVICES.map((d) => <option key={d} value={d}>{d}</option>)}
          </select>
        </Field>
        <Field id="edit-iso" label="ISO image" error={errors.iso} hint="Empty: no disc.">
          <input id="edit-iso" value={iso} placeholder="/path/to/image.iso" onChange={(e) => setIso(e.target.value)} />
        </Field>
        <SharesField shares={shares} onChange={setShares} disabled={active} />
        <ForwardsTable vm={vm} bridge={bridge} live={vm.state === 'running' || vm.state === 'paused'} forwards={forwards} onChange={setForwards} />
        <label className="check" title="A TPM 2.0 emulated by swtpm; its state stays in the VM. Windows 11 needs it.">
          <input id="edit-tpm" type="checkbox" checked={tpm} onChange={(e) => setTpm(e.target.checked)} /> TPM 2.0
        </label>
        <label className="check" title="UEFI Secure Boot with Microsoft's keys: only signed boot loaders start. Turns on UEFI.">
          <input id="edit-secure-boot" type="checkbox" checked={secureBoot} onChange={(e) => setSecureBoot(e.target.checked)} /> Secure Boot
        </label>
        {failure && <p className="error" role="alert">{failure}</p>}
        <Buttons close={close} working={working} label="Save" />
      </form>
    </Modal>
  );
}

function CloneDialog({ vm, bridge, close }: DialogProps) {
  const [name, setName] = useState(`${vm.name} copy`);
  const [linked, setLinked] = useState(true);
  const [error, setError] = useState<string>();
  const [percent, setPercent] = useState<number | null>(null);
  const { working, failure, submit } = useSubmit();
  const onSubmit = () => {
    const e = checkName(name, useLibrary.getState().vms.map((v) => v.name));
    setError(e);
    if (e) return;
    const opId = `clone-${Date.now().toString(36)}`;
    const off = bridge.onProgress?.((p) => p.opId === opId && setPercent(p.percent));
    void submit(() => bridge.call('cloneVm', { id: vm.id, name, linked, opId }).finally(() => off?.()), close);
  };
  return (
    <Modal title={`Clone “${vm.name}”`} onClose={close} locked={working}>
      <form noValidate onSubmit={(e) => (e.preventDefault(), onSubmit())}>
        <Field id="clone-name" label="Name of the copy" error={error}>
          <input id="clone-name" autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <fieldset className="choice-column">
          <label><input type="radio" name="clone-kind" checked={linked} onChange={() => setLinked(true)} /> Linked clone — instant, shares {vm.name}’s disk as a read-only base</label>
          <label><input type="radio" name="clone-kind" checked={!linked} onChange={() => setLinked(false)} /> Full copy — independent, copies every disk</label>
        </fieldset>
        {working && !linked && (
          <div className="progress" role="progressbar" aria-label="Cloning" aria-valuenow={percent ?? undefined}>
            <div className="progress-bar" style={{ width: `${percent ?? 5}%` }} />
            <span className="progress-text">Copying… {percent ?? 0}%</span>
          </div>
        )}
        {failure && <p className="error" role="alert">{failure}</p>}
        <Buttons close={close} working={working} label="Clone" />
      </form>
    </Modal>
  );
}

function DeleteDialog({ vm, bridge, close }: DialogProps) {
  const [permanent, setPermanent] = useState(false);
  const [typed, setTyped] = useState('');
  const { working, failure, submit } = useSubmit();
  const confirmed = !permanent || typed === vm.name;
  return (
    <Modal title={`Delete “${vm.name}”?`} onClose={close} locked={working}>
      <form noValidate onSubmit={(e) => (e.preventDefault(), confirmed && void submit(() => bridge.call('deleteVm', { id: vm.id, permanent }), close))}>
        <p>The VM moves to the library’s <code>.Trash</code> folder, from where it can be restored by moving it back.</p>
        <label className="check">
          <input type="checkbox" checked={permanent} onChange={(e) => setPermanent(e.target.checked)} /> Delete permanently, with its disks
        </label>
        {permanent && (
          <Field id="delete-confirm" label={`Type “${vm.name}” to confirm`}>
            <input id="delete-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
          </Field>
        )}
        {failure && <p className="error" role="alert">{failure}</p>}
        <div className="modal-buttons">
          <span className="toolbar-spacer" />
          <button type="button" onClick={close} disabled={working}>Cancel</button>
          <button type="submit" className="danger-primary" disabled={working || !confirmed}>{permanent ? 'Delete Permanently' : 'Move to Trash'}</button>
        </div>
      </form>
    </Modal>
  );
}

function SnapshotsDialog({ vm, bridge, close }: DialogProps) {
  const s = useSnapshots();
  const [name, setName] = useState('');
  const [reverting, setReverting] = useState<string | null>(null);
  useEffect(() => {
    void useSnapshots.getState().load(bridge, vm.id);
  }, [bridge, vm.id]);
  const running = vm.state === 'running' || vm.state === 'paused';
  return (
    <Modal title={`Snapshots of “${vm.name}”`} onClose={close} locked={s.working} wide>
      <p className="hint">{running ? 'The VM is running: snapshots include its memory, and reverting returns it to that moment.' : 'The VM is stopped: snapshots hold the disks only.'}</p>
      {s.loading && !s.list.length ? (
        <p className="hint">Loading…</p>
      ) : s.list.length === 0 ? (
        <p className="hint">No snapshots yet.</p>
      ) : (
        <ul className="snapshot-list" aria-label="Snapshots">
          {s.list.map((x) => (
            <li key={x.name} data-snapshot={x.name}>
              <span className="snapshot-name">{x.name}</span>
              <span className="vm-meta">{new Date(x.date).toLocaleString()} · {x.vmStateBytes ? 'with memory' : 'disk only'}</span>
              <button disabled={s.working} onClick={() => setReverting(x.name)}>Revert…</button>
              <button disabled={s.working} onClick={() => void s.run(bridge, 'delete', x.name)}>Delete</button>
            </li>
          ))}
        </ul>
      )}
      {reverting && (
        <div className="inline-confirm" role="alertdialog" aria-label="Confirm revert">
          <span>Revert to “{reverting}”? Everything since that snapshot is lost.</span>
          <button onClick={() => setReverting(null)}>Cancel</button>
          <button className="danger-primary" onClick={() => void s.run(bridge, 'revert', reverting).then(() => setReverting(null))}>Revert</button>
        </div>
      )}
      <form className="inline-form" noValidate onSubmit={(e) => { e.preventDefault(); if (name.trim()) void s.run(bridge, 'create', name.trim()).then((ok) => ok && setName('')); }}>
        <input aria-label="New snapshot name" placeholder="Snapshot name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={s.working || !name.trim()}>Take Snapshot</button>
      </form>
      {s.working && <p className="hint">Working…</p>}
      {s.note && <p className="hint" role="status">{s.note}</p>}
      {s.error && <p className="error" role="alert">{s.error}</p>}
      <div className="modal-buttons">
        <span className="toolbar-spacer" />
        <button onClick={close} disabled={s.working}>Done</button>
      </div>
    </Modal>
  );
}

function Confirm({ title, confirm, danger, close, onConfirm, children }: { title: string; confirm: string; danger?: boolean; close: () => void; onConfirm: () => Promise<unknown>; children: React.ReactNode }) {
  const [working, setWorking] = useState(false);
  return (
    <Modal title={title} onClose={close} locked={working}>
      <p>{children}</p>
      <div className="modal-buttons">
        <span className="toolbar-spacer" />
        <button onClick={close} disabled={working}>Cancel</button>
        <button className={danger ? 'danger-primary' : 'primary'} disabled={working} onClick={() => { setWorking(true); void onConfirm().finally(close); }}>{confirm}</button>
      </div>
    </Modal>
  );
}

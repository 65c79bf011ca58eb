import { useEffect, useRef, useState } from 'react';
import type { KjuBridge, VmDisplayDevice, VmEditField, VmSoundDevice, VmSummary } from '../../common/contract.js';
import { MAX_VM_DISPLAYS, VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../common/contract.js';
import { useDialogs } from '../state/dialogs.js';
import { actionsFor, useLibrary } from '../state/library.js';
import { useSnapshots } from '../state/snapshots.js';
import { checkName } from '../state/vm-form.js';
import { afterChange, changesOf, checkDraft, draftOf, errorsFromFailure, type EditDraft, type EditErrors } from '../state/vm-edit.js';
import { ForwardsTable, SharesField } from './GuestLinks.js';
import { ClipboardSwitch, Field, Modal } from './Modal.js';

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

/** Cancel and the submit button; `blocked` disables only the submit (nothing it could send would be taken). */
function Buttons({ close, working, label, danger, blocked }: { close: () => void; working: boolean; label: string; danger?: boolean; blocked?: boolean }) {
  return (
    <div className="modal-buttons">
      <span className="toolbar-spacer" />
      <button type="button" onClick={close} disabled={working}>
        Cancel
      </button>
      <button type="submit" className={danger ? 'danger-primary' : 'primary'} disabled={working || blocked}>
        {label}
      </button>
    </div>
  );
}

/** Where each field's input is, to scroll an error into view and focus it. */
const EDIT_INPUT_IDS: Record<VmEditField, string> = {
  memoryMiB: 'edit-memory',
  cpus: 'edit-cpus',
  displayDevice: 'edit-display-device',
  displays: 'edit-displays',
  soundDevice: 'edit-sound-device',
  clipboard: 'edit-clipboard',
  cdrom: 'edit-iso',
  kernel: 'edit-kernel',
  initrd: 'edit-initrd',
  append: 'edit-append',
  shares: 'edit-shares',
  forwards: 'edit-forwards',
  tpm: 'edit-tpm',
  secureBoot: 'edit-secure-boot',
};

function EditDialog({ vm, bridge, close }: DialogProps) {
  const [draft, setDraft] = useState<EditDraft>(() => draftOf(vm));
  const [host, setHost] = useState<{ cpus: number; memoryMiB: number } | null>(null);
  const [errors, setErrors] = useState<EditErrors>({});
  const [working, setWorking] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  // Hardware waits for a shutdown (editVm refuses while the VM is active); port forwards change live.
  const active = !actionsFor(vm.state).edit;
  const live = vm.state === 'running' || vm.state === 'paused';
  useEffect(() => {
    void bridge.call('hostLimits', {}).then((r) => r.ok && setHost(r.value));
  }, [bridge]);
  // A new error is brought into view: the first one in the dialog, and its field gets the focus.
  useEffect(() => {
    const first = form.current?.querySelector('[role="alert"]');
    if (!first) return;
    first.scrollIntoView({ block: 'nearest' });
    const field = (Object.keys(errors) as (keyof EditErrors)[]).find((k) => k !== 'top' && errors[k]);
    if (field && field !== 'top') document.getElementById(EDIT_INPUT_IDS[field])?.focus({ preventScroll: true });
  }, [errors]);
  const set = <K extends keyof EditDraft>(key: K, value: EditDraft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setErrors((e) => afterChange(e, key));
  };
  const onSubmit = async () => {
    const checked = checkDraft(draft, host);
    setErrors(checked);
    if (Object.keys(checked).length) return;
    setWorking(true);
    try {
      const r = await bridge.call('editVm', { id: vm.id, changes: changesOf(vm, draft) });
      if (r.ok) close();
      else setErrors(errorsFromFailure(r));
    } catch (e) {
      setErrors({ top: (e as Error).message });
    } finally {
      setWorking(false);
    }
  };
  const err = (field: VmEditField) =>
    errors[field] && (
      <p className="field-error" role="alert">
        {errors[field]}
      </p>
    );
  return (
    <Modal title={`Edit “${vm.name}”`} onClose={close} locked={working}>
      <form ref={form} noValidate onSubmit={(e) => (e.preventDefault(), void onSubmit())}>
        {active && (
          <p className="notice-banner" role="note" data-testid="edit-locked">
            {vm.name} is {vm.state}: hardware can be changed once it is shut down{live ? '; port forwards change now' : ''}.
          </p>
        )}
        {errors.top && (
          <p className="error" role="alert">
            {errors.top}
          </p>
        )}
        <fieldset className="edit-hardware" disabled={active}>
          <Field id="edit-memory" label="Memory (MiB)" error={errors.memoryMiB} hint={host ? `This host has ${host.memoryMiB} MiB.` : undefined}>
            <input id="edit-memory" inputMode="numeric" value={draft.memoryMiB} onChange={(e) => set('memoryMiB', e.target.value)} />
          </Field>
          <Field id="edit-cpus" label="CPUs" error={errors.cpus}>
            <input id="edit-cpus" inputMode="numeric" value={draft.cpus} onChange={(e) => set('cpus', e.target.value)} />
          </Field>
          <Field id="edit-display-device" label="Display device" error={errors.displayDevice}>
            <select id="edit-display-device" value={draft.displayDevice} onChange={(e) => set('displayDevice', e.target.value as VmDisplayDevice)}>
              {VM_DISPLAY_DEVICES.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </Field>
          <Field
            id="edit-displays"
            label="Displays"
            error={errors.displays}
            hint={
              draft.displays > 1 && draft.displayDevice !== 'virtio-vga'
                ? 'Several displays need the virtio-vga display device.'
                : 'Heads (monitors); each shows in its own window or the Display switcher.'
            }
          >
            <select id="edit-displays" value={draft.displays} onChange={(e) => set('displays', Number(e.target.value))}>
              {Array.from({ length: MAX_VM_DISPLAYS }, (_, k) => (
                <option key={k} value={k + 1}>
                  {k + 1}
                </option>
              ))}
            </select>
          </Field>
          <Field id="edit-sound-device" label="Sound device" error={errors.soundDevice} hint="The guest's sound plays in the VM window; none: no sound card.">
            <select id="edit-sound-device" value={draft.soundDevice} onChange={(e) => set('soundDevice', e.target.value as VmSoundDevice)}>
              {VM_SOUND_DEVICES.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </Field>
          <ClipboardSwitch id="edit-clipboard" checked={draft.clipboard} error={errors.clipboard} onChange={(on) => set('clipboard', on)} />
          <Field id="edit-iso" label="ISO image" error={errors.cdrom} hint={active ? 'While it runs, change the disc from its window.' : 'Empty: no disc.'}>
            <input id="edit-iso" value={draft.cdrom} placeholder="/path/to/image.iso" onChange={(e) => set('cdrom', e.target.value)} />
          </Field>
          <details className="advanced" open={!!(draft.kernel || draft.initrd || draft.append || errors.kernel || errors.initrd || errors.append)}>
            <summary>Boot a kernel directly</summary>
            <Field id="edit-kernel" label="Kernel" error={errors.kernel} hint="Empty: boot from the disks and the ISO.">
              <input id="edit-kernel" value={draft.kernel} placeholder="/path/to/vmlinuz" onChange={(e) => set('kernel', e.target.value)} />
            </Field>
            <Field id="edit-initrd" label="Initrd" error={errors.initrd}>
              <input id="edit-initrd" value={draft.initrd} onChange={(e) => set('initrd', e.target.value)} />
            </Field>
            <Field id="edit-append" label="Kernel command line" error={errors.append}>
              <input id="edit-append" value={draft.append} onChange={(e) => set('append', e.target.value)} />
            </Field>
          </details>
        </fieldset>
        <div id="edit-shares" tabIndex={-1}>
          <SharesField shares={draft.shares} onChange={(v) => set('shares', v)} disabled={active} />
          {err('shares')}
        </div>
        <div id="edit-forwards" tabIndex={-1}>
          <ForwardsTable vm={vm} bridge={bridge} live={live} forwards={draft.forwards} onChange={(v) => set('forwards', v)} />
          {err('forwards')}
        </div>
        <fieldset className="edit-hardware" disabled={active}>
          <label className="check" title="A TPM 2.0 emulated by swtpm; its state stays in the VM. Windows 11 needs it.">
            <input id="edit-tpm" type="checkbox" checked={draft.tpm} onChange={(e) => set('tpm', e.target.checked)} /> TPM 2.0
          </label>
          {err('tpm')}
          <label className="check" title="UEFI Secure Boot with Microsoft's keys: only signed boot loaders start. Turns on UEFI.">
            <input id="edit-secure-boot" type="checkbox" checked={draft.secureBoot} onChange={(e) => set('secureBoot', e.target.checked)} /> Secure Boot
          </label>
          {err('secureBoot')}
        </fieldset>
        <Buttons close={close} working={working} blocked={active} label="Save" />
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
    const e = checkName(
      name,
      useLibrary.getState().vms.map((v) => v.name),
    );
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
          <label>
            <input type="radio" name="clone-kind" checked={linked} onChange={() => setLinked(true)} /> Linked clone — instant, shares {vm.name}’s disk as a read-only base
          </label>
          <label>
            <input type="radio" name="clone-kind" checked={!linked} onChange={() => setLinked(false)} /> Full copy — independent, copies every disk
          </label>
        </fieldset>
        {working && !linked && (
          <div className="progress" role="progressbar" aria-label="Cloning" aria-valuenow={percent ?? undefined}>
            <div className="progress-bar" style={{ width: `${percent ?? 5}%` }} />
            <span className="progress-text">Copying… {percent ?? 0}%</span>
          </div>
        )}
        {failure && (
          <p className="error" role="alert">
            {failure}
          </p>
        )}
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
        <p>
          The VM moves to the library’s <code>.Trash</code> folder, from where it can be restored by moving it back.
        </p>
        <label className="check">
          <input type="checkbox" checked={permanent} onChange={(e) => setPermanent(e.target.checked)} /> Delete permanently, with its disks
        </label>
        {permanent && (
          <Field id="delete-confirm" label={`Type “${vm.name}” to confirm`}>
            <input id="delete-confirm" value={typed} onChange={(e) => setTyped(e.target.value)} />
          </Field>
        )}
        {failure && (
          <p className="error" role="alert">
            {failure}
          </p>
        )}
        <div className="modal-buttons">
          <span className="toolbar-spacer" />
          <button type="button" onClick={close} disabled={working}>
            Cancel
          </button>
          <button type="submit" className="danger-primary" disabled={working || !confirmed}>
            {permanent ? 'Delete Permanently' : 'Move to Trash'}
          </button>
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
              <span className="vm-meta">
                {new Date(x.date).toLocaleString()} · {x.vmStateBytes ? 'with memory' : 'disk only'}
              </span>
              <button disabled={s.working} onClick={() => setReverting(x.name)}>
                Revert…
              </button>
              <button disabled={s.working} onClick={() => void s.run(bridge, 'delete', x.name)}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
      {reverting && (
        <div className="inline-confirm" role="alertdialog" aria-label="Confirm revert">
          <span>Revert to “{reverting}”? Everything since that snapshot is lost.</span>
          <button onClick={() => setReverting(null)}>Cancel</button>
          <button className="danger-primary" onClick={() => void s.run(bridge, 'revert', reverting).then(() => setReverting(null))}>
            Revert
          </button>
        </div>
      )}
      <form
        className="inline-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (name.trim()) void s.run(bridge, 'create', name.trim()).then((ok) => ok && setName(''));
        }}
      >
        <input aria-label="New snapshot name" placeholder="Snapshot name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={s.working || !name.trim()}>
          Take Snapshot
        </button>
      </form>
      {s.working && <p className="hint">Working…</p>}
      {s.note && (
        <p className="hint" role="status">
          {s.note}
        </p>
      )}
      {s.error && (
        <p className="error" role="alert">
          {s.error}
        </p>
      )}
      <div className="modal-buttons">
        <span className="toolbar-spacer" />
        <button onClick={close} disabled={s.working}>
          Done
        </button>
      </div>
    </Modal>
  );
}

function Confirm({
  title,
  confirm,
  danger,
  close,
  onConfirm,
  children,
}: {
  title: string;
  confirm: string;
  danger?: boolean;
  close: () => void;
  onConfirm: () => Promise<unknown>;
  children: React.ReactNode;
}) {
  const [working, setWorking] = useState(false);
  return (
    <Modal title={title} onClose={close} locked={working}>
      <p>{children}</p>
      <div className="modal-buttons">
        <span className="toolbar-spacer" />
        <button onClick={close} disabled={working}>
          Cancel
        </button>
        <button
          className={danger ? 'danger-primary' : 'primary'}
          disabled={working}
          onClick={() => {
            setWorking(true);
            void onConfirm().finally(close);
          }}
        >
          {confirm}
        </button>
      </div>
    </Modal>
  );
}

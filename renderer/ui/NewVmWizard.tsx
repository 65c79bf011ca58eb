import type { KjuBridge, VmDisplayDevice } from '../../common/contract.js';
import { EXISTING_DISK_MODES, VM_DISPLAY_DEVICES } from '../../common/contract.js';
import { useWizard } from '../state/wizard.js';
import { WIZARD_STEPS, type DiskChoice, type VmForm } from '../state/vm-form.js';
import { ClipboardSwitch, Field, Modal } from './Modal.js';

const STEP_TITLES = { name: 'Name', preset: 'Operating system', hardware: 'Memory and CPUs', disk: 'Disk', iso: 'Install media', summary: 'Summary' } as const;
const MODE_LABELS = { copy: 'Copy into the VM (original untouched)', link: 'Link (original becomes read-only)', reference: 'Use in place (the VM writes to it)' } as const;

/** Q-style: one question per page, Back/Next, a summary, then Create with a progress bar. */
export function NewVmWizard({ bridge }: { bridge: KjuBridge }) {
  const w = useWizard();
  if (!w.open) return null;
  const form = w.form;
  const last = w.step === 'summary';
  const stepNo = WIZARD_STEPS.indexOf(w.step) + 1;
  return (
    <Modal title="New Virtual Machine" onClose={w.close} locked={w.creating} wide>
      <ol className="wizard-steps" aria-label="Steps">
        {WIZARD_STEPS.map((s) => (
          <li key={s} className={s === w.step ? 'current' : ''}>
            {STEP_TITLES[s]}
          </li>
        ))}
      </ol>
      {!form ? (
        <p className="hint">{w.failure ?? 'Loading presets…'}</p>
      ) : (
        <form
          className="wizard-page"
          aria-label={`Step ${stepNo} of ${WIZARD_STEPS.length}`}
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            if (last) void w.create(bridge);
            else void w.next(bridge);
          }}
        >
          <StepBody form={form} />
          {w.creating && (
            <div className="progress" role="progressbar" aria-label="Creating" aria-valuemin={0} aria-valuemax={100} aria-valuenow={w.percent ?? undefined}>
              <div className="progress-bar" style={{ width: `${w.percent ?? 5}%` }} />
              <span className="progress-text">{w.percent === null ? 'Creating…' : `Creating… ${w.percent}%`}</span>
            </div>
          )}
          {w.failure && (
            <p className="error" role="alert">
              {w.failure}
            </p>
          )}
          <div className="modal-buttons">
            <button type="button" onClick={w.close} disabled={w.creating}>
              Cancel
            </button>
            <span className="toolbar-spacer" />
            {stepNo > 1 && (
              <button type="button" onClick={w.back} disabled={w.creating}>
                Back
              </button>
            )}
            <button type="submit" className="primary" disabled={w.creating || w.checking}>
              {last ? 'Create' : w.checking ? 'Checking…' : 'Next'}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}

function StepBody({ form }: { form: VmForm }) {
  const { step, errors, presets, host, setField, choosePreset } = useWizard();
  const text = (field: keyof VmForm, label: string, o: { hint?: string; placeholder?: string; autoFocus?: boolean; inputMode?: 'numeric' } = {}) => (
    <Field id={`vm-${field}`} label={label} error={errors[field]} hint={o.hint}>
      <input
        id={`vm-${field}`}
        value={form[field] as string}
        placeholder={o.placeholder}
        autoFocus={o.autoFocus}
        inputMode={o.inputMode}
        aria-invalid={!!errors[field]}
        onChange={(e) => setField(field, e.target.value as never)}
      />
    </Field>
  );
  switch (step) {
    case 'name':
      return text('name', 'Name', { placeholder: 'e.g. Debian', autoFocus: true, hint: 'Shown in the library; also the bundle’s folder name.' });
    case 'preset':
      return (
        <fieldset className="preset-list">
          <legend>What will run in it?</legend>
          {presets.map((p) => (
            <label key={p.id} className={form.preset === p.id ? 'preset chosen' : 'preset'}>
              <input type="radio" name="preset" value={p.id} checked={form.preset === p.id} onChange={() => choosePreset(p.id)} />
              <span className="preset-name">{p.label}</span>
              <span className="preset-defaults">
                {p.memoryMiB} MiB · {p.cpus} CPU · {p.displayDevice} · {p.diskSize} disk · {p.firmware.toUpperCase()}
                {p.secureBoot ? ' · Secure Boot' : ''}
                {p.tpm ? ' · TPM 2.0' : ''}
              </span>
            </label>
          ))}
        </fieldset>
      );
    case 'hardware':
      return (
        <>
          {text('memoryMiB', 'Memory (MiB)', { inputMode: 'numeric', autoFocus: true, hint: host ? `This host has ${host.memoryMiB} MiB.` : undefined })}
          {text('cpus', 'CPUs', { inputMode: 'numeric', hint: host ? `This host has ${host.cpus} CPUs.` : undefined })}
          <Field id="vm-display-device" label="Display device">
            <select id="vm-display-device" value={form.displayDevice} onChange={(e) => setField('displayDevice', e.target.value as VmDisplayDevice)}>
              {VM_DISPLAY_DEVICES.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </Field>
          <ClipboardSwitch id="vm-clipboard" checked={form.clipboard} onChange={(on) => setField('clipboard', on)} />
        </>
      );
    case 'disk':
      return (
        <>
          <fieldset className="choice-row">
            <legend>Hard disk</legend>
            {(['new', 'existing', 'none'] as DiskChoice[]).map((d) => (
              <label key={d}>
                <input type="radio" name="disk" value={d} checked={form.disk === d} onChange={() => setField('disk', d)} />
                {d === 'new' ? 'New disk' : d === 'existing' ? 'Existing image' : 'No disk'}
              </label>
            ))}
          </fieldset>
          {form.disk === 'new' && text('diskSize', 'Size', { hint: 'A qcow2 file that grows as the guest writes, e.g. 64M or 20G.' })}
          {form.disk === 'existing' && (
            <>
              {text('diskPath', 'Image path on the host', { placeholder: '/home/me/images/disk.qcow2' })}
              <Field id="vm-diskMode" label="How to use it">
                <select id="vm-diskMode" value={form.diskMode} onChange={(e) => setField('diskMode', e.target.value as VmForm['diskMode'])}>
                  {EXISTING_DISK_MODES.map((m) => (
                    <option key={m} value={m}>
                      {MODE_LABELS[m]}
                    </option>
                  ))}
                </select>
              </Field>
            </>
          )}
        </>
      );
    case 'iso':
      return (
        <>
          {text('iso', 'ISO image (optional)', {
            placeholder: '/home/me/Downloads/installer.iso',
            autoFocus: true,
            hint: 'Type the path on the machine running kju. It can also be attached later, even while the VM runs.',
          })}
          <details className="advanced" open={!!(form.kernel || form.initrd || form.append || errors.kernel || errors.initrd)}>
            <summary>Advanced: boot a kernel directly</summary>
            {text('kernel', 'Kernel')}
            {text('initrd', 'Initrd')}
            {text('append', 'Kernel command line')}
          </details>
        </>
      );
    case 'summary':
      return <Summary form={form} />;
  }
}

function Summary({ form }: { form: VmForm }) {
  const { presets, goTo } = useWizard();
  const preset = presets.find((p) => p.id === form.preset);
  const disk = form.disk === 'new' ? `New ${form.diskSize} qcow2` : form.disk === 'existing' ? `${form.diskPath} (${form.diskMode})` : 'None';
  const rows: [string, string, Parameters<typeof goTo>[0]][] = [
    ['Name', form.name, 'name'],
    ['System', preset?.label ?? form.preset, 'preset'],
    ['Memory', `${form.memoryMiB} MiB`, 'hardware'],
    ['CPUs', form.cpus, 'hardware'],
    ['Display device', form.displayDevice, 'hardware'],
    ['Shared clipboard', form.clipboard ? 'On' : 'Off', 'hardware'],
    ['Disk', disk, 'disk'],
    ['ISO', form.iso || 'None', 'iso'],
  ];
  if (form.kernel) rows.push(['Kernel', form.kernel, 'iso']);
  return (
    <dl className="summary" aria-label="Summary">
      {rows.map(([k, v, step]) => (
        <div key={k} className="summary-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
          <button type="button" className="link" onClick={() => goTo(step)} aria-label={`Change ${k}`}>
            Change
          </button>
        </div>
      ))}
    </dl>
  );
}

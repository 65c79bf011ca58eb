// The New VM wizard: which step is shown, the form, the presets and host limits it was opened
// with, and the create call with its progress. One wizard per window.
import { create } from 'zustand';
import type { HostLimits, KjuBridge, PresetInfo, VmSummary } from '../../common/contract.js';
import { failureText } from '../../common/errors.js';
import { checkFields, checkForm, formFromPreset, pathsToCheck, STEP_FIELDS, toCreateArgs, WIZARD_STEPS, type FormErrors, type VmForm, type WizardStep } from './vm-form.js';

export interface WizardState {
  open: boolean;
  step: WizardStep;
  presets: PresetInfo[];
  host: HostLimits | null;
  form: VmForm | null;
  errors: FormErrors;
  /** names already in the library (the name check is inline) */
  taken: string[];
  creating: boolean;
  /** Next is asking the backend about the step's paths */
  checking: boolean;
  /** 0..100 while the disk is made; null before the first progress event */
  percent: number | null;
  /** the backend's message when create failed */
  failure?: string;
  created?: VmSummary;
  show(bridge: KjuBridge, taken: string[]): Promise<void>;
  close(): void;
  setField<K extends keyof VmForm>(field: K, value: VmForm[K]): void;
  choosePreset(id: PresetInfo['id']): void;
  /** Checks the step's fields, then asks the backend whether its paths exist and may be used; true when it moved on. */
  next(bridge: KjuBridge): Promise<boolean>;
  back(): void;
  goTo(step: WizardStep): void;
  create(bridge: KjuBridge): Promise<VmSummary | null>;
}

const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

let opCounter = 0;
const newOpId = () => `create-${Date.now().toString(36)}-${++opCounter}`;

export const useWizard = create<WizardState>()((set, get) => ({
  open: false,
  step: 'name',
  presets: [],
  host: null,
  form: null,
  errors: {},
  taken: [],
  creating: false,
  checking: false,
  percent: null,

  async show(bridge, taken) {
    set({ open: true, step: 'name', errors: {}, taken, creating: false, percent: null, failure: undefined, created: undefined });
    const [presets, host] = await Promise.all([bridge.call('presets', {}), bridge.call('hostLimits', {})]);
    if (!presets.ok || !host.ok) {
      set({ failure: !presets.ok ? failureText(presets) : !host.ok ? failureText(host) : undefined });
      return;
    }
    const first = presets.value[0];
    set({ presets: presets.value, host: host.value, form: first ? formFromPreset(first, host.value) : null });
  },

  close() {
    if (get().creating) return;
    set({ open: false, form: null, errors: {}, failure: undefined });
  },

  setField(field, value) {
    const form = get().form;
    if (!form) return;
    const next = { ...form, [field]: value };
    // Inline: a field that had an error is re-checked as it is typed.
    const errors = { ...get().errors };
    if (errors[field]) {
      const again = checkFields(next, [field], get().host, get().taken)[field];
      if (again) errors[field] = again;
      else delete errors[field];
    }
    set({ form: next, errors });
  },

  choosePreset(id) {
    const { form, presets, host } = get();
    const p = presets.find((x) => x.id === id);
    if (!p || !form) return;
    // The preset decides hardware defaults; what was typed on other steps (name, paths) stays.
    const fresh = formFromPreset(p, host, form.name);
    set({ form: { ...fresh, iso: form.iso, kernel: form.kernel, initrd: form.initrd, append: form.append, diskPath: form.diskPath, diskMode: form.diskMode } });
  },

  async next(bridge) {
    const { form, step, host, taken } = get();
    if (!form || get().checking) return false;
    const errors = checkFields(form, STEP_FIELDS[step], host, taken);
    set({ errors });
    if (Object.keys(errors).length) return false;
    const paths = pathsToCheck(form, step);
    if (paths.length) {
      set({ checking: true });
      try {
        const replies = await Promise.all(
          paths.map((p) => bridge.call('checkHostPath', { path: p.path, kind: p.kind }).catch((e: Error) => ({ ok: false as const, code: 'internal', message: e.message }))),
        );
        // typed on while the backend answered: that text is checked on the next Next
        if (get().form !== form || get().step !== step) return false;
        const refused: FormErrors = {};
        replies.forEach((r, k) => {
          if (!r.ok) refused[paths[k].field] = capitalized(failureText(r));
        });
        set({ errors: refused });
        if (Object.keys(refused).length) return false;
      } finally {
        set({ checking: false });
      }
    }
    const i = WIZARD_STEPS.indexOf(step);
    if (i < WIZARD_STEPS.length - 1) set({ step: WIZARD_STEPS[i + 1] });
    return true;
  },

  back() {
    const i = WIZARD_STEPS.indexOf(get().step);
    if (i > 0) set({ step: WIZARD_STEPS[i - 1], failure: undefined });
  },

  goTo(step) {
    if (!get().creating) set({ step, failure: undefined });
  },

  async create(bridge) {
    const { form, host, taken } = get();
    if (!form || get().creating) return null;
    const errors = checkForm(form, host, taken);
    if (Object.keys(errors).length) {
      const firstBad = WIZARD_STEPS.find((s) => STEP_FIELDS[s].some((f) => errors[f]));
      set({ errors, step: firstBad ?? get().step });
      return null;
    }
    const opId = newOpId();
    const off = bridge.onProgress?.((p) => {
      if (p.opId === opId) set({ percent: p.percent });
    });
    set({ creating: true, percent: null, failure: undefined });
    try {
      const r = await bridge.call('createVm', toCreateArgs(form, opId));
      if (!r.ok) {
        set({ failure: failureText(r) });
        return null;
      }
      set({ created: r.value, open: false, form: null });
      return r.value;
    } catch (e) {
      set({ failure: (e as Error).message });
      return null;
    } finally {
      off?.();
      set({ creating: false });
    }
  },
}));

// What the library subcommands (list, create, clone, delete, edit) share: argument parsing that
// turns mistakes into usage errors, the library opened for the command, and option value checks.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from '../cli-error.js';
import { Library } from '../../library/library.js';
import { DISPLAY_DEVICES, MACHINES, NICS, SOUND_DEVICES } from '../../library/bundle-config.js';

export const USAGE_EXIT = 2;

export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, usage: string) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${usage}`, USAGE_EXIT);
  }
}

/** Runs `fn` on the library; its errors (LibraryError is a KjuError) reach kju.ts's one mapping as they are. */
export async function withLibrary<T>(fn: (library: Library) => Promise<T>): Promise<T> {
  return fn(Library.open());
}

export function oneOf<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new CliError(`--${option} must be one of ${allowed.join(', ')}; got "${value}"`, USAGE_EXIT);
  return value as T;
}

/** "512" (MiB), "512M", "2G" → MiB. */
export function memoryMiB(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)([MG]i?B?)?$/i.exec(value.trim());
  if (!m) throw new CliError(`--memory must be MiB or a size like 512M or 2G; got "${value}"`, USAGE_EXIT);
  return Number(m[1]) * (m[2]?.toUpperCase().startsWith('G') ? 1024 : 1);
}

export function positiveInt(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value)) throw new CliError(`--${option} must be a whole number of at least 1; got "${value}"`, USAGE_EXIT);
  return Number(value);
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Hardware options that `kju create` and `kju edit` both take (plus --json). */
export const HARDWARE_OPTIONS = {
  memory: { type: 'string' },
  cpus: { type: 'string' },
  iso: { type: 'string' },
  display: { type: 'string' },
  nic: { type: 'string' },
  machine: { type: 'string' },
  tablet: { type: 'boolean' },
  'no-tablet': { type: 'boolean' },
  sound: { type: 'string' },
  microphone: { type: 'boolean' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  notes: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export interface HardwareArgs {
  memory?: string;
  cpus?: string;
  display?: string;
  nic?: string;
  machine?: string;
  tablet?: boolean;
  'no-tablet'?: boolean;
  sound?: string;
  microphone?: boolean;
  kernel?: string;
  initrd?: string;
  append?: string;
  notes?: string;
}

/** The checked values of HARDWARE_OPTIONS (undefined where not given); --iso is the caller's. */
export function hardwareValues(v: HardwareArgs) {
  if (v.microphone) {
    throw new CliError('--microphone: sound in (the guest hearing a host microphone) is not in kju yet; only sound out plays. Nothing was changed.', USAGE_EXIT);
  }
  return {
    memoryMiB: memoryMiB(v.memory),
    cpus: positiveInt('cpus', v.cpus),
    // --display names the display device; the option keeps its name (scripts rely on it)
    display: oneOf('display', v.display, DISPLAY_DEVICES),
    nic: oneOf('nic', v.nic, NICS),
    machine: oneOf('machine', v.machine, MACHINES),
    tablet: v.tablet ? true : v['no-tablet'] ? false : undefined,
    sound: oneOf('sound', v.sound, SOUND_DEVICES),
    kernel: v.kernel,
    initrd: v.initrd,
    append: v.append,
    notes: v.notes,
  };
}

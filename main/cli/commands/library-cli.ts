// What the library subcommands (list, create, clone, delete, edit) share: argument parsing that
// turns mistakes into usage errors, the library opened for the command, and option value checks.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from '../cli-error.js';
import { Library } from '../../library/library.js';
import { MAX_VM_DISPLAYS, VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../../common/contract.js';
import { MACHINES, NICS } from '../../library/bundle-config.js';
import { GuestLinkError, parsePortForward, parseShareSpec } from '../../qemu/guest-links.js';

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

/** --displays N: heads of the display device, 1..MAX_VM_DISPLAYS. */
function displayCount(value: string | undefined): number | undefined {
  const n = positiveInt('displays', value);
  if (n !== undefined && n > MAX_VM_DISPLAYS) throw new CliError(`--displays must be 1 to ${MAX_VM_DISPLAYS}; got ${n}`, USAGE_EXIT);
  return n;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** A --x / --no-x pair: true, false, or undefined when neither was given. */
function onOff(option: string, on: boolean | undefined, off: boolean | undefined): boolean | undefined {
  if (on && off) throw new CliError(`--${option} and --no-${option} contradict each other`, USAGE_EXIT);
  return on ? true : off ? false : undefined;
}

/** Hardware options that `kju create` and `kju edit` both take (plus --json). */
export const HARDWARE_OPTIONS = {
  memory: { type: 'string' },
  cpus: { type: 'string' },
  iso: { type: 'string' },
  display: { type: 'string' },
  displays: { type: 'string' },
  nic: { type: 'string' },
  machine: { type: 'string' },
  tablet: { type: 'boolean' },
  'no-tablet': { type: 'boolean' },
  clipboard: { type: 'boolean' },
  'no-clipboard': { type: 'boolean' },
  tpm: { type: 'boolean' },
  'no-tpm': { type: 'boolean' },
  'secure-boot': { type: 'boolean' },
  'no-secure-boot': { type: 'boolean' },
  sound: { type: 'string' },
  microphone: { type: 'boolean' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  notes: { type: 'string' },
  share: { type: 'string', multiple: true },
  'no-share': { type: 'boolean' },
  forward: { type: 'string', multiple: true },
  'no-forward': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export interface HardwareArgs {
  memory?: string;
  cpus?: string;
  display?: string;
  displays?: string;
  nic?: string;
  machine?: string;
  tablet?: boolean;
  'no-tablet'?: boolean;
  clipboard?: boolean;
  'no-clipboard'?: boolean;
  tpm?: boolean;
  'no-tpm'?: boolean;
  'secure-boot'?: boolean;
  'no-secure-boot'?: boolean;
  sound?: string;
  microphone?: boolean;
  kernel?: string;
  initrd?: string;
  append?: string;
  notes?: string;
  share?: string[];
  'no-share'?: boolean;
  forward?: string[];
  'no-forward'?: boolean;
}

/** The usage lines of --share and --forward, shared by create's and edit's help. */
export const GUEST_LINK_USAGE = `  --share DIR[:ro]  a host folder for the guest over virtio-9p, read-only with :ro (repeatable; the
                    first is mount tag share0, then share1...; in the guest:
                    mount -t 9p -o trans=virtio,version=9p2000.L share0 /mnt)
  --no-share        no shared folders
  --forward tcp:HOSTPORT:GUESTPORT   a user-network port forward (also udp:; host address
                    127.0.0.1 unless written: tcp:0.0.0.0:8080:80; repeatable)
  --no-forward      no port forwards`;

function listOption<T>(v: HardwareArgs, option: 'share' | 'forward', parse: (spec: string) => T): T[] | undefined {
  const given = v[option];
  if (v[`no-${option}`]) {
    if (given?.length) throw new CliError(`--${option} and --no-${option} contradict each other`, USAGE_EXIT);
    return [];
  }
  if (!given) return undefined;
  try {
    return given.map(parse);
  } catch (err) {
    if (err instanceof GuestLinkError) throw new CliError(err.message, USAGE_EXIT);
    throw err;
  }
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
    display: oneOf('display', v.display, VM_DISPLAY_DEVICES),
    displays: displayCount(v.displays),
    nic: oneOf('nic', v.nic, NICS),
    machine: oneOf('machine', v.machine, MACHINES),
    tablet: v.tablet ? true : v['no-tablet'] ? false : undefined,
    clipboard: v.clipboard ? true : v['no-clipboard'] ? false : undefined,
    tpm: onOff('tpm', v.tpm, v['no-tpm']),
    secureBoot: onOff('secure-boot', v['secure-boot'], v['no-secure-boot']),
    sound: oneOf('sound', v.sound, VM_SOUND_DEVICES),
    kernel: v.kernel,
    initrd: v.initrd,
    append: v.append,
    notes: v.notes,
    // given lists replace the VM's; --no-share / --no-forward empty them
    shares: listOption(v, 'share', parseShareSpec),
    forwards: listOption(v, 'forward', parsePortForward),
  };
}

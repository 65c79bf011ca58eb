// kju's one error model, shared by every side (pure TS: no Node, no DOM). Every kju error class
// extends KjuError and carries a code from KJU_ERROR_CODES; the backend turns it into a Result
// failure (main/backend/failure.ts) and the CLI into a message and exit code (main/cli/cli-error.ts).

/**
 * Every code a kju error or a backend Result failure can carry; the renderer may match on them.
 * Kebab-case. Grouped by where they come from; add a code here before throwing it.
 */
export const KJU_ERROR_CODES = [
  // the caller: the CLI's usage, the backend's argument and origin checks
  'usage',
  'bad-args',
  'unknown-method',
  'forbidden',
  'path-not-allowed',
  'command-failed',
  // the VM library (LibraryError)
  'not-found',
  'ambiguous',
  'invalid-config',
  'newer-version',
  'duplicate-name',
  'duplicate-id',
  'name-taken',
  'invalid-name',
  'invalid-argument',
  'missing-file',
  'host-limit',
  'no-uefi-firmware',
  'no-swtpm',
  'qemu-img-failed',
  'in-use',
  'untrusted-backing',
  'outside-path',
  'disk-full',
  'busy',
  // another kju process is starting, stopping, suspending, editing, cloning or deleting the VM (its per-VM lock)
  'vm-busy',
  // QEMU on the host: finding, describing and launching it
  'qemu-not-found',
  'qemu-unsupported',
  'invalid-description',
  'runtime-dir-unusable',
  'launch-failed',
  // running VMs and their owner (session layer: SessionError, SavedStateError, SnapshotError, LifecycleError, ...)
  'not-running',
  'already-running',
  'owned-elsewhere',
  'not-responding',
  'suspended',
  'no-console',
  'no-sound',
  'no-clipboard',
  'clipboard-refused',
  'serial-in-use',
  'no-owner',
  'owner-call-failed',
  'vm-not-found',
  'broken-record',
  'missing-state',
  'disks-changed',
  'state-corrupt',
  'incomplete-state',
  'not-qcow2',
  'no-disk',
  'exists',
  'bad-name',
  'snapshot-failed',
  'bad-op',
  'migration-failed',
  'timeout',
  // shared folders, port forwards and USB devices of a VM (qemu/guest-links.ts, session/usb.ts)
  'port-in-use',
  'usb-failed',
  'usb-permission',
  // libvirt connections (kju -c URI: main/libvirt/): a URI kju cannot use, libvirt not installed, libvirt refused
  'bad-connection',
  'no-libvirt',
  'libvirt-failed',
  // connections to QEMU and between kju's own processes
  'protocol-error',
  'connection-closed',
  'qmp-failed',
  'fd-passing-unsupported',
  'dbus-failed',
  'bad-surface',
  'bad-frame',
  'unknown-key',
  'serve-failed',
  'webgl-failed',
  'guest-command-failed',
  // the front ends' own transports: the page's WebSocket to kju serve, the Electron window's display utility
  'unreachable',
  'display-unavailable',
  'display-utility-failed',
  // the clipboard text is over CLIPBOARD_MAX_BYTES (common/contract.ts)
  'too-large',
  // a system call failed (native/: NativeError; the errno name stays on the error itself)
  'system-error',
  // the backend itself: not set up, or a bug (a non-kju error; its stack goes to the log)
  'unavailable',
  'internal',
] as const;
export type KjuErrorCode = (typeof KJU_ERROR_CODES)[number];

export interface KjuErrorOptions {
  /** what to do next, on its own line (e.g. the package to install) */
  hint?: string;
  cause?: unknown;
  /** the setting the error is about (a config field such as `kernel`), when it is about one */
  field?: string;
}

/** The base of every kju error: `message` says what went wrong, `hint` what to do next. */
export class KjuError extends Error {
  override name = 'KjuError';
  readonly hint?: string;
  /** the setting the error is about, when it is about one: a form shows the message beside it */
  field?: string;

  constructor(
    readonly code: KjuErrorCode,
    message: string,
    options: KjuErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.field !== undefined) this.field = options.field;
  }
}

export function isKjuErrorCode(v: unknown): v is KjuErrorCode {
  return typeof v === 'string' && (KJU_ERROR_CODES as readonly string[]).includes(v);
}

/** The kju code a thrown value carries, or `fallback` (an errno name such as ENOENT is no kju code). */
export function kjuErrorCodeOf(err: unknown, fallback: KjuErrorCode): KjuErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return isKjuErrorCode(code) ? code : fallback;
}

/** A failure as a person reads it: the message, then the hint on its own line. */
export function failureText(f: { message: string; hint?: string }): string {
  return f.hint ? `${f.message}\n${f.hint}` : f.message;
}

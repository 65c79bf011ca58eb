// The one contract between kju's processes: the Node side (main, kju serve), the Electron
// preload, and the renderer. Every message that crosses a process boundary is typed here.
// Expected failures cross as data (Result), never as thrown errors: those lose their fields in IPC.
import type { KjuErrorCode } from './errors.js';

export type Transport = 'map' | 'copy';

/** pixman x8r8g8b8: bytes B,G,R,X in memory. The only format QEMU's D-Bus display was seen to send. */
export const PIXMAN_X8R8G8B8 = 0x20020888;
/** pixman a8r8g8b8: bytes B,G,R,A; drawn as opaque like x8r8g8b8. */
export const PIXMAN_A8R8G8B8 = 0x20028888;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One guest framebuffer as the viewer sees it. A new id means a new buffer (resolution change). */
export interface SurfaceInfo {
  id: number;
  width: number;
  height: number;
  /** bytes per row */
  stride: number;
  /** pixman format code */
  format: number;
  /** 'map': QEMU's memfd is mapped and read in place; 'copy': QEMU sent the pixels over the socket */
  transport: Transport;
}

export interface CursorShape {
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  /** ARGB32 as QEMU sends it: bytes B,G,R,A, width*4 per row */
  pixels: Uint8Array;
}

export type VmRunState = 'stopped' | 'starting' | 'running' | 'paused' | 'suspended' | 'shutting-down' | 'crashed';
/** The states in which a VM's QEMU runs (or is being started or shut down): its hardware must not change under it. */
export const ACTIVE_VM_STATES = ['starting', 'running', 'paused', 'shutting-down'] as const satisfies readonly VmRunState[];
export type ActiveVmState = (typeof ACTIVE_VM_STATES)[number];

/** Whether `value` is one of `list` (the guard for every vocabulary list in this file). */
export function isOneOf<T extends string>(value: unknown, list: readonly T[]): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

export const isActiveVmState = (state: VmRunState): state is ActiveVmState => isOneOf(state, ACTIVE_VM_STATES);

export interface VmSummary {
  id: string;
  name: string;
  state: VmRunState;
  /** the emulated graphics card (a VmDisplayDevice for library VMs) */
  displayDevice: string;
  /** heads of the display device (several monitors), when more than 1 */
  displays?: number;
  memoryMiB: number;
  cpus: number;
  /** why the VM is not running as asked (crash log tail, bad config); absent when all is well */
  problem?: string;
  /** absolute path of the ISO in the VM's CD-ROM drive; absent when the drive is empty */
  cdrom?: string;
  /** the accelerator the running VM uses; absent while stopped or not yet known */
  accelerator?: Accelerator;
  /** why the running VM does not use the accelerator one would expect, in one plain sentence */
  acceleratorNotice?: string;
  /** the display transport once the backend knows it: 'map' shared memory, 'copy' pixels over the socket */
  transport?: Transport;
  /** the emulated sound card ('none' for none); absent for broken bundles */
  soundDevice?: VmSoundDevice;
  /** the VM shares its clipboard with the host (a vdagent channel; takes effect when it starts) */
  clipboard?: boolean;
  /** direct kernel boot: absolute host paths of the kernel and initrd, and the kernel command line; absent when unset */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** host folders exported to the guest (mount tags share0, share1, ...); absent when none */
  shares?: VmShare[];
  /** the port forwards the VM starts with (config); a running VM's live ones come from listForwards */
  forwards?: VmForward[];
  /** a TPM 2.0 (swtpm); absent when off */
  tpm?: boolean;
  /** UEFI Secure Boot with Microsoft's keys; absent when off */
  secureBoot?: boolean;
  /**
   * the absolute path of the VM description file a running VM was started from (`kju run path/vm.json`):
   * such a VM is not in the library; its `id` is `file:` + this path
   */
  fromFile?: string;
}

/** A host folder exported to the guest over virtio-9p; the n-th is mount tag `share<n>`. */
export interface VmShare {
  /** absolute host path of a folder */
  path: string;
  readOnly: boolean;
}

/** A user-network port forward: hostAddr:hostPort on the host to guestPort in the guest. */
export interface VmForward {
  proto: 'tcp' | 'udp';
  /** IPv4; 127.0.0.1 unless the user chose another */
  hostAddr: string;
  hostPort: number;
  guestPort: number;
}

/** A USB device of the host, as `kju usb list` shows it. */
export interface HostUsbDevice {
  /** 4 hex digits, lower case */
  vendorId: string;
  productId: string;
  bus: number;
  /** port path, "2" or "2.3" */
  port: string;
  manufacturer?: string;
  product?: string;
}

/** QEMU's accelerators kju uses: KVM (Linux), HVF (macOS), or TCG (emulation, everywhere). */
export const ACCELERATORS = ['kvm', 'hvf', 'tcg'] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

export type DiagnosticStatus = 'OK' | 'WARN' | 'FAIL';

/** One line of `kju doctor` and the app's Diagnostics view (main/backend/diagnostics.ts makes them). */
export interface Diagnostic {
  id: 'qemu' | 'display' | 'accelerator' | 'uefi' | 'swtpm' | 'qemu-user' | 'libvirt' | 'electron' | 'library' | 'runtime-dir';
  status: DiagnosticStatus;
  /** What was found, in one line. */
  summary: string;
  /** What to do about a WARN or FAIL (an install command where there is one). */
  fix?: string;
}

/** The guest families a new VM can be made for; each picks hardware its installers have drivers for. */
export const VM_PRESETS = ['linux', 'windows', 'dos', 'bsd', 'other'] as const;
export type VmPreset = (typeof VM_PRESETS)[number];
/** The emulated graphics cards a VM can have (its display device; the display is the screen kju shows). */
export const VM_DISPLAY_DEVICES = ['virtio-vga', 'std', 'cirrus', 'qxl', 'bochs', 'none'] as const;
export type VmDisplayDevice = (typeof VM_DISPLAY_DEVICES)[number];
/** The most heads (monitors) a VM's display device may have; only virtio-vga has more than one. */
export const MAX_VM_DISPLAYS = 4;
/** The emulated sound cards a VM can have, all playing through QEMU's D-Bus audio into kju (main/qemu/build-argv.ts soundArgs). */
export const VM_SOUND_DEVICES = ['intel-hda', 'ich9-intel-hda', 'ac97', 'sb16', 'virtio-sound', 'none'] as const;
export type VmSoundDevice = (typeof VM_SOUND_DEVICES)[number];
/**
 * How an existing image becomes a new VM's disk:
 * - copy: `qemu-img convert` into the bundle as qcow2 (the original is never touched);
 * - link: a qcow2 overlay in the bundle backed by the original (read-only from then on: writing
 *   to the original would corrupt the overlay);
 * - reference: the config names the original by absolute path; the VM writes to it in place.
 */
export const EXISTING_DISK_MODES = ['copy', 'link', 'reference'] as const;
export type ExistingDiskMode = (typeof EXISTING_DISK_MODES)[number];

/** One OS variant of the catalogue (osinfo-db): `id` is its short id (debian11, win11, ubuntu22.04). */
export interface OsCatalogueEntry {
  id: string;
  /** other short ids osinfo-db gives the same variant */
  aliases?: string[];
  name: string;
  vendor: string;
  version: string;
  /** osinfo-db's family: linux, winnt, freebsd, msdos... */
  family: string;
  /** YYYY-MM-DD */
  releaseDate?: string;
  eolDate?: string;
  /** osinfo-db's recommended resources (its minimum where it recommends none); absent where it says nothing */
  recommended: { memoryMiB?: number; diskGiB?: number; cpus?: number };
  /** the kju preset for its family */
  preset: VmPreset;
  /** it boots only with UEFI (Windows 11) */
  uefiOnly?: boolean;
  /** osinfo-db names a download URL for an install medium */
  downloadable: boolean;
  /** whether kju can install it without questions; `why` says what is missing when not */
  unattended: { supported: boolean; why: string };
}

/** The catalogue and where it came from: `version` is osinfo-db's release (YYYYMMDD). */
export interface OsCatalogue {
  source: string;
  version: string;
  entries: OsCatalogueEntry[];
}

/** A preset and the hardware it gives a new VM unless the wizard changes it. */
export interface PresetInfo {
  id: VmPreset;
  label: string;
  memoryMiB: number;
  cpus: number;
  displayDevice: VmDisplayDevice;
  soundDevice: VmSoundDevice;
  /** qemu-img size of a new disk: "20G", "512M" */
  diskSize: string;
  firmware: 'bios' | 'uefi';
  machine: 'q35' | 'pc';
  /** a TPM 2.0 and Secure Boot by default (the Windows 11 preset); absent means off */
  tpm?: boolean;
  secureBoot?: boolean;
}

/** What this host can give one VM. */
export interface HostLimits {
  cpus: number;
  memoryMiB: number;
}

/**
 * A new VM's disk: a new empty qcow2 (`size` as qemu-img takes it, "64M", "20G"), an existing image
 * (copied into the bundle, linked as a qcow2 overlay, or referenced in place), or none.
 */
export type NewVmDisk = { kind: 'new'; size: string } | { kind: 'existing'; path: string; mode: ExistingDiskMode } | { kind: 'none' };

export interface CreateVmArgs {
  name: string;
  preset: VmPreset;
  memoryMiB: number;
  cpus: number;
  displayDevice?: VmDisplayDevice;
  /** heads of the display device, 1..MAX_VM_DISPLAYS (more than 1 needs virtio-vga) */
  displays?: number;
  /** share the clipboard with the guest; default on (the preset's) */
  clipboard?: boolean;
  /** default: the preset's */
  soundDevice?: VmSoundDevice;
  disk: NewVmDisk;
  /** absolute path of an installer ISO on the host */
  iso?: string;
  /** direct kernel boot (advanced): host paths and the kernel command line */
  kernel?: string;
  initrd?: string;
  append?: string;
  /** host folders to export to the guest (absolute folder paths) */
  shares?: VmShare[];
  forwards?: VmForward[];
  /** default: the preset's */
  tpm?: boolean;
  secureBoot?: boolean;
  /** the caller's id for this operation; progress events carry it (see KjuBridge.onProgress) */
  opId?: string;
}

/** Hardware an edit may change while the VM is stopped; `cdrom: null` ejects. */
export interface VmEdit {
  memoryMiB?: number;
  cpus?: number;
  displayDevice?: VmDisplayDevice;
  /** heads of the display device, 1..MAX_VM_DISPLAYS (more than 1 needs virtio-vga) */
  displays?: number;
  clipboard?: boolean;
  soundDevice?: VmSoundDevice;
  cdrom?: string | null;
  /** direct kernel boot: host paths (the front end's path rules apply) and the command line; null removes */
  kernel?: string | null;
  initrd?: string | null;
  append?: string | null;
  /** replaces the shared folders; [] removes them all */
  shares?: VmShare[];
  /** replaces the port forwards the VM starts with; [] removes them all */
  forwards?: VmForward[];
  /** a TPM 2.0 on or off (on needs swtpm on the host) */
  tpm?: boolean;
  /** Secure Boot on (switches to UEFI with Microsoft's keys) or off */
  secureBoot?: boolean;
}

/** The fields of VmEdit, as a runtime list (a failure's `field` is one of them). */
export const VM_EDIT_FIELDS = [
  'memoryMiB',
  'cpus',
  'displayDevice',
  'displays',
  'clipboard',
  'soundDevice',
  'cdrom',
  'kernel',
  'initrd',
  'append',
  'shares',
  'forwards',
  'tpm',
  'secureBoot',
] as const satisfies readonly (keyof VmEdit)[];
export type VmEditField = (typeof VM_EDIT_FIELDS)[number];
type MissingEditFields = Exclude<keyof VmEdit, VmEditField>;
const _allEditFieldsListed: MissingEditFields extends never ? true : never = true;
void _allEditFieldsListed;

/** What a front end may ask checkHostPath about: a file the VM boots or reads, or a shared folder. */
export const HOST_PATH_KINDS = ['iso', 'disk', 'kernel', 'initrd', 'folder'] as const;
export type HostPathKind = (typeof HOST_PATH_KINDS)[number];

export interface SnapshotSummary {
  name: string;
  /** ISO 8601 */
  date: string;
  /** bytes of saved RAM; 0 for a disk-only snapshot taken while the VM was stopped */
  vmStateBytes: number;
}

/** How far a long operation (a disk copy, a full clone) has got; pushed while it runs. */
export interface OperationProgress {
  opId: string;
  /** 0..100 */
  percent: number;
}

/**
 * An expected failure as data. `code` is one of common/errors.ts's KJU_ERROR_CODES, whichever side
 * made it (the backend, kju serve, Electron's main process, utility or preload, the page's bridge);
 * `message` says what went wrong, `hint` (when there is one) what to do next; `field` names the
 * editVm change it is about, when it is about one (the dialog shows it there).
 */
export type Failure = { ok: false; code: KjuErrorCode; message: string; hint?: string; field?: VmEditField };
export type Result<T> = { ok: true; value: T } | Failure;

/**
 * Requests from a front end to the backend (Electron main via preload, or `kju serve` via
 * WebSocket). Keys are method names; `args` and `value` are what crosses the boundary.
 */
export interface BackendApi {
  listVms: { args: Record<string, never>; value: VmSummary[] };
  startVm: { args: { id: string }; value: VmSummary };
  stopVm: { args: { id: string; force?: boolean }; value: VmSummary };
  presets: { args: Record<string, never>; value: PresetInfo[] };
  /** the OS catalogue (osinfo-db), filtered by `text` (id, alias or name contains it) */
  osCatalogue: { args: { text?: string }; value: OsCatalogue };
  hostLimits: { args: Record<string, never>; value: HostLimits };
  /** whether a front end may use this host path as `kind` (the checks createVm/editVm/setCdrom apply); its real path */
  checkHostPath: { args: { path: string; kind: HostPathKind }; value: { path: string } };
  createVm: { args: CreateVmArgs; value: VmSummary };
  /** refused (code 'in-use') while the VM runs or is suspended */
  editVm: { args: { id: string; changes: VmEdit }; value: VmSummary };
  cloneVm: { args: { id: string; name: string; linked?: boolean; opId?: string }; value: VmSummary };
  /** to the library's .Trash/ unless `permanent` */
  deleteVm: { args: { id: string; permanent?: boolean }; value: { trashedTo?: string } };
  pauseVm: { args: { id: string }; value: VmSummary };
  /** continues a paused VM, or restores a suspended one */
  resumeVm: { args: { id: string }; value: VmSummary };
  resetVm: { args: { id: string }; value: VmSummary };
  /** presses the ACPI power button and returns at once; the guest decides whether to shut down */
  powerButton: { args: { id: string }; value: VmSummary };
  /** saves the whole VM to its bundle and stops QEMU; resumeVm restores it */
  suspendVm: { args: { id: string }; value: VmSummary };
  listSnapshots: { args: { id: string }; value: SnapshotSummary[] };
  /** live (with RAM) while running, disk-only while stopped */
  snapshot: { args: { id: string; op: 'create' | 'revert' | 'delete'; name: string }; value: { live: boolean } };
  /** puts an ISO in the CD-ROM drive (`path`), or ejects it (null); works while running too */
  setCdrom: { args: { id: string; path: string | null }; value: VmSummary };
  /** what kju needs from the host, line by line (`kju doctor`); may run the accelerator check once */
  diagnostics: { args: Record<string, never>; value: Diagnostic[] };
  /** a running VM's port forwards, live (QEMU's hostfwd); add/remove answer with the forwards after */
  listForwards: { args: { id: string }; value: VmForward[] };
  /** code 'port-in-use' naming the port when something on the host holds it */
  addForward: { args: { id: string; forward: VmForward }; value: VmForward[] };
  removeForward: { args: { id: string; forward: Pick<VmForward, 'proto' | 'hostAddr' | 'hostPort'> }; value: VmForward[] };
  /** the USB devices of the host the backend runs on */
  listHostUsb: { args: Record<string, never>; value: HostUsbDevice[] };
  /** the host devices (bus-port names) a running VM has */
  attachedUsb: { args: { id: string }; value: string[] };
  /** `device` is vendor:product (hex) or bus-port; code 'usb-permission' says which permission is missing */
  attachUsb: { args: { id: string; device: string }; value: string[] };
  /** a device already gone is not an error (`removed: false`) */
  detachUsb: { args: { id: string; device: string }; value: { removed: boolean; attached: string[] } };
  /**
   * A small PNG of the VM's screen for the library: live while this kju shows the running VM (a new
   * one at most once a second), else the screen it showed when it last stopped or suspended; null
   * when there is none. Ask only while the library is visible.
   */
  thumbnail: { args: { id: string }; value: VmThumbnail | null };
}

export interface VmThumbnail {
  /** PNG bytes, base64 */
  png: string;
  /** true: the running VM's screen now; false: the last screen saved at stop or suspend */
  live: boolean;
}

export type BackendMethod = keyof BackendApi;
export type BackendArgs<M extends BackendMethod> = BackendApi[M]['args'];
export type BackendValue<M extends BackendMethod> = BackendApi[M]['value'];

/** Runtime list tied to BackendApi so the preload and serve can allow-list channel names. */
export const BACKEND_METHODS = [
  'listVms',
  'startVm',
  'stopVm',
  'presets',
  'hostLimits',
  'createVm',
  'editVm',
  'cloneVm',
  'deleteVm',
  'pauseVm',
  'resumeVm',
  'resetVm',
  'powerButton',
  'suspendVm',
  'listSnapshots',
  'snapshot',
  'setCdrom',
  'diagnostics',
  'listForwards',
  'addForward',
  'removeForward',
  'listHostUsb',
  'attachedUsb',
  'attachUsb',
  'detachUsb',
  'thumbnail',
  'osCatalogue',
  'checkHostPath',
] as const satisfies readonly BackendMethod[];
type MissingMethods = Exclude<BackendMethod, (typeof BACKEND_METHODS)[number]>;
const _allMethodsListed: MissingMethods extends never ? true : never = true;
void _allMethodsListed;

/** Input from the viewer to the guest. Keys are QEMU key numbers (XT set 1, E0 xx as 0x80|xx). */
export type InputMessage =
  | { t: 'key'; down: boolean; qnum: number }
  | { t: 'abs'; x: number; y: number }
  | { t: 'rel'; dx: number; dy: number }
  | { t: 'button'; down: boolean; button: MouseButton }
  | { t: 'releaseAll' }
  | { t: 'uiInfo'; width: number; height: number };

/** QEMU D-Bus Mouse button numbers. */
export const MouseButtons = {
  left: 0,
  middle: 1,
  right: 2,
  wheelUp: 3,
  wheelDown: 4,
  side: 5,
  extra: 6,
  wheelLeft: 7,
  wheelRight: 8,
} as const;
export type MouseButton = (typeof MouseButtons)[keyof typeof MouseButtons];

/** Everything about a display except the pixels (those travel as FramePackets). */
export type DisplayMessage =
  | { t: 'surface'; surface: SurfaceInfo }
  | { t: 'cursor'; cursor: CursorShape }
  | { t: 'mouse'; x: number; y: number; visible: boolean }
  | { t: 'input-mode'; absolute: boolean; modifiers: number }
  | { t: 'disabled' }
  | { t: 'closed'; reason: string }
  /** the guest copied `text` (sent only to a viewer that turned clipboard sharing on) */
  | { t: 'clipboard'; text: string }
  /** whether this VM shares its clipboard (`available`) and this viewer receives it (`shared`); `notice` says what was refused */
  | { t: 'clipboard-state'; available: boolean; shared: boolean; notice?: string };

/**
 * Viewer → sender on a display stream (the display utility or kju serve): input, the pull that asks for the next frame batch, and
 * refresh (the viewer lost its pixels, e.g. its GL context: the next frame is the whole surface).
 */
export type ViewerMessage =
  | { t: 'pull' }
  | { t: 'input'; input: InputMessage }
  | { t: 'refresh' }
  /** the host's clipboard text for the guest (at most CLIPBOARD_MAX_BYTES of UTF-8; more is refused with a clipboard-state notice) */
  | { t: 'clipboard'; text: string }
  /** the viewer turns clipboard sharing on or off; off until it does (a remote page must not read the guest's clipboard unasked, nor write it) */
  | { t: 'clipboard-share'; on: boolean };

/** Largest clipboard text, in UTF-8 bytes, kju moves either way. */
export const CLIPBOARD_MAX_BYTES = 1024 * 1024;

/**
 * One open display of one VM console, as the renderer sees it. Implemented over a MessagePort
 * (Electron) and over a WebSocket (kju serve). Flow control is pull-based: the viewer calls pull()
 * after it has uploaded the previous batch; the sender keeps at most one batch in flight and merges
 * damage meanwhile.
 */
export interface DisplayStream {
  /** called on the renderer's event loop, in order */
  onMessage(cb: (m: DisplayMessage) => void): void;
  /** a FramePacket (common/frame-packet.ts); the buffer is the callback's to keep */
  onFrame(cb: (packet: ArrayBuffer) => void): void;
  pull(): void;
  sendInput(input: InputMessage): void;
  close(): void;
  /**
   * Optional. In 'map' mode, when this renderer can see the surface memory itself (Electron
   * zero-copy: a SharedArrayBuffer the preload mapped the memfd into), a view of the whole surface
   * with the id given; FramePackets then carry rects only and the viewer uploads from this view.
   */
  surfacePixels?(surfaceId: number): Uint8Array | undefined;
  /** Asks the sender to send the whole surface with the next frame (the viewer lost its GL context). */
  refresh(): void;
  /** Optional: clipboard sharing on/off and the host's text for the guest (streams without it share no clipboard). */
  sendClipboard?(m: Extract<ViewerMessage, { t: 'clipboard' | 'clipboard-share' }>): void;
}

/** The host's clipboard as a VM window uses it: navigator.clipboard in the browser, Electron main's through the preload. */
export interface TextClipboard {
  readText(): Promise<string>;
  writeText(text: string): Promise<void>;
}

/** Everything about a VM's sound except the samples (those travel as AudioPackets, common/audio-packet.ts). */
export type AudioMessage =
  /** a playback stream opened: its rate and channel count */
  | { t: 'format'; rate: number; channels: number }
  /** the guest's own mixer: mute, and volume 0..1 (the loudest channel) */
  | { t: 'guest-volume'; mute: boolean; volume: number }
  /** the VM has no sound card, or the sound stream ended */
  | { t: 'closed'; reason: string };

/**
 * The guest's sound, as the renderer sees it (kju serve: a WebSocket; Electron: a MessagePort from the display utility). Push-based: QEMU's audio
 * clock sets the pace; the receiver's jitter buffer absorbs the network and drops what is late.
 */
export interface AudioStream {
  /** called on the renderer's event loop, in order */
  onMessage(cb: (m: AudioMessage) => void): void;
  /** an AudioPacket; the buffer is the callback's to keep */
  onPcm(cb: (packet: ArrayBuffer) => void): void;
  close(): void;
}

/** The renderer's whole view of the outside world: the preload and the serve client implement it. */
export interface KjuBridge {
  readonly kind: 'electron' | 'browser';
  call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>>;
  openDisplay(vmId: string, console?: number): Promise<Result<DisplayStream>>;
  /** returns an unsubscribe function */
  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void;
  /**
   * Optional: progress of long operations started with an `opId` (createVm copying a disk,
   * cloneVm). Returns an unsubscribe function. Without it, callers just wait for the reply.
   */
  onProgress?(cb: (p: OperationProgress) => void): () => void;
  /** Optional: the guest's sound (both front ends have it; test bridges may not). */
  openAudio?(vmId: string): Promise<Result<AudioStream>>;
  /** Optional: the host's clipboard for VM windows (Electron: main's `clipboard`); without it the page's navigator.clipboard is used. */
  clipboard?: TextClipboard;
}

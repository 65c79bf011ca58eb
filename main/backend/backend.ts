// The backend: what a front end calls (the Electron window through its preload and IPC, the browser
// page through `kju serve`'s WebSocket): the contract's backend methods, a VM's displays, VM list
// changes and progress, plus the few things only the desktop app does (hand a running VM's display
// to a utility process, suspend or shut down everything on quit, map a `.kju` bundle to its VM).
// Implemented over the library and the sessions by ./local-backend.ts, and by small objects in
// tests and benches. Every method runs on the Node event loop of the process that holds it.
import type { BackendArgs, BackendMethod, BackendValue, OperationProgress, Result, VmSummary } from '../../common/contract.js';
import type { AudioOut } from '../display/audio-out.js';
import type { DisplaySource } from '../display/display-source.js';
import type { GuestClipboard } from '../display/guest-clipboard.js';

/** What a display utility needs to attach to a running QEMU itself (its QMP and D-Bus display). */
export interface DisplayTarget {
  vmId: string;
  name: string;
  /** the VM's 0700 runtime dir with qmp.sock (and kju.sock, which the utility will serve) */
  runtimeDir: string;
  /** QEMU's pid, polled by the utility to notice its exit */
  pid: number;
  /** the VM's config shares its clipboard (the utility registers it with QEMU for its viewers) */
  clipboard: boolean;
}

export interface Backend {
  /** Runs one contract method. Expected failures come back as `{ok:false}`; a throw is reported as code 'internal'. */
  call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>>;
  /**
   * Opens console `console` of VM `vmId`. The caller owns the returned source and calls its
   * close() when it is done; serve opens one per (vmId, console) and shares it among its viewers.
   */
  openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>>;
  /** Optional: the guest's sound out of VM `vmId` (a new out-listener the caller owns and closes). */
  openAudio?(vmId: string): Promise<Result<AudioOut>>;
  /** Optional: the VM's clipboard (one per VM, shared by its viewers) when its config shares it; null when it does not. */
  sharedClipboard?(vmId: string): Promise<Result<GuestClipboard | null>>;
  /** `cb` runs with the full list after any change; returns an unsubscribe function. */
  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void;
  /** Optional: progress of long calls that carried an opId (createVm, cloneVm); returns an unsubscribe function. */
  onProgress?(cb: (p: OperationProgress) => void): () => void;
  /**
   * Desktop app: hands over the running VM `vmId` to a display utility. QEMU accepts one QMP client
   * at a time and one D-Bus display control connection (a second add_client closes the first), so
   * on success the backend must have let go of both for this VM until `reclaimDisplay(vmId)`; it
   * reaches the VM through kju.sock (served by the utility) meanwhile. `{ok:false, code:'not-running'}` when stopped.
   */
  releaseDisplay(vmId: string): Promise<Result<DisplayTarget>>;
  /** Desktop app: the utility for `vmId` is gone for good (window closed for long, or retries exhausted). */
  reclaimDisplay(vmId: string): Promise<void>;
  /** Desktop app, on quit: saves the VM's state to its bundle and stops QEMU, so the next start resumes it. */
  suspendVm(vmId: string): Promise<Result<VmSummary>>;
  /** Desktop app, on quit: ACPI shutdown, then after `timeoutMs` a hard stop. */
  shutdownVm(vmId: string, timeoutMs: number): Promise<Result<VmSummary>>;
  /** Desktop app: the id of the VM in the `.kju` bundle at `path` (imported into the library if outside it). */
  vmIdForBundle(path: string): Promise<Result<string>>;
}

/** The part of the Backend that `kju serve` uses; what its tests and benches implement. */
export type ServeBackend = Pick<Backend, 'call' | 'openDisplay' | 'openAudio' | 'sharedClipboard' | 'onVmsChanged' | 'onProgress'>;

/**
 * Stands in when the local backend cannot be opened: lists nothing and refuses everything with a
 * message that says why, so the shell can be launched and its windows inspected.
 */
export function unavailableBackend(why: string): Backend {
  const no = async (): Promise<{ ok: false; code: 'unavailable'; message: string }> => ({ ok: false, code: 'unavailable', message: why });
  return {
    call: (async (method) => (method === 'listVms' ? { ok: true, value: [] } : no())) as Backend['call'],
    openDisplay: no,
    onVmsChanged: () => () => {},
    releaseDisplay: no,
    reclaimDisplay: async () => {},
    suspendVm: no,
    shutdownVm: no,
    vmIdForBundle: no,
  };
}

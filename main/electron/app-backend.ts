// What the Electron shell needs from the VM backend: the host API that `kju serve` uses
// (ServeBackend, implemented over the library and sessions by main/backend/local-backend.ts), plus
// the few things only a desktop app does: hand a running VM's display to a utility process,
// suspend or shut down everything on quit, and map a `.kju` bundle path to its VM.
// All methods run on the Electron main process's Node event loop.
import type { Result, VmSummary } from '../../common/contract.js';
import type { ServeBackend } from '../backend/backend.js';

/** What a display utility needs to attach to a running QEMU itself (its QMP and D-Bus display). */
export interface DisplayTarget {
  vmId: string;
  name: string;
  /** the VM's 0700 runtime dir with qmp.sock (and kju.sock, which the utility will serve) */
  runtimeDir: string;
  /** QEMU's pid, polled by the utility to notice its exit */
  pid: number;
}

export interface AppBackend extends ServeBackend {
  /**
   * Hands over the running VM `vmId` to a display utility. QEMU accepts one QMP client at a time and
   * one D-Bus display control connection (a second add_client closes the first), so on success the
   * backend must have let go of both for this VM until `reclaimDisplay(vmId)`; it reaches the VM
   * through kju.sock (served by the utility) meanwhile. `{ok:false, code:'not-running'}` when stopped.
   */
  releaseDisplay(vmId: string): Promise<Result<DisplayTarget>>;
  /** The utility for `vmId` is gone for good (window closed for long, or retries exhausted). */
  reclaimDisplay(vmId: string): Promise<void>;
  /** Saves the VM's state to its bundle and stops QEMU, so the next start resumes it. */
  suspendVm(vmId: string): Promise<Result<VmSummary>>;
  /** ACPI shutdown, then after `timeoutMs` a hard stop. */
  shutdownVm(vmId: string, timeoutMs: number): Promise<Result<VmSummary>>;
  /** The id of the VM in the `.kju` bundle at `path` (imported into the library if outside it). */
  vmIdForBundle(path: string): Promise<Result<string>>;
}

/**
 * Stands in until main/backend/local-backend.ts exists: lists nothing and refuses everything with
 * a message that says so, so the shell can be launched and its windows inspected.
 */
export function unavailableBackend(why: string): AppBackend {
  const no = async (): Promise<{ ok: false; code: string; message: string }> => ({ ok: false, code: 'unavailable', message: why });
  return {
    call: (async (method) => (method === 'listVms' ? { ok: true, value: [] } : no())) as AppBackend['call'],
    openDisplay: no,
    onVmsChanged: () => () => {},
    releaseDisplay: no,
    reclaimDisplay: async () => {},
    suspendVm: no,
    shutdownVm: no,
    vmIdForBundle: no,
  };
}

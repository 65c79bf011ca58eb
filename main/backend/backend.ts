// What `kju serve` needs from the machine it runs on: host calls, displays, and VM list changes.
// Implemented over the real VM sessions by main/backend/local-backend.ts, and by small objects in tests.
import type { HostArgs, HostMethod, HostValue, OperationProgress, Result, VmSummary } from '../../common/contract.js';
import type { DisplaySource } from '../display/display-source.js';

export interface ServeBackend {
  /** Runs one HostApi method for a browser. Expected failures come back as `{ok:false}`; a throw is reported as code 'internal'. Node event loop. */
  call<M extends HostMethod>(method: M, args: HostArgs<M>): Promise<Result<HostValue<M>>>;
  /**
   * Opens console `console` of VM `vmId`. The caller owns the returned source and calls its
   * close() when it is done; serve opens one per (vmId, console) and shares it among its viewers.
   */
  openDisplay(vmId: string, console: number): Promise<Result<DisplaySource>>;
  /** `cb` runs on the Node event loop with the full list after any change; returns an unsubscribe function. */
  onVmsChanged(cb: (vms: VmSummary[]) => void): () => void;
  /** Optional: progress of long calls that carried an opId (createVm, cloneVm); Node loop; returns an unsubscribe function. */
  onProgress?(cb: (p: OperationProgress) => void): () => void;
}

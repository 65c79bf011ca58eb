// Messages between Electron main and a VM's display utility process (process.parentPort). Display
// data never passes through main: each 'open' carries one end of a MessageChannelMain whose other
// end main hands to the renderer, so frames go utility → renderer directly.
// Types only: imported by main/ and utility/, so nothing here may need either runtime's API.
import type { KjuErrorCode } from '../../../common/errors.js';
import type { DisplayTarget } from '../../backend/backend.js';

export type MainToUtility =
  /** attach to the VM; the utility then owns its QMP and D-Bus display connections and serves kju.sock */
  | { t: 'attach'; target: DisplayTarget }
  /** serve console `console` on the transferred port (ports[0]); zeroCopy: the viewer may map 'map' surfaces itself */
  | { t: 'open'; requestId: number; console: number; zeroCopy: boolean }
  /** relay the VM's sound on the transferred port (ports[0]): AudioMessages and AudioPackets, the same relay as kju serve's */
  | { t: 'open-audio'; requestId: number }
  /** detach (QEMU keeps running) and exit */
  | { t: 'detach' };

export type UtilityToMain =
  | { t: 'attached' }
  | { t: 'attach-failed'; message: string }
  /** sharedSurfaces: only for a zeroCopy open whose console can lend its memfds (see surface-share.ts) */
  | { t: 'opened'; requestId: number; sharedSurfaces?: { socketPath: string; token: string } }
  | { t: 'open-failed'; requestId: number; code: KjuErrorCode; message: string }
  /** QEMU exited; the utility exits right after */
  | { t: 'vm-exited'; reason: string }
  | { t: 'log'; line: string };

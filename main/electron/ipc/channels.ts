// IPC channel names and payloads between Electron main and the preload, derived from the contract
// so that neither side spells a channel by hand. Imported by main (ESM) and the preload (CJS
// bundle); no runtime imports besides the contract.
import { BACKEND_METHODS, type BackendMethod, type Result, type VmSummary } from '../../../common/contract.js';

export const APP_ORIGIN = 'app://kju';

export type BackendChannel = `kju:${BackendMethod}`;
export const backendChannel = <M extends BackendMethod>(method: M): `kju:${M}` => `kju:${method}`;
/** Every invoke channel the preload may use for backend calls: exactly BACKEND_METHODS. */
export const BACKEND_CHANNELS: ReadonlySet<string> = new Set(BACKEND_METHODS.map(backendChannel));

/** renderer → main (invoke): asks for a display port; answered by Result<OpenDisplayReply>, the port follows on DISPLAY_PORT */
export const OPEN_DISPLAY = 'kju:open-display';
/** main → renderer (webContents.postMessage with one transferred port) */
export const DISPLAY_PORT = 'kju:display-port';
/** renderer → main (invoke): asks for the VM's sound; answered by Result<OpenDisplayReply>, the port follows on AUDIO_PORT */
export const OPEN_AUDIO = 'kju:open-audio';
/** main → renderer (webContents.postMessage with one transferred port): AudioMessages and AudioPackets */
export const AUDIO_PORT = 'kju:audio-port';
/** renderer → main (invoke), VM windows only: the host clipboard's text; answered by Result<string> */
export const CLIPBOARD_READ = 'kju:clipboard-read';
/** renderer → main (invoke), VM windows only: the guest's text for the host clipboard (a string); answered by Result<null> */
export const CLIPBOARD_WRITE = 'kju:clipboard-write';
/** main → renderer: the display utility of a VM died; every stream of that VM ends with this reason */
export const DISPLAY_LOST = 'kju:display-lost';
/** main → renderer: the VM list changed */
export const VMS_CHANGED = 'kju:vms-changed';
/** main → renderer: OperationProgress of a createVm/cloneVm that carried an opId */
export const OP_PROGRESS = 'kju:op-progress';

export interface OpenDisplayArgs {
  vmId: string;
  console: number;
}

/** Zero-copy: where the preload fetches the surface memfds (a private unix socket in the VM's runtime dir). */
export interface SharedSurfaceOffer {
  socketPath: string;
  /** this stream's ticket (64 hex digits), the first line the preload sends */
  token: string;
}

export interface OpenDisplayReply {
  /** matches the `requestId` of the DISPLAY_PORT message that carries the port */
  requestId: number;
}

export interface DisplayPortMessage {
  requestId: number;
  vmId: string;
  console: number;
  /** present when this stream sends rects without pixels for 'map' surfaces */
  sharedSurfaces?: SharedSurfaceOffer;
}

export interface OpenAudioArgs {
  vmId: string;
  requestId: number;
}

export interface AudioPortMessage {
  requestId: number;
  vmId: string;
}

export type ClipboardReadResult = Result<string>;
export type ClipboardWriteResult = Result<null>;

export interface DisplayLostMessage {
  vmId: string;
  reason: string;
}

export type VmsChangedMessage = VmSummary[];

export type OpenDisplayResult = Result<OpenDisplayReply>;

// The preload of every kju window (bundled to app/out/preload.cjs, CJS). It runs sandboxed except
// in a zero-copy VM window (see shared-surfaces.ts), always with contextIsolation. It exposes one
// object, `window.kju`, implementing KjuBridge: backend calls only on the channels derived from
// BACKEND_METHODS (raw ipcRenderer is never exposed), display streams over a MessagePort that the
// preload keeps, the VM's sound over another such port (the same relay as kju serve's), the host
// clipboard through main (CLIPBOARD_READ/WRITE; main's host-clipboard.ts decides who may), and VM list updates.
//
// Copies on the pixel path (Electron): (1) the utility packs damaged rows into a FramePacket;
// (2) MessagePortMain.postMessage can transfer only ports, so the packet is serialised into the
// message to the renderer; (3) the renderer deserialises it into a new ArrayBuffer here; (4)
// contextBridge copies it again into the page's world for onFrame. (4) could go by handing the
// port itself to the page with window.postMessage (the pattern Electron documents for the main
// world of an isolated page) at the cost of the page talking to the utility unchecked by us.
// Runs on the renderer's main thread, in the isolated world, before the page's scripts.
import { contextBridge, ipcRenderer } from 'electron';
import type { AudioStream, BackendArgs, BackendMethod, BackendValue, KjuBridge, OperationProgress, Result, TextClipboard, VmSummary } from '../../../common/contract.js';
import {
  APP_ORIGIN,
  AUDIO_PORT,
  CLIPBOARD_READ,
  CLIPBOARD_WRITE,
  OPEN_AUDIO,
  type AudioPortMessage,
  type ClipboardReadResult,
  type ClipboardWriteResult,
  type OpenAudioArgs,
  DISPLAY_LOST,
  DISPLAY_PORT,
  BACKEND_CHANNELS,
  OPEN_DISPLAY,
  OP_PROGRESS,
  VMS_CHANGED,
  backendChannel,
  type DisplayLostMessage,
  type DisplayPortMessage,
  type OpenDisplayArgs,
  type OpenDisplayResult,
  type SharedSurfaceOffer,
} from '../ipc/channels.js';
import { PortDisplayStream, type PortLike } from './port-display-stream.js';
import { PortAudioStream } from './port-audio-stream.js';

type PendingOpen = { port?: MessagePort; message?: DisplayPortMessage; resolve?: (p: { port: MessagePort; message: DisplayPortMessage }) => void };

const pendingOpens = new Map<number, PendingOpen>();
const streams = new Map<string, Set<PortDisplayStream>>();
let nextRequestId = 1;

ipcRenderer.on(DISPLAY_PORT, (event, message: DisplayPortMessage) => {
  const port = event.ports[0];
  const p = pendingOpens.get(message?.requestId);
  if (!port) return;
  if (!p) return port.close(); // nobody asked (or the request was given up)
  if (p.resolve) p.resolve({ port, message });
  else Object.assign(p, { port, message });
});

ipcRenderer.on(DISPLAY_LOST, (_event, m: DisplayLostMessage) => {
  for (const s of streams.get(m.vmId) ?? []) s.end(m.reason);
  for (const s of audioStreams.get(m.vmId) ?? []) s.end(m.reason);
});

const pendingAudio = new Map<number, { port?: MessagePort; resolve?: (p: MessagePort) => void }>();
const audioStreams = new Map<string, Set<PortAudioStream>>();

ipcRenderer.on(AUDIO_PORT, (event, message: AudioPortMessage) => {
  const port = event.ports[0];
  const p = pendingAudio.get(message?.requestId);
  if (!port) return;
  if (!p) return port.close();
  if (p.resolve) p.resolve(port);
  else p.port = port;
});

async function openAudio(vmId: string): Promise<Result<AudioStream>> {
  if (typeof vmId !== 'string') return { ok: false, code: 'bad-args', message: 'openAudio(vmId: string)' };
  const requestId = nextRequestId++;
  const pending: { port?: MessagePort; resolve?: (p: MessagePort) => void } = {};
  pendingAudio.set(requestId, pending);
  try {
    const r = (await ipcRenderer.invoke(OPEN_AUDIO, { vmId, requestId } satisfies OpenAudioArgs)) as OpenDisplayResult;
    if (!r.ok) return r;
    const port = pending.port ?? (await new Promise<MessagePort>((resolve) => (pending.resolve = resolve)));
    let set = audioStreams.get(vmId);
    if (!set) audioStreams.set(vmId, (set = new Set()));
    const stream = new PortAudioStream(adaptPort(port), () => set.delete(stream));
    set.add(stream);
    return { ok: true, value: stream.toBridgeObject() };
  } finally {
    pendingAudio.delete(requestId);
  }
}

/** Main's clipboard: a refusal (not a VM window, not focused, too large) rejects with main's sentence. */
const hostClipboard: TextClipboard = {
  async readText() {
    const r = (await ipcRenderer.invoke(CLIPBOARD_READ)) as ClipboardReadResult;
    if (!r.ok) throw new Error(r.message);
    return r.value;
  },
  async writeText(text: string) {
    const r = (await ipcRenderer.invoke(CLIPBOARD_WRITE, String(text))) as ClipboardWriteResult;
    if (!r.ok) throw new Error(r.message);
  },
};

function portFor(requestId: number): Promise<{ port: MessagePort; message: DisplayPortMessage }> {
  const p = pendingOpens.get(requestId)!;
  if (p.port && p.message) return Promise.resolve({ port: p.port, message: p.message });
  return new Promise((resolve) => (p.resolve = resolve));
}

async function openDisplay(vmId: string, console = 0): Promise<Result<ReturnType<PortDisplayStream['toBridgeObject']>>> {
  if (typeof vmId !== 'string' || !Number.isInteger(console) || console < 0) return { ok: false, code: 'bad-args', message: 'openDisplay(vmId: string, console?: non-negative integer)' };
  const requestId = nextRequestId++;
  pendingOpens.set(requestId, {});
  try {
    const r = (await ipcRenderer.invoke(OPEN_DISPLAY, { vmId, console, requestId } satisfies OpenDisplayArgs & { requestId: number })) as OpenDisplayResult;
    if (!r.ok) return r;
    // main posts the port before it answers; the port message may still arrive after the answer
    const { port, message } = await portFor(requestId);
    let set = streams.get(vmId);
    if (!set) streams.set(vmId, (set = new Set()));
    const stream = new PortDisplayStream(adaptPort(port), () => {
      set.delete(stream);
      sharedClient?.close();
    });
    set.add(stream);
    let sharedClient: { close(): void } | null = null;
    if (message.sharedSurfaces) {
      stream.sharedSurfaceKey = `${vmId}/${console}/${requestId}`;
      // a failure leaves the pixel path in use: frames of unacknowledged surfaces carry pixels
      sharedClient = await startSharedSurfaces(message.sharedSurfaces, stream, (why) => globalThis.console.warn(`kju: ${why}; using the pixel path`));
    }
    return { ok: true, value: stream.toBridgeObject() };
  } finally {
    pendingOpens.delete(requestId);
  }
}

function adaptPort(port: MessagePort): PortLike {
  const adapter: PortLike = { onmessage: null, postMessage: (m) => port.postMessage(m), close: () => port.close() };
  port.onmessage = (e) => adapter.onmessage?.({ data: e.data }); // also starts the port
  return adapter;
}

/** Zero-copy only: loads the addon lazily (impossible in a sandboxed preload, see shared-surfaces.ts). */
async function startSharedSurfaces(offer: SharedSurfaceOffer, stream: PortDisplayStream, warn: (why: string) => void): Promise<{ close(): void } | null> {
  if (process.sandboxed) {
    warn('zero-copy display needs an unsandboxed preload; this window is sandboxed');
    return null;
  }
  const shared = await import('./shared-surfaces.js');
  try {
    return shared.startSharedSurfaces(
      offer,
      stream.sharedSurfaceKey!,
      (m) => window.postMessage(m, APP_ORIGIN),
      (s) => stream.setSharedSurface(s.id, s.view),
      (message) => warn(`zero-copy display failed: ${message}`),
    );
  } catch (err) {
    warn(`zero-copy display failed: ${(err as Error).message}`);
    return null;
  }
}

function call<M extends BackendMethod>(method: M, args: BackendArgs<M>): Promise<Result<BackendValue<M>>> {
  const channel = backendChannel(method);
  if (!BACKEND_CHANNELS.has(channel)) return Promise.resolve({ ok: false, code: 'unknown-method', message: `kju has no method '${String(method).slice(0, 64)}'` });
  return ipcRenderer.invoke(channel, args) as Promise<Result<BackendValue<M>>>;
}

function onVmsChanged(cb: (vms: VmSummary[]) => void): () => void {
  const listener = (_e: unknown, vms: VmSummary[]) => cb(vms);
  ipcRenderer.on(VMS_CHANGED, listener);
  return () => void ipcRenderer.off(VMS_CHANGED, listener);
}

function onProgress(cb: (p: OperationProgress) => void): () => void {
  const listener = (_e: unknown, p: OperationProgress) => cb({ opId: String(p?.opId), percent: Number(p?.percent) });
  ipcRenderer.on(OP_PROGRESS, listener);
  return () => void ipcRenderer.off(OP_PROGRESS, listener);
}

const bridge: KjuBridge = {
  kind: 'electron',
  call,
  openDisplay: openDisplay as KjuBridge['openDisplay'],
  onVmsChanged,
  onProgress,
  openAudio,
  clipboard: hostClipboard,
};

contextBridge.exposeInMainWorld('kju', bridge);

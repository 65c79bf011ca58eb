// Entry of one VM's display utility process (utilityProcess.fork, one per running VM with a window).
// It attaches to the VM (QMP + the one D-Bus display connection) and owns it: it serves kju.sock
// (the owner socket) for the CLI, and display streams on MessagePorts that main transfers in: per
// port a ViewerEndpoint, the same one kju serve uses (surface, cursor, input-mode, then one FramePacket per pull, merged damage
// between pulls; input; clipboard sharing once the viewer asks, with the VM's one clipboard from the session) behind the same strict checks;
// and sound on its own port, relayed by the endpoint's relaySound as for kju serve. With zeroCopy, a surface-share server per console
// (private socket in the VM's runtime dir, one token per stream) lends 'map' surfaces' memfds to the VM window's preload, and that
// stream's frames carry rects only once the preload has acknowledged the surface. The listener
// worker that QEMU calls synchronously lives in this process, never in main, so a stall or a crash here (SIGBUS on a shrunk memfd included) cannot take the app down.
// Everything runs on this process's Node event loop.
import { join } from 'node:path';
import process from 'node:process';
import type { MessagePortMain } from 'electron';
import type { ViewerMessage } from '../../../common/contract.js';
import { kjuErrorCodeOf } from '../../../common/errors.js';
import type { DisplaySource } from '../../display/display-source.js';
import { relaySound, ViewerEndpoint } from '../../display/viewer-endpoint.js';
import { isShareable, SurfaceShareServer, type ShareTicket } from '../../display/surface-share.js';
import { checkViewerMessage } from '../../backend/arg-checks.js';
import { VmSession } from '../../session/vm-session.js';
import type { QemuExit } from '../../qemu/launch.js';
import { watchPidExit } from '../../qemu/pid-alive.js';
import { runtimeDirAt } from '../../qemu/runtime-dir.js';
import type { DisplayTarget } from '../../backend/backend.js';
import type { MainToUtility, UtilityToMain } from '../ipc/utility-protocol.js';

const parentPort = process.parentPort;
if (!parentPort) {
  console.error('kju display-utility: not started by utilityProcess.fork (no parentPort); exiting');
  process.exit(2);
}

const PID_POLL_MS = 1000;
let session: VmSession | null = null;
let runtimeDir: string | null = null;
/** the VM's config shares its clipboard (DisplayTarget.clipboard) */
let sharesClipboard = false;
/** zero-copy: one surface-share server per console, created on the first zeroCopy open */
const shareServers = new Map<number, SurfaceShareServer>();
const displays = new Map<number, Promise<DisplaySource>>();
const endpoints = new Set<ViewerEndpoint>();
/** open sound relays, each ended by its function */
const audios = new Set<() => void>();

function send(m: UtilityToMain): void {
  parentPort.postMessage(m);
}

function log(line: string): void {
  send({ t: 'log', line });
}

/** QEMU is not our child here: notice its exit by polling its pid. */
function pidExited(pid: number): Promise<QemuExit> {
  return watchPidExit(pid, PID_POLL_MS).gone.then(() => ({ code: null, signal: null, logTail: [] }));
}

async function attach(target: DisplayTarget): Promise<void> {
  if (session) return send({ t: 'attached' });
  runtimeDir = target.runtimeDir;
  sharesClipboard = target.clipboard;
  try {
    session = await VmSession.attach({ name: target.name, runtimeDir: runtimeDirAt(target.runtimeDir), pid: target.pid, exited: pidExited(target.pid) });
  } catch (err) {
    return send({ t: 'attach-failed', message: (err as Error).message });
  }
  session.once('exit', (_info, reason) => {
    for (const p of endpoints) p.dispose();
    send({ t: 'vm-exited', reason });
    setTimeout(() => process.exit(0), 100);
  });
  session.serveOwnerSocket().catch((err: Error) => log(`kju.sock for '${target.name}' not served: ${err.message}`));
  send({ t: 'attached' });
}

/** One DisplaySource per console, shared by every stream of this VM. */
function displayFor(s: VmSession, console: number): Promise<DisplaySource> {
  let d = displays.get(console);
  if (!d) {
    d =
      console === 0
        ? s.primaryDisplay()
        : s.display.graphicConsoles().then((ids) => {
            if (console >= ids.length) throw new Error(`the VM has ${ids.length} graphic console(s); there is no console ${console}`);
            return s.display.openDisplay(ids[console]);
          });
    displays.set(console, d);
    d.then(
      (src) => src.once('closed', () => displays.delete(console)),
      () => displays.delete(console),
    );
  }
  return d;
}

/** A ticket on the console's share server (made on first use), or null when the source cannot lend fds. */
function shareTicket(console: number, source: DisplaySource): ShareTicket | null {
  if (!isShareable(source) || !runtimeDir) return null;
  let server = shareServers.get(console);
  if (!server || server.isClosed) {
    try {
      server = SurfaceShareServer.listen(source, join(runtimeDir, `display-share-${console}.sock`), { log });
    } catch (err) {
      log(`zero-copy display not offered: ${(err as Error).message}`);
      return null;
    }
    shareServers.set(console, server);
    source.once('closed', () => shareServers.delete(console));
  }
  return server.admit();
}

async function open(requestId: number, console: number, port: MessagePortMain | undefined, zeroCopy = false): Promise<void> {
  if (!port) return send({ t: 'open-failed', requestId, code: 'internal', message: 'open without a port' });
  if (!session) {
    port.close();
    return send({ t: 'open-failed', requestId, code: 'display-utility-failed', message: 'the display utility is not attached to the VM' });
  }
  let source: DisplaySource;
  try {
    source = await displayFor(session, console);
  } catch (err) {
    port.close();
    return send({ t: 'open-failed', requestId, code: kjuErrorCodeOf(err, 'display-unavailable'), message: (err as Error).message });
  }
  const clipboard = sharesClipboard ? await session.sharedClipboard(log) : undefined;
  const ticket = zeroCopy ? shareTicket(console, source) : null;
  // MessagePortMain.postMessage can only transfer ports: each FramePacket is copied once here (serialised into the message).
  // Zero-copy: a surface the viewer's preload has mapped and acknowledged goes as rects only.
  const endpoint = new ViewerEndpoint(
    source,
    { message: (m) => port.postMessage(m), frame: (p) => port.postMessage(p), log: (line) => log(`display viewer: ${line}`) },
    { withPixels: ticket ? (s) => !(s.transport === 'map' && ticket.holds(s.id)) : undefined, clipboard },
  );
  // The preload's client went away: its page may hold no pixels for what was sent rect-only.
  ticket?.on('lost', () => endpoint.refresh());
  endpoints.add(endpoint);
  const done = () => {
    endpoint.dispose();
    endpoints.delete(endpoint);
    ticket?.revoke();
  };
  port.on('message', (e) => {
    // The same strict checks as kju serve, on the structured-clone value as it arrived; the same endpoint acts on it.
    const why = endpoint.receive(checkViewerMessage(e.data as ViewerMessage, source.surface));
    if (!why) return;
    log(`display viewer closed: ${why}`);
    port.postMessage({ t: 'closed', reason: 'the viewer sent a malformed message' });
    done();
    port.close();
  });
  port.on('close', done);
  port.start();
  endpoint.start();
  const server = shareServers.get(console);
  send({ t: 'opened', requestId, ...(ticket && server ? { sharedSurfaces: { socketPath: server.path, token: ticket.token } } : {}) });
}

/** The VM's sound on `port` (one out-listener per port, closed with it). The port carries no viewer messages. */
async function openAudio(requestId: number, port: MessagePortMain | undefined): Promise<void> {
  if (!port) return send({ t: 'open-failed', requestId, code: 'internal', message: 'open-audio without a port' });
  if (!session) {
    port.close();
    return send({ t: 'open-failed', requestId, code: 'display-utility-failed', message: 'the display utility is not attached to the VM' });
  }
  let audio: Awaited<ReturnType<VmSession['openAudio']>>;
  try {
    audio = await session.openAudio();
  } catch (err) {
    port.close();
    return send({ t: 'open-failed', requestId, code: kjuErrorCodeOf(err, 'no-sound'), message: (err as Error).message });
  }
  const end = () => {
    audios.delete(end);
    audio.close();
    port.close();
  };
  audios.add(end);
  // MessagePortMain.postMessage cannot transfer ArrayBuffers: each AudioPacket is copied into the message (about 4 KiB a packet).
  relaySound(audio, {
    message: (m) => port.postMessage(m),
    packet: (p) => port.postMessage(p),
    backlog: () => 0,
    ended: () => setTimeout(end, 100),
    log: (line) => log(`sound viewer: ${line}`),
  });
  port.on('close', end);
  port.start();
  send({ t: 'opened', requestId });
}

function detach(): void {
  for (const end of [...audios]) end();
  for (const p of endpoints) p.dispose();
  for (const s of shareServers.values()) s.close();
  session?.detach();
  process.exit(0);
}

parentPort.on('message', (e) => {
  const m = e.data as MainToUtility;
  switch (m.t) {
    case 'attach':
      return void attach(m.target);
    case 'open':
      return void open(m.requestId, m.console, e.ports[0], m.zeroCopy);
    case 'open-audio':
      return void openAudio(m.requestId, e.ports[0]);
    case 'detach':
      return detach();
  }
});

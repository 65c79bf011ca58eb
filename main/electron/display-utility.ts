// Entry of one VM's display utility process (utilityProcess.fork, one per running VM with a window).
// It attaches to the VM (QMP + the one D-Bus display connection), hosts kju.sock for the CLI, and
// serves display streams on MessagePorts that main transfers in: per port a FramePump (surface,
// cursor, input-mode, then one FramePacket per pull, merged damage between pulls) and strict input
// checks. The listener worker that QEMU calls synchronously lives in this process, never in main,
// so a stall or a crash here (SIGBUS on a shrunk memfd included) cannot take the app down.
// Everything runs on this process's Node event loop.
import process from 'node:process';
import type { MessagePortMain } from 'electron';
import type { ViewerMessage } from '../../common/contract.js';
import type { DisplaySource } from '../display/display-source.js';
import { FramePump } from '../display/frame-pump.js';
import { parseViewerMessage } from '../serve/protocol.js';
import { VmSession, type ExitInfo } from '../session/vm-session.js';
import type { DisplayTarget } from './app-backend.js';
import type { MainToUtility, UtilityToMain } from './utility-protocol.js';

const parentPort = process.parentPort;
if (!parentPort) {
  console.error('kju display-utility: not started by utilityProcess.fork (no parentPort); exiting');
  process.exit(2);
}

const PID_POLL_MS = 1000;
let session: VmSession | null = null;
const displays = new Map<number, Promise<DisplaySource>>();
const pumps = new Set<FramePump>();

function send(m: UtilityToMain): void {
  parentPort.postMessage(m);
}

function log(line: string): void {
  send({ t: 'log', line });
}

/** QEMU is not our child here: notice its exit by polling its pid. */
function pidExited(pid: number): Promise<ExitInfo> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EPERM') return;
        clearInterval(timer);
        resolve({ code: null, signal: null, logTail: [] });
      }
    }, PID_POLL_MS);
  });
}

async function attach(target: DisplayTarget): Promise<void> {
  if (session) return send({ t: 'attached' });
  try {
    session = await VmSession.attach({ name: target.name, runtimeDir: target.runtimeDir, pid: target.pid, exited: pidExited(target.pid) });
  } catch (err) {
    return send({ t: 'attach-failed', message: (err as Error).message });
  }
  session.once('exit', (_info, reason) => {
    for (const p of pumps) p.dispose();
    send({ t: 'vm-exited', reason });
    setTimeout(() => process.exit(0), 100);
  });
  session.hostControlSocket().catch((err: Error) => log(`kju.sock for '${target.name}' not served: ${err.message}`));
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

async function open(requestId: number, console: number, port: MessagePortMain | undefined): Promise<void> {
  if (!port) return send({ t: 'open-failed', requestId, code: 'internal', message: 'open without a port' });
  if (!session) {
    port.close();
    return send({ t: 'open-failed', requestId, code: 'not-attached', message: 'the display utility is not attached to the VM' });
  }
  let source: DisplaySource;
  try {
    source = await displayFor(session, console);
  } catch (err) {
    port.close();
    return send({ t: 'open-failed', requestId, code: 'no-display', message: (err as Error).message });
  }
  // MessagePortMain.postMessage can only transfer ports: each FramePacket is copied once here (serialised into the message).
  const pump = new FramePump(source, { message: (m) => port.postMessage(m), frame: (p) => port.postMessage(p) }, { modifiers: (source as { modifiers?: number }).modifiers ?? 0 });
  pumps.add(pump);
  const done = () => {
    pump.dispose();
    pumps.delete(pump);
  };
  port.on('message', (e) => {
    const m = e.data as ViewerMessage;
    if (m && typeof m === 'object' && (m as { t?: unknown }).t === 'pull' && Object.keys(m).length === 1) return pump.pull();
    // The same strict checks as kju serve; structured-clone data becomes JSON for them (input is small and infrequent).
    let text: string;
    try {
      text = JSON.stringify(m);
    } catch {
      text = '';
    }
    const p = parseViewerMessage(text ?? '', source.surface);
    if (p.kind === 'ok' && p.value.t === 'input') return pump.input(p.value.input);
    if (p.kind === 'drop') return;
    log(`display viewer closed: ${p.kind === 'fatal' ? p.why : 'unexpected message'}`);
    port.postMessage({ t: 'closed', reason: 'the viewer sent a malformed message' });
    done();
    port.close();
  });
  port.on('close', done);
  port.start();
  pump.start();
  send({ t: 'opened', requestId });
}

function detach(): void {
  for (const p of pumps) p.dispose();
  session?.detach();
  process.exit(0);
}

parentPort.on('message', (e) => {
  const m = e.data as MainToUtility;
  switch (m.t) {
    case 'attach':
      return void attach(m.target);
    case 'open':
      // zeroCopy is accepted but not offered yet: see shared-surfaces.ts for what is missing.
      return void open(m.requestId, m.console, e.ports[0]);
    case 'detach':
      return detach();
  }
});

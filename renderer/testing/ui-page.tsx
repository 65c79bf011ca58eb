// Test page for e2e/renderer-ui.test.ts: the real App with a fake bridge made here, at the page
// boundary. The test reads what the UI asked of the bridge from window.kjuUi.
import { createRoot } from 'react-dom/client';
import type { Diagnostic, DisplayMessage, DisplayStream, Failure, HostUsbDevice, InputMessage, KjuBridge, VmForward, VmSummary } from '../../common/contract.js';
import { encodeFramePacket } from '../../common/frame-packet.js';
import { App } from '../ui/App.js';
import '../ui/styles.css';

const vms: VmSummary[] = [
  { id: 'deb', name: 'Debian 12', state: 'running', displayDevice: 'virtio-vga', memoryMiB: 2048, cpus: 2 },
  { id: 'win', name: 'Windows 11', state: 'stopped', displayDevice: 'std', memoryMiB: 4096, cpus: 2, problem: 'disk image missing: win11.qcow2' },
];
const listeners = new Set<(v: VmSummary[]) => void>();
const calls: Array<{ method: string; args: unknown }> = [];
const inputs: InputMessage[] = [];
let pulls = 0;
/** false: a display opens with nothing sent; the test sends messages and paints through kjuUi.display */
let autoSurface = true;
let display: { msg: (m: DisplayMessage) => void; frame: (b: ArrayBuffer) => void } | null = null;
const diagnostics: Diagnostic[] = [
  { id: 'qemu', status: 'OK', summary: 'QEMU 10.0.2 at /usr/bin/qemu-system-x86_64' },
  { id: 'accelerator', status: 'WARN', summary: 'KVM is present but does not run guests here (nested virtualization?); using software emulation, which is slower', fix: 'none needed: kju uses TCG' },
  { id: 'uefi', status: 'FAIL', summary: 'no OVMF', fix: 'sudo apt install ovmf' },
];
// A running VM's live forwards and USB devices, as the backend would keep them; host port 22 is "in use".
const liveForwards: VmForward[] = [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: 2222, guestPort: 22 }];
const hostUsb: HostUsbDevice[] = [
  { vendorId: '046d', productId: 'c52b', bus: 1, port: '2', manufacturer: 'Logitech', product: 'USB Receiver' },
  { vendorId: '0781', productId: '5581', bus: 2, port: '1.4', product: 'Ultra' },
];
const attached: string[] = [];
const sameForward = (a: Pick<VmForward, 'proto' | 'hostAddr' | 'hostPort'>, b: Pick<VmForward, 'proto' | 'hostAddr' | 'hostPort'>) =>
  a.proto === b.proto && a.hostAddr === b.hostAddr && a.hostPort === b.hostPort;

/** The guest-link methods (issue 10), or undefined for any other method. */
function guestLinks(method: string, args: unknown): { ok: true; value: unknown } | Failure | undefined {
  const a = args as { forward?: VmForward; device?: string };
  switch (method) {
    case 'listForwards':
      return { ok: true, value: [...liveForwards] };
    case 'addForward':
      if (a.forward!.hostPort === 22) return { ok: false, code: 'port-in-use', message: 'host tcp port 22 (127.0.0.1) is in use by another program' };
      liveForwards.push(a.forward!);
      return { ok: true, value: [...liveForwards] };
    case 'removeForward':
      liveForwards.splice(
        liveForwards.findIndex((f) => sameForward(f, a.forward!)),
        1,
      );
      return { ok: true, value: [...liveForwards] };
    case 'listHostUsb':
      return { ok: true, value: hostUsb };
    case 'attachedUsb':
      return { ok: true, value: [...attached] };
    case 'attachUsb':
      attached.push(a.device!);
      return { ok: true, value: [...attached] };
    case 'detachUsb': {
      const i = attached.indexOf(a.device!);
      if (i >= 0) attached.splice(i, 1);
      return { ok: true, value: { removed: i >= 0, attached: [...attached] } };
    }
    case 'hostLimits':
      return { ok: true, value: { cpus: 8, memoryMiB: 16384 } };
  }
  return undefined;
}

const SURFACE = { id: 1, width: 64, height: 48, stride: 256, format: 0x20020888, transport: 'copy' } as const;

function paint(): void {
  display?.msg({ t: 'surface', surface: SURFACE });
  display?.msg({ t: 'input-mode', absolute: true, modifiers: 0 });
  const px = new Uint8Array(64 * 48 * 4).fill(0x80);
  display?.frame(encodeFramePacket(1, [{ x: 0, y: 0, w: 64, h: 48 }], { pixels: px, stride: 256 }));
}

const bridge: KjuBridge = {
  kind: 'browser',
  call: async (method, args) => {
    calls.push({ method, args });
    if (method === 'listVms') return { ok: true, value: vms } as never;
    if (method === 'diagnostics') return { ok: true, value: diagnostics } as never;
    const linked = guestLinks(method, args);
    if (linked) return linked as never;
    if (method === 'thumbnail') return { ok: true, value: null } as never; // no screen yet: the rows show their placeholder
    const id = (args as { id: string }).id;
    const vm = vms.find((v) => v.id === id)!;
    return { ok: true, value: { ...vm, state: method === 'startVm' ? 'starting' : 'stopped' } } as never;
  },
  onVmsChanged: (cb) => {
    listeners.add(cb);
    return () => listeners.delete(cb);
  },
  openDisplay: async () => {
    let onMsg: (m: DisplayMessage) => void = () => {};
    let onFrame: (b: ArrayBuffer) => void = () => {};
    const stream: DisplayStream = {
      onMessage: (cb) => {
        onMsg = cb;
      },
      onFrame: (cb) => {
        onFrame = cb;
      },
      pull: () => {
        pulls++;
      },
      sendInput: (i) => {
        inputs.push(i);
      },
      refresh: () => {},
      close: () => {},
    };
    display = { msg: (m) => onMsg(m), frame: (b) => onFrame(b) };
    if (autoSurface) setTimeout(paint, 0);
    return { ok: true, value: stream };
  },
};

(window as unknown as { kjuUi: unknown }).kjuUi = {
  calls,
  inputs,
  pulls: () => pulls,
  pushVms: (next: VmSummary[]) => {
    for (const cb of listeners) cb(next);
  },
  /** what listVms answers from now on, pushed too (a window that loads later sees it) */
  setVms: (next: VmSummary[]) => {
    vms.splice(0, vms.length, ...next);
    for (const cb of listeners) cb(next);
  },
  display: {
    auto: (on: boolean) => {
      autoSurface = on;
    },
    send: (m: DisplayMessage) => display?.msg(m),
    paint,
  },
};
createRoot(document.getElementById('root')!).render(<App bridge={bridge} />);

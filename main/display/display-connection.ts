// The D-Bus display control connection to one QEMU, set up over QMP without a bus daemon:
// socketpair → QMP getfd (SCM_RIGHTS) → add_client protocol=@dbus-display. QEMU keeps only one
// such connection: a second add_client closes the first (listeners survive).
import { randomBytes } from 'node:crypto';
import { closeFd, socketpair } from '../../native/index.js';
import { PeerConnection, plainDict, type DbusMessage } from '../dbus/peer-connection.js';
import { GuestClipboard } from './guest-clipboard.js';
import { CONSOLE_IFACE, DbusDisplay, KEYBOARD_IFACE, MOUSE_IFACE, type ConsoleProps } from './dbus-display.js';

const VM_PATH = '/org/qemu/Display1/VM';
const VM_IFACE = 'org.qemu.Display1.VM';
const PROPS = 'org.freedesktop.DBus.Properties';

/** What the connection needs from a QMP client. */
export interface QmpForDisplay {
  execute(command: string, args?: Record<string, unknown>): Promise<unknown>;
  executeWithFd(command: string, args: Record<string, unknown>, fd: number): Promise<unknown>;
}

export interface VmDisplayInfo {
  name: string;
  uuid: string;
  consoleIds: number[];
}

export class DisplayConnection {
  private readonly displays = new Map<string, DbusDisplay>();
  /** Explains a lost link to the user (set by the session: QEMU's exit status and log tail). */
  explainLoss: ((detail: string) => Promise<string>) | null = null;

  private constructor(
    readonly control: PeerConnection,
    readonly vm: VmDisplayInfo,
    private readonly name: string,
  ) {
    control.on('signal', (m) => this.onSignal(m));
    control.on('close', (err) => {
      for (const d of this.displays.values()) d.lose(`display connection to QEMU closed${err ? `: ${err.message}` : ''}`);
    });
  }

  static async open(qmp: QmpForDisplay, name: string): Promise<DisplayConnection> {
    const [ours, theirs] = socketpair();
    // Our side of the handshake starts now; QEMU answers once add_client hands it the other end.
    const control = new PeerConnection(ours, { name: `${name} display` });
    const fdname = `kju-dbus-${randomBytes(4).toString('hex')}`;
    try {
      await qmp.executeWithFd('getfd', { fdname }, theirs);
    } finally {
      closeFd(theirs);
    }
    try {
      await qmp.execute('add_client', { protocol: '@dbus-display', fdname });
      await withTimeout(control.ready, 10_000, 'D-Bus handshake with QEMU');
      const [props] = (await control.call(VM_PATH, PROPS, 'GetAll', { signature: 's', body: [VM_IFACE] })) as [unknown];
      const p = plainDict(props);
      const vm: VmDisplayInfo = {
        name: String(p.Name ?? ''),
        uuid: String(p.UUID ?? ''),
        consoleIds: Array.isArray(p.ConsoleIDs) ? (p.ConsoleIDs as number[]) : [],
      };
      return new DisplayConnection(control, vm, name);
    } catch (err) {
      control.close();
      throw err;
    }
  }

  async consoleProps(consoleId: number): Promise<ConsoleProps> {
    const path = `/org/qemu/Display1/Console_${consoleId}`;
    const get = async (iface: string) => plainDict(((await this.control.call(path, PROPS, 'GetAll', { signature: 's', body: [iface] })) as [unknown])[0]);
    const [c, m, k] = await Promise.all([get(CONSOLE_IFACE), get(MOUSE_IFACE), get(KEYBOARD_IFACE).catch(() => ({}) as Record<string, unknown>)]);
    return {
      label: String(c.Label ?? ''),
      head: Number(c.Head ?? 0),
      type: String(c.Type ?? ''),
      width: Number(c.Width ?? 0),
      height: Number(c.Height ?? 0),
      absolute: Boolean(m.IsAbsolute),
      modifiers: Number(k.Modifiers ?? 0),
    };
  }

  /** The graphic consoles (one per head), in QEMU's order. */
  async graphicConsoles(): Promise<number[]> {
    const out: number[] = [];
    for (const id of this.vm.consoleIds) {
      const p = await this.consoleProps(id);
      if (p.type === 'Graphic') out.push(id);
    }
    return out;
  }

  /** Registers a listener on a console; several displays of one console may coexist. */
  async openDisplay(consoleId: number): Promise<DbusDisplay> {
    // Changes (IsAbsolute when the guest enables its tablet...) may arrive while we read the
    // properties and register: collect them from before the read and replay them after.
    const path = `/org/qemu/Display1/Console_${consoleId}`;
    const early: Record<string, unknown>[] = [];
    const collect = (m: DbusMessage) => {
      if (m.path === path && m.interface === PROPS && m.member === 'PropertiesChanged') early.push(plainDict((m.body ?? [])[1] ?? []));
    };
    this.control.on('signal', collect);
    let display: DbusDisplay;
    try {
      const props = await this.consoleProps(consoleId);
      display = await DbusDisplay.open(this.control, consoleId, props, this.name);
    } finally {
      this.control.off('signal', collect);
    }
    for (const changed of early) display.onPropertiesChanged(changed);
    display.explainLoss = this.explainLoss;
    const key = `${consoleId}:${this.displays.size}:${Date.now()}`;
    this.displays.set(key, display);
    display.once('closed', () => this.displays.delete(key));
    return display;
  }

  /**
   * The guest's clipboard, registered with QEMU on first use (one per control connection: QEMU
   * keeps one clipboard peer). `log` gets each refusal as one line.
   */
  clipboard(log: (line: string) => void): Promise<GuestClipboard> {
    this.clipboardOpen ??= GuestClipboard.open(this.control, log);
    return this.clipboardOpen;
  }
  private clipboardOpen: Promise<GuestClipboard> | null = null;

  /** Ends every display with `reason` (e.g. QEMU's exit status) and closes the link. */
  close(reason = 'display connection closed'): void {
    for (const d of this.displays.values()) {
      d.finish(reason);
      d.close();
    }
    this.displays.clear();
    this.control.close();
  }

  private onSignal(m: DbusMessage): void {
    if (m.interface !== PROPS || m.member !== 'PropertiesChanged' || !m.path) return;
    const changed = plainDict((m.body ?? [])[1] ?? []);
    for (const d of this.displays.values()) if (d.path === m.path) d.onPropertiesChanged(changed);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

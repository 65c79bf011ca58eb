// The domains of one libvirt connection, for the CLI (and later the library): open, list with
// kju's states, start, stop (ACPI shutdown or destroy). libvirt's failures become LibvirtErrors
// that say what to do. Runs on the Node loop; libvirt's calls run on the thread pool (native/).
import { LibvirtConnection, NativeError, libvirtVersion } from '../../native/index.js';
import type { VmRunState } from '../../common/contract.js';
import type { LibvirtUri } from './connection-uri.js';
import { domainRunState } from './domain-state.js';
import { LibvirtError } from './libvirt-error.js';

export interface LibvirtDomain {
  name: string;
  uuid: string;
  state: VmRunState;
  /** defined (kept after it stops), not only running */
  persistent: boolean;
}

/** VIR_ERR_NO_DOMAIN and VIR_ERR_OPERATION_INVALID (not applicable in the domain's state). */
const NO_DOMAIN = 42;
const OPERATION_INVALID = 55;

export function libvirtInstallHint(platform: NodeJS.Platform = process.platform): string {
  return platform === 'darwin' ? 'install it: brew install libvirt' : 'install it: sudo apt install libvirt-daemon-driver-qemu libvirt-clients (bash scripts/setup.sh does)';
}

/** libvirt's version, or why it cannot be loaded (for kju doctor). */
export function probeLibvirt(): { version: string; library: string } | { missing: string } {
  try {
    return libvirtVersion();
  } catch (err) {
    if (err instanceof NativeError && err.errnoName === 'ENOLIBVIRT') return { missing: err.message };
    throw err;
  }
}

function connectFailure(uri: string, err: unknown): never {
  if (err instanceof NativeError && err.errnoName === 'ENOLIBVIRT') throw new LibvirtError('no-libvirt', `${err.message}: kju cannot reach ${uri}`, { hint: libvirtInstallHint(), cause: err });
  const why = (err as Error).message;
  const hint = /No such file or directory|Connection refused/.test(why)
    ? "start libvirt's daemon: sudo systemctl start libvirtd (or virtqemud)"
    : /Permission denied|authentication/i.test(why)
      ? 'join the libvirt group (sudo usermod -aG libvirt $USER, then log in again), or use qemu:///session'
      : 'check the URI and that libvirt runs there (virsh -c URI list)';
  throw new LibvirtError('libvirt-failed', `cannot reach libvirt at ${uri}: ${why}`, { hint, cause: err });
}

export class LibvirtDomains {
  private constructor(
    readonly uri: string,
    private readonly conn: LibvirtConnection,
  ) {}

  static async open(target: LibvirtUri): Promise<LibvirtDomains> {
    try {
      return new LibvirtDomains(target.uri, await LibvirtConnection.open(target.uri));
    } catch (err) {
      connectFailure(target.uri, err);
    }
  }

  async list(): Promise<LibvirtDomain[]> {
    const rows = await this.conn.listDomains().catch((err: unknown) => this.failed(err, 'list'));
    return rows.map((r) => ({ name: r.name, uuid: r.uuid, state: domainRunState(r.state), persistent: r.persistent })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The domain's state now; throws 'vm-not-found' when there is none of that name. */
  async state(name: string): Promise<VmRunState> {
    const d = (await this.list()).find((x) => x.name === name);
    if (!d) throw this.noDomain(name);
    return d.state;
  }

  start(name: string): Promise<void> {
    return this.conn.start(name).catch((err: unknown) => this.failed(err, 'start', name));
  }

  /** Asks the guest to power off (ACPI); resolves when it has been asked, not when it is off. */
  shutdown(name: string): Promise<void> {
    return this.conn.shutdown(name).catch((err: unknown) => this.failed(err, 'stop', name));
  }

  destroy(name: string): Promise<void> {
    return this.conn.destroy(name).catch((err: unknown) => this.failed(err, 'stop', name));
  }

  close(): void {
    this.conn.close();
  }

  private noDomain(name: string, cause?: unknown): LibvirtError {
    return new LibvirtError('vm-not-found', `${this.uri} has no domain "${name}"`, { hint: `"kju -c ${this.uri} list" shows its domains`, cause });
  }

  private failed(err: unknown, action: 'list' | 'start' | 'stop', name?: string): never {
    if (!(err instanceof NativeError) || err.errnoName !== 'ELIBVIRT') throw err;
    if (err.libvirtCode === NO_DOMAIN && name !== undefined) throw this.noDomain(name, err);
    if (err.libvirtCode === OPERATION_INVALID && name !== undefined) {
      throw new LibvirtError(action === 'start' ? 'already-running' : 'not-running', `cannot ${action} "${name}" on ${this.uri}: ${err.message}`, { cause: err });
    }
    const what = action === 'list' ? 'listing the domains' : `${action} of "${name}"`;
    throw new LibvirtError('libvirt-failed', `${what} on ${this.uri} failed: ${err.message}`, { hint: `"virsh -c ${this.uri}" and libvirt's log say more`, cause: err });
  }
}

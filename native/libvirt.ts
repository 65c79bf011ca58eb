// libvirt through its own C library (libvirt.so.0, loaded by the addon at run time, so kju runs
// where it is absent): a connection, its domains, start / shutdown / destroy. Every call that
// reaches libvirtd runs on the thread pool; failures are NativeErrors (always as rejections): 'ENOLIBVIRT' when the
// library cannot be loaded, 'ELIBVIRT' with libvirt's message and `libvirtCode` otherwise.
import { binding, type LibvirtConnectionHandle, type LibvirtDomainRow } from './binding.js';

export type { LibvirtDomainRow } from './binding.js';

/** libvirt's client library version ("11.3.0") and the file loaded; throws NativeError ENOLIBVIRT. */
export function libvirtVersion(): { version: string; library: string } {
  return binding().libvirtVersion();
}

export class LibvirtConnection {
  private constructor(
    readonly uri: string,
    private readonly handle: LibvirtConnectionHandle,
  ) {}

  /** Opens `uri` (virConnectOpen: local root or the user's own session, no interactive auth). */
  static async open(uri: string): Promise<LibvirtConnection> {
    const handle = new (binding().LibvirtConnectionHandle)();
    await handle.open(uri);
    return new LibvirtConnection(uri, handle);
  }

  /** Every domain, running or defined (virConnectListAllDomains + virDomainGetState). */
  async listDomains(): Promise<LibvirtDomainRow[]> {
    return this.handle.listDomains();
  }

  /** virDomainCreate: boots a defined domain. */
  async start(name: string): Promise<void> {
    return this.handle.domainAction(name, 'start');
  }

  /** virDomainShutdown: asks the guest to power off; resolves before it has. */
  async shutdown(name: string): Promise<void> {
    return this.handle.domainAction(name, 'shutdown');
  }

  /** virDomainDestroy: stops the domain at once (pulls the plug). */
  async destroy(name: string): Promise<void> {
    return this.handle.domainAction(name, 'destroy');
  }

  /** Lets go of the connection; calls still running finish. Idempotent. */
  close(): void {
    this.handle.close();
  }
}

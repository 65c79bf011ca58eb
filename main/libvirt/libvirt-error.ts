// LibvirtError: a libvirt connection or call that failed, as the user reads it (what went wrong,
// then what to do). Pure data; thrown by connection-uri.ts and libvirt-domains.ts.
import { KjuError, type KjuErrorCode, type KjuErrorOptions } from '../../common/errors.js';

export type LibvirtErrorCode = Extract<KjuErrorCode, 'bad-connection' | 'no-libvirt' | 'libvirt-failed' | 'vm-not-found' | 'not-running' | 'already-running'>;

export class LibvirtError extends KjuError {
  override name = 'LibvirtError';
  constructor(code: LibvirtErrorCode, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

// NativeError, the typed OS-level failure every native call throws; the addon builds it too (binding.ts
// hands it over in init). Plain data, usable on any thread.
import { KjuError } from '../common/errors.js';

/** An OS-level failure: kju code 'system-error'; `errnoName` is the errno name ('ENOENT', 'EBADF', ...) or
 *  a native-layer one ('ESHORTFILE': file shorter than the requested mapping; 'ERELEASED': Mapping used after
 *  release; 'ENOLIBVIRT': libvirt.so.0 could not be loaded; 'ELIBVIRT': libvirt refused, its message as
 *  the message); the addon also sets `errno` to the number, as Node's system errors have it. */
export class NativeError extends KjuError {
  override name = 'NativeError';
  readonly errnoName: string;
  readonly syscall: string;
  errno?: number;
  /** 'ELIBVIRT' errors: libvirt's virErrorNumber (42 no such domain, 55 operation invalid, ...) */
  libvirtCode?: number;
  constructor(message: string, errnoName: string, syscall: string) {
    super('system-error', message);
    this.errnoName = errnoName;
    this.syscall = syscall;
  }
}

// NativeError, the typed OS-level failure every native call throws; the addon builds it too (binding.ts
// hands it over in init). Plain data, usable on any thread.
import { KjuError } from '../common/errors.js';

/** An OS-level failure: kju code 'system-error'; `errnoName` is the errno name ('ENOENT', 'EBADF', ...) or
 *  a native-layer one ('ESHORTFILE': file shorter than the requested mapping; 'ERELEASED': Mapping used after
 *  release); the addon also sets `errno` to the number, as Node's system errors have it. */
export class NativeError extends KjuError {
  override name = 'NativeError';
  readonly errnoName: string;
  readonly syscall: string;
  errno?: number;
  constructor(message: string, errnoName: string, syscall: string) {
    super('system-error', message);
    this.errnoName = errnoName;
    this.syscall = syscall;
  }
}

// NativeError, the typed OS-level failure every native call throws; the addon builds it too (binding.ts
// hands it over in init). Plain data, usable on any thread.

/** An OS-level failure. `code` is the errno name ('ENOENT', 'EBADF', ...) or a kju code
 *  ('ESHORTFILE': file shorter than the requested mapping; 'ERELEASED': Mapping used after release). */
export class NativeError extends Error {
  code: string;
  syscall: string;
  constructor(message: string, code: string, syscall: string) {
    super(message);
    this.name = 'NativeError';
    this.code = code;
    this.syscall = syscall;
  }
}

import { KjuError } from '../../common/errors.js';

/** Why a library operation failed; `code` lets the UI and CLI react without parsing messages. */
export type LibraryErrorCode =
  | 'not-found'
  | 'ambiguous'
  | 'invalid-config'
  | 'newer-version'
  | 'duplicate-name'
  | 'duplicate-id'
  | 'name-taken'
  | 'invalid-name'
  | 'invalid-argument'
  | 'missing-file'
  | 'host-limit'
  | 'no-uefi-firmware'
  | 'no-swtpm'
  | 'qemu-img-failed'
  | 'in-use'
  | 'untrusted-backing'
  | 'outside-path'
  | 'disk-full'
  | 'busy';

/** A user-facing library failure: the message names the VM or path and says what to do next. */
export class LibraryError extends KjuError {
  override name = 'LibraryError';
  declare readonly code: LibraryErrorCode;
  constructor(
    code: LibraryErrorCode,
    message: string,
    /** the file or bundle the error is about, when there is one */
    readonly path?: string,
    options?: { cause?: unknown; hint?: string; field?: string },
  ) {
    super(code, message, options);
  }
}

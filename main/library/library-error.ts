/** Why a library operation failed; `code` lets the UI and CLI react without parsing messages. */
export type LibraryErrorCode =
  | 'NOT_FOUND'
  | 'AMBIGUOUS'
  | 'INVALID_CONFIG'
  | 'NEWER_VERSION'
  | 'DUPLICATE_NAME'
  | 'DUPLICATE_ID'
  | 'NAME_TAKEN'
  | 'INVALID_NAME'
  | 'INVALID_ARGUMENT'
  | 'MISSING_FILE'
  | 'HOST_LIMIT'
  | 'NO_UEFI_FIRMWARE'
  | 'QEMU_IMG_FAILED'
  | 'IN_USE'
  | 'UNTRUSTED_BACKING'
  | 'OUTSIDE_PATH'
  | 'DISK_FULL'
  | 'BUSY';

/** A user-facing library failure: the message names the VM or path and says what to do next. */
export class LibraryError extends Error {
  override name = 'LibraryError';
  constructor(
    readonly code: LibraryErrorCode,
    message: string,
    /** the file or bundle the error is about, when there is one */
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

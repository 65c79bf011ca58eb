// The session layer's error classes: reaching a VM and its owner over kju.sock (NoOwnerError,
// OwnerCallError, OwnerRequestError, VmNotRunningError) and the session manager's (SessionError).
import { isKjuErrorCode, KjuError, type KjuErrorOptions } from '../../common/errors.js';

export type SessionErrorCode =
  'not-running' | 'already-running' | 'owned-elsewhere' | 'suspended' | 'no-console' | 'not-responding' | 'no-sound' | 'no-clipboard' | 'clipboard-refused' | 'serial-in-use';

export class SessionError extends KjuError {
  override name = 'SessionError';
  declare readonly code: SessionErrorCode;
  constructor(code: SessionErrorCode, message: string, options?: KjuErrorOptions) {
    super(code, message, options);
  }
}

/** No kju process owns this VM right now (no socket, or nobody listening on it). */
export class NoOwnerError extends KjuError {
  override name = 'NoOwnerError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('no-owner', message, options);
  }
}

/**
 * A kju.sock call that failed. `wireCode` is what the owner answered (a kju error code, which this
 * error then carries too, or a socket-level one: 'ETIMEDOUT', 'EBADREPLY', 'ECLOSED', 'EINVAL', ...).
 */
export class OwnerCallError extends KjuError {
  override name = 'OwnerCallError';
  constructor(
    readonly wireCode: string,
    message: string,
    options?: KjuErrorOptions,
  ) {
    super(isKjuErrorCode(wireCode) ? wireCode : 'owner-call-failed', message, options);
  }
}

/** A kju.sock request the owner refuses before running it; `wireCode` goes back on the wire. */
export class OwnerRequestError extends KjuError {
  override name = 'OwnerRequestError';
  constructor(
    readonly wireCode: string,
    message: string,
  ) {
    super('bad-args', message);
  }
}

export class VmNotRunningError extends KjuError {
  override name = 'VmNotRunningError';
  constructor(message: string, options?: KjuErrorOptions) {
    super('not-running', message, options);
  }
}

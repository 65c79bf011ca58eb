// The session layer's error classes whose first files were merged away (moved verbatim): the owner
// socket's (NoHostError, HostCallError, ControlError), reaching a VM (VmNotRunningError), and the
// session manager's (SessionError, still re-exported by session-manager.ts).

export type SessionErrorCode = 'NOT_RUNNING' | 'ALREADY_RUNNING' | 'HOSTED_ELSEWHERE' | 'SUSPENDED' | 'NO_CONSOLE';

export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    readonly code: SessionErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** No kju process hosts this VM right now (no socket, or nobody listening on it). */
export class NoHostError extends Error {
  override name = 'NoHostError';
}

export class HostCallError extends Error {
  override name = 'HostCallError';
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class ControlError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export class VmNotRunningError extends Error {
  override name = 'VmNotRunningError';
}

// What the lifecycle subcommands (start, suspend, resume, pause, reset, snapshot) share: a passive
// SessionManager for the command's duration (it reaches a VM through its owner, or attaches for the
// call when nobody owns it, and lets go before the command exits). Failures are kju errors, which
// kju.ts reports through the one CLI mapping (cli-error.ts).
import { SessionManager } from '../../session/session-manager.js';

export async function withSessions<T>(fn: (sessions: SessionManager) => Promise<T>): Promise<T> {
  const sessions = SessionManager.create({ passive: true });
  try {
    return await fn(sessions);
  } finally {
    sessions.close();
  }
}

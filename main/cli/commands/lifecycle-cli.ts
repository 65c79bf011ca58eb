// What the lifecycle subcommands (start, suspend, resume, pause, reset, snapshot) share: a passive
// SessionManager for the command's duration (it reaches a VM through its owner, or attaches for the
// call when nobody owns it, and lets go before the command exits), and expected failures turned
// into CliErrors that say what to do.
import { CliError } from '../cli-error.js';
import { LibraryError } from '../../library/library-error.js';
import { QemuLaunchError } from '../../qemu/launch.js';
import { LifecycleError } from '../../session/lifecycle.js';
import { SavedStateError } from '../../session/saved-state.js';
import { HostCallError, VmNotRunningError } from '../../session/session-errors.js';
import { SessionError, SessionManager } from '../../session/session-manager.js';
import { SnapshotError } from '../../session/snapshots.js';

const EXPECTED = [LibraryError, SessionError, SavedStateError, SnapshotError, LifecycleError, QemuLaunchError, HostCallError, VmNotRunningError];

export async function withSessions<T>(fn: (sessions: SessionManager) => Promise<T>): Promise<T> {
  const sessions = SessionManager.create({ passive: true });
  try {
    return await asLifecycleCliErrors(() => fn(sessions));
  } finally {
    sessions.close();
  }
}

/** Runs `fn`; the session layer's expected failures become CliErrors (exit 3: already running / not running). */
export async function asLifecycleCliErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (EXPECTED.some((c) => err instanceof c)) {
      const code = (err as { code?: string }).code;
      throw new CliError((err as Error).message, code === 'ALREADY_RUNNING' || code === 'NOT_RUNNING' ? 3 : 1);
    }
    throw err;
  }
}

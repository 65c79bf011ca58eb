// What the lifecycle subcommands (start, suspend, resume, pause, reset, snapshot) share: a passive
// SessionManager for the command's duration (it attaches to a VM only when nobody hosts it, and lets
// go before the command exits), and expected failures turned into CliErrors that say what to do.
import { CliError } from '../cli/cli-error.js';
import { LibraryError } from '../library/library-error.js';
import { QemuLaunchError } from '../qemu/launch.js';
import { HostCallError } from './control-client.js';
import { LifecycleError } from './lifecycle.js';
import { SavedStateError } from './saved-state.js';
import { SessionError, SessionManager } from './session-manager.js';
import { SnapshotError } from './snapshots.js';

const EXPECTED = [LibraryError, SessionError, SavedStateError, SnapshotError, LifecycleError, QemuLaunchError, HostCallError];

export async function withSessions<T>(fn: (sessions: SessionManager) => Promise<T>): Promise<T> {
  const sessions = SessionManager.create({ passive: true });
  try {
    return await fn(sessions);
  } catch (err) {
    if (EXPECTED.some((c) => err instanceof c)) {
      const code = (err as { code?: string }).code;
      throw new CliError((err as Error).message, code === 'ALREADY_RUNNING' || code === 'NOT_RUNNING' ? 3 : 1);
    }
    throw err;
  } finally {
    sessions.close();
  }
}

// The one mapping from a thrown value to a Result failure, for every backend call that crosses IPC
// or a WebSocket. Runs on the Node loop of the process that holds the backend.
import { VM_EDIT_FIELDS, type Failure, type Result, type VmEditField } from '../../common/contract.js';
import { KjuError } from '../../common/errors.js';

/** Where a bug's stack goes (default: stderr); only non-kju errors are logged, expected ones are data. */
export type BugLog = (text: string) => void;
const stderrLog: BugLog = (text) => process.stderr.write(`${text}\n`);

/**
 * A KjuError keeps its code, message and hint. Anything else is a bug: code 'internal' with its
 * message (prefixed with `what` failed, when given), and its stack goes to `log`.
 */
export function toFailure(err: unknown, what?: string, log: BugLog = stderrLog): Failure {
  if (err instanceof KjuError) {
    const f: Failure = { ok: false, code: err.code, message: err.message };
    if (err.hint !== undefined) f.hint = err.hint;
    if ((VM_EDIT_FIELDS as readonly string[]).includes(err.field ?? '')) f.field = err.field as VmEditField;
    return f;
  }
  const message = err instanceof Error ? err.message : String(err);
  log(`kju: internal error${what ? ` in ${what}` : ''}: ${err instanceof Error ? (err.stack ?? message) : message}`);
  return { ok: false, code: 'internal', message: what ? `${what} failed: ${message}` : message };
}

/** Runs `fn`; its value as `{ok:true}`, or what it threw as a failure (see toFailure). */
export async function attempt<T>(fn: () => Promise<T>, what?: string, log?: BugLog): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    return toFailure(err, what, log);
  }
}

// How the `kju` CLI reports a failure: one mapping from any thrown value to the text on stderr and
// the exit code, used by kju.ts's top-level catch. Runs on the CLI's Node loop.
import { inspect } from 'node:util';
import { KjuError, failureText, type KjuErrorCode, type KjuErrorOptions } from '../../common/errors.js';

/** Exit codes: 1 a kju error, 2 a usage error, 3 the VM is not (or already) running, 70 a bug. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_STATE = 3;
export const EXIT_INTERNAL = 70;

/** A user-facing CLI failure: its message says what went wrong and what to do next. */
export class CliError extends KjuError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILED,
    options?: KjuErrorOptions,
  ) {
    super(exitCode === EXIT_USAGE ? 'usage' : 'command-failed', message, options);
  }
}

const STATE_CODES: readonly KjuErrorCode[] = ['not-running', 'already-running'];

/** What the CLI prints for `err` (without the trailing newline) and the exit code it ends with. */
export function cliFailure(err: unknown): { text: string; exitCode: number } {
  if (err instanceof KjuError) {
    const exitCode = err instanceof CliError ? err.exitCode : err.code === 'usage' ? EXIT_USAGE : STATE_CODES.includes(err.code) ? EXIT_STATE : EXIT_FAILED;
    return { text: `kju: ${failureText(err)}`, exitCode };
  }
  // A bug: everything Node knows about it (stack, fields, cause) goes to stderr.
  return { text: `kju: internal error: ${inspect(err)}`, exitCode: EXIT_INTERNAL };
}

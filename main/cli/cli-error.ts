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
  const fsProblem = fileSystemProblem(err);
  if (fsProblem) return { text: `kju: ${fsProblem}`, exitCode: EXIT_FAILED };
  // A bug: everything Node knows about it (stack, fields, cause) goes to stderr.
  return { text: `kju: internal error: ${inspect(err)}`, exitCode: EXIT_INTERNAL };
}

/** What the host's file system refused, for the path the user (or the library) gave: no bug. */
const FILE_SYSTEM_REFUSALS: Record<string, string> = {
  ENOENT: 'no such file or folder (check the path; a folder a file goes in must exist)',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENAMETOOLONG: 'the name is too long for the file system (255 bytes a name): choose a shorter one',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full: free some space and try again',
  EDQUOT: 'your disk quota is used up: free some space and try again',
};

/** One line for a Node file-system error that names its path; undefined for anything else. */
function fileSystemProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | null;
  if (!(e instanceof Error) || typeof e.code !== 'string' || typeof e.path !== 'string') return undefined;
  const why = FILE_SYSTEM_REFUSALS[e.code];
  return why && `${e.path}: ${why}`;
}

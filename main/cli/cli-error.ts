/** A user-facing CLI failure: its message says what went wrong and what to do next. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

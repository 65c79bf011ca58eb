// The options that come before the subcommand (`kju -c URI list`, like virsh): which connection
// the command works on. `-c`/`--connect` win over KJU_CONNECT; none means this machine's library.
import { CliError, EXIT_USAGE } from '../cli-error.js';

export interface GlobalOptions {
  /** the connection text as given (not yet checked), or undefined for the local library */
  connect?: string;
  /** the subcommand and its arguments */
  rest: string[];
}

export function parseGlobalOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): GlobalOptions {
  let connect: string | undefined = env.KJU_CONNECT || undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' || a === '--connect') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('-')) throw new CliError(`${a} needs a connection, like: kju ${a} qemu:///system list`, EXIT_USAGE);
      connect = v;
    } else if (a.startsWith('--connect=')) {
      connect = a.slice('--connect='.length);
    } else break;
  }
  return { connect, rest: argv.slice(i) };
}

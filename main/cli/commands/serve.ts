// `kju serve`: shows kju's UI in any browser, so VMs on this machine can be viewed and controlled
// from another one. Runs until Ctrl+C.
import { lstat, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error.js';
import { checkTokenFormat } from '../../serve/auth.js';
import { createLocalBackend } from '../../backend/local-backend.js';
import { startServe } from '../../serve/serve.js';

const USAGE = `usage: kju serve [--host H] [--port P] [--allow DIR]... [--token-file F | --token-stdin | --token T]

Serves kju's UI over HTTP and WebSocket. Open the printed URL (it carries the access token; a new
one every start unless you give one).
  --host H         address to listen on (default 127.0.0.1: this machine only)
  --port P         TCP port (default: a free one)
  --allow DIR      a folder whose files the browser may use as disks, ISOs and kernels, besides the
                   library and your home folder (repeatable)
  --token-file F   read the access token from F (must be yours and not readable by others: chmod 600)
  --token-stdin    read the access token from standard input
  --token T        access token on the command line (other users see it in \`ps\`: prefer the two above)
                   A token is at least 16 of [A-Za-z0-9_-]; default: 32 random bytes`;

/** The token from --token-file, --token-stdin or --token (at most one), checked; undefined: generate one. */
export async function readServeToken(values: { token?: string; 'token-file'?: string; 'token-stdin'?: boolean }, stdin: () => Promise<string>): Promise<string | undefined> {
  const given = [values.token !== undefined, values['token-file'] !== undefined, Boolean(values['token-stdin'])].filter(Boolean).length;
  if (given > 1) throw new CliError('give the token one way: --token-file, --token-stdin or --token', 2);
  let token: string | undefined;
  let from = '--token';
  if (values['token-file'] !== undefined) {
    from = '--token-file';
    const file = values['token-file'];
    const st = await lstat(file).catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`--token-file: cannot read ${file}: ${err.code ?? err.message}`, 2);
    });
    if (!st.isFile()) throw new CliError(`--token-file: ${file} is not a regular file`, 2);
    if (process.getuid && st.uid !== process.getuid()) throw new CliError(`--token-file: ${file} belongs to another user`, 2);
    if (st.mode & 0o077) throw new CliError(`--token-file: ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${file}`, 2);
    token = (await readFile(file, 'utf8')).trim();
  } else if (values['token-stdin']) {
    from = '--token-stdin';
    token = (await stdin()).trim();
  } else token = values.token;
  if (token === undefined) return undefined;
  const problem = checkTokenFormat(token);
  if (problem) throw new CliError(`${from}: ${problem}`, 2);
  return token;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        'token-stdin': { type: 'boolean' },
        allow: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new CliError(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`, 2);
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535) throw new CliError(`--port must be a number from 0 to 65535, not "${values.port}"`, 2);
    port = Number(values.port);
  }
  const token = await readServeToken(values, readStdin);
  const allow: string[] = [];
  for (const dir of values.allow ?? []) {
    const st = await lstat(dir).catch(() => null);
    if (!st) throw new CliError(`--allow: ${dir} does not exist`, 2);
    allow.push(resolve(dir));
  }

  const backend = await createLocalBackend({ allow });
  let serve;
  try {
    serve = await startServe({ backend, host: values.host ?? '127.0.0.1', port, token, fileRoots: backend.pathPolicy.roots });
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  if (serve.warning) console.error(serve.warning);
  console.log(`kju serve: open ${serve.url}`);
  if (serve.host === '0.0.0.0' || serve.host === '::') console.log(`(listening on every address of this machine, port ${serve.port})`);
  console.log('Press Ctrl+C to stop.');

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  console.log('kju serve: stopping');
  await serve.close();
  return 0;
}

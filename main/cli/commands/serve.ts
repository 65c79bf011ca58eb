// `kju serve`: shows kju's UI in any browser, so VMs on this machine can be viewed and controlled
// from another one. Runs until Ctrl+C.
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error.js';
import { checkTokenFormat } from '../../serve/auth.js';
import { createLocalBackend } from '../../backend/local-backend.js';
import { startServe } from '../../serve/serve.js';

const USAGE = `usage: kju serve [--host H] [--port P] [--token T]

Serves kju's UI over HTTP and WebSocket. Open the printed URL (it carries the access token).
  --host H    address to listen on (default 127.0.0.1: this machine only)
  --port P    TCP port (default: a free one)
  --token T   access token (default: 32 random bytes; at least 16 of [A-Za-z0-9_-])`;

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  if (values.token !== undefined) {
    const problem = checkTokenFormat(values.token);
    if (problem) throw new CliError(`--token: ${problem}`, 2);
  }

  const backend = await createLocalBackend();
  let serve;
  try {
    serve = await startServe({ backend, host: values.host ?? '127.0.0.1', port, token: values.token });
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

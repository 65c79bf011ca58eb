// The built CLI as a user runs it (`node bin/kju.mjs` → app/out) for the e2e tests: kju commands
// with a test's environment, and `kju serve` started as a child process, its URL read from its output.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root, sleep, until } from './real-serve.js';

const execFileP = promisify(execFile);

/** Runs `node bin/kju.mjs ...args` with `env`; rejects on a non-zero exit. */
export function builtKju(env: NodeJS.ProcessEnv): (...args: string[]) => Promise<{ stdout: string; stderr: string }> {
  return (...args) => execFileP(process.execPath, [join(root, 'bin/kju.mjs'), ...args], { env, timeout: 60_000 });
}

export interface BuiltServe {
  proc: ChildProcess;
  /** the URL kju serve printed, with its token (`http://127.0.0.1:PORT/#token=...`) */
  url: string;
  /** the page URL of a route (`/vm/<id>`, `/`) with the test probe on and the token */
  pageUrl(route: string): string;
  /** everything it printed so far */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

export async function startBuiltServe(env: NodeJS.ProcessEnv): Promise<BuiltServe> {
  const proc = spawn(process.execPath, [join(root, 'bin/kju.mjs'), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await Promise.race([new Promise((r) => proc.once('exit', r)), sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    })());
  try {
    const url = await until('kju serve to print its URL', () => /open (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)\s/.exec(out)?.[1], 20_000);
    const [origin, token] = url.split('/#token=');
    return { proc, url, pageUrl: (route) => `${origin}/#${route}?test=1&token=${token}`, output: () => out, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nkju serve output:\n${out}`, { cause: err });
  }
}

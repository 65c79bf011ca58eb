// A scratch home for integration tests that run the kju CLI: a temp dir with a private runtime
// dir (XDG_RUNTIME_DIR), state dir and library, the environment that points kju at them, and
// `kju()` / `ok()` to run the CLI from sources (tsx) or as users run it (bin/kju.mjs → app/out).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface KjuScratch {
  dir: string;
  /** XDG_RUNTIME_DIR (0700) */
  runtime: string;
  /** KJU_LIBRARY */
  library: string;
  env: NodeJS.ProcessEnv;
  /** runs the CLI; never throws */
  kju(...args: string[]): CliResult;
  /** runs the CLI and asserts exit 0; returns stdout */
  ok(...args: string[]): string;
  /** removes the scratch dir */
  remove(): void;
}

export function kjuScratch(prefix: string, o: { bundle?: boolean; timeoutMs?: number } = {}): KjuScratch {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const runtime = join(dir, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const library = join(dir, 'library');
  const env = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(dir, 'state'), KJU_LIBRARY: library, KJU_ACCEL: process.env.KJU_ACCEL || 'tcg' };
  const argv = o.bundle ? [join(repoRoot, 'bin/kju.mjs')] : ['--import', 'tsx', join(repoRoot, 'main/cli/kju.ts')];
  const kju = (...args: string[]): CliResult => {
    const r = spawnSync(process.execPath, [...argv, ...args], { cwd: repoRoot, env, encoding: 'utf8', timeout: o.timeoutMs ?? 180_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (...args: string[]): string => {
    const r = kju(...args);
    assert.equal(r.code, 0, `kju ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return { dir, runtime, library, env, kju, ok, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

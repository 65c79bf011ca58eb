// A scratch home for integration tests that run the kju CLI: a temp dir with a private runtime
// dir (XDG_RUNTIME_DIR), state dir and library, the environment that points kju at them, and
// `kju()` / `ok()` to run the CLI from sources (tsx) or as users run it (bin/kju.mjs → app/out).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { libraryVmRuntimeDir, type RuntimeDir } from '../qemu/runtime-dir.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KjuRunOptions {
  /** written to the CLI's stdin */
  input?: string;
  /** variables added to the scratch environment for this run */
  env?: NodeJS.ProcessEnv;
}

export interface KjuScratch {
  dir: string;
  /** XDG_RUNTIME_DIR (0700) */
  runtime: string;
  /** KJU_LIBRARY */
  library: string;
  /** the environment every run gets; a test may change it before running */
  env: NodeJS.ProcessEnv;
  /** runs the CLI; never throws */
  kju(...args: string[]): CliResult;
  /** runs the CLI with stdin text or extra variables; never throws */
  run(args: string[], o: KjuRunOptions): CliResult;
  /** runs the CLI without blocking the event loop (parallel runs); never rejects */
  kjuAsync(...args: string[]): Promise<CliResult>;
  /** runs the CLI and asserts exit 0; returns stdout */
  ok(...args: string[]): string;
  /** node's arguments that run the CLI with `args`, for a test that spawns it itself (cwd: repoRoot, env: this env) */
  argv(...args: string[]): string[];
  /** the runtime dir of the library VM `name` (from `kju list`) */
  runtimeDirOf(name: string): RuntimeDir;
  /** removes the scratch dir */
  remove(): void;
}

export interface KjuScratchOptions {
  /** run the built CLI (bin/kju.mjs → app/out) instead of the sources */
  bundle?: boolean;
  timeoutMs?: number;
  /** a host without QEMU: PATH holds only a `node` link, HOME is the scratch dir, nothing else of this process's environment is passed on */
  withoutQemu?: boolean;
}

export function kjuScratch(prefix: string, o: KjuScratchOptions = {}): KjuScratch {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const runtime = join(dir, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const library = join(dir, 'library');
  const env: NodeJS.ProcessEnv = {
    ...(o.withoutQemu ? bareHost(dir) : process.env),
    XDG_RUNTIME_DIR: runtime,
    XDG_STATE_HOME: join(dir, 'state'),
    KJU_LIBRARY: library,
    KJU_ACCEL: process.env.KJU_ACCEL || 'tcg',
  };
  const cli = o.bundle ? [join(repoRoot, 'bin/kju.mjs')] : ['--import', 'tsx', join(repoRoot, 'main/cli/kju.ts')];
  const argv = (...args: string[]) => [...cli, ...args];
  const run = (args: string[], r: KjuRunOptions): CliResult => {
    const p = spawnSync(process.execPath, argv(...args), { cwd: repoRoot, env: { ...env, ...r.env }, input: r.input, encoding: 'utf8', timeout: o.timeoutMs ?? 180_000 });
    return { code: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr };
  };
  const kju = (...args: string[]) => run(args, {});
  const kjuAsync = async (...args: string[]): Promise<CliResult> => {
    const child = spawn(process.execPath, argv(...args), { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr };
  };
  const ok = (...args: string[]): string => {
    const r = kju(...args);
    assert.equal(r.code, 0, `kju ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const runtimeDirOf = (name: string): RuntimeDir => {
    const vm = (JSON.parse(ok('list', '--json')) as { name: string; id: string; bundle: string }[]).find((v) => v.name === name);
    assert.ok(vm, `kju list has no VM ${name}`);
    return libraryVmRuntimeDir({ dir: vm.bundle, config: { id: vm.id, name } }, join(runtime, 'kju'));
  };
  return { dir, runtime, library, env, kju, run, kjuAsync, ok, argv, runtimeDirOf, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** HOME in `dir`, PATH only a folder holding a `node` link */
function bareHost(dir: string): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  return { HOME: dir, PATH: bin };
}

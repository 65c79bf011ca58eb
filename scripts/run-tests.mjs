#!/usr/bin/env node
// `npm test` (the full run): builds what the tests load (addon, bundles), type-checks every layer,
// checks imports against the layer table (scripts/check-layers.mjs), lints and checks the format (scripts/lint.mjs), then runs every *.test.ts(x)
// with Node's test runner, one file at a time (the QEMU tests share 2 cores under TCG). `npm run test:unit` (--unit): the same builds and type-check, then only the
// unit tests: no *.integration.test.ts (they boot or run qemu-system) and nothing under e2e/
// (Chromium), so it needs no qemu-system, no Chromium and no built guest (the library's tests do
// run qemu-img, from qemu-utils, to make real disks).
// `npm run test:electron` (--electron): builds the bundles, then runs only the Electron app's
// `_electron` specs (e2e/electron-*.test.ts); they need an Electron binary and skip, saying so, without one.
// Usage: npm test [-- <path filter> ...]   npm run test:unit [-- <path filter> ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const unitOnly = process.argv.includes('--unit');
const electronOnly = process.argv.includes('--electron');
const filters = process.argv.slice(2).filter((a) => a !== '--unit' && a !== '--electron');
const label = unitOnly ? 'npm run test:unit' : electronOnly ? 'npm run test:electron' : 'npm test';

function run(cmd, args, step) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${label}: ${step} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  console.log(`${label}: ${step} ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

if (!existsSync(join(root, 'native/build/Release/kju_native.node'))) run('npm', ['run', '--silent', 'build:native'], 'native addon build');
run('node', ['scripts/build.mjs'], 'bundle build');
if (!electronOnly) {
  run('node', ['scripts/typecheck.mjs'], 'type-check of every layer');
  run('node', ['scripts/check-layers.mjs'], 'layer check of every relative import');
  run('node', ['scripts/lint.mjs'], 'lint and format check');
}

const skipDirs = new Set(['node_modules', '.git', 'app', 'build', 'dist', 'results']);
function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skipDirs.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(relative(root, p));
  }
  return out;
}
let files = collect(root, []).sort();
// e2e last: they are the slowest and need everything else working.
files = [...files.filter((f) => !f.startsWith('e2e/')), ...files.filter((f) => f.startsWith('e2e/'))];
if (unitOnly) files = files.filter((f) => !f.startsWith('e2e/') && !/\.integration\.test\.tsx?$/.test(f));
if (electronOnly) files = files.filter((f) => /^e2e\/electron-[^/]*\.test\.ts$/.test(f));
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (!files.length) {
  console.error(`${label}: no test files matched`);
  process.exit(1);
}
const r = spawnSync(
  'node',
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', ...files],
  // Tests run guests under TCG: nested KVM hangs guests on the machines this was built on.
  { cwd: root, stdio: 'inherit', env: { ...process.env, KJU_TEST: '1', KJU_ACCEL: process.env.KJU_ACCEL ?? 'tcg' } },
);
process.exit(r.status ?? 1);

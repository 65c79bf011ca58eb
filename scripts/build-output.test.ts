// Everything the bundles load at run time is in app/out: workers, the worklet, the preload and the
// display utility, the page and its assets, the native addon, and no package left outside a bundle.
// The list is read from the sources (every spawnWorker name, `new URL('./file', import.meta.url)`,
// file joined to the bundle's own directory, URL resolved against the page), so a new worker that
// scripts/build.mjs does not bundle fails here instead of in a user's status bar.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// A fresh build in a scratch directory: app/out may hold files an older build.mjs left there.
const out = mkdtempSync(join(tmpdir(), 'kju-build-'));
after(() => rmSync(out, { recursive: true, force: true }));

/** Files only the source run needs (running .ts through tsx); the bundle never asks for them. */
const SOURCE_ONLY = new Map([['tsx-worker-boot.mjs', 'spawnWorker boots .ts workers through it only when running from sources']]);
/** Packages a bundle may still require: Electron itself, and ws's optional speed-ups (required inside try/catch). */
const RUNTIME_PACKAGES = new Set(['electron', 'bufferutil', 'utf-8-validate']);

function sources(dir: string, acc: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'build' || name === 'test-fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, acc);
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) && !name.endsWith('.d.ts')) acc.push(p);
  }
  return acc;
}

interface Need {
  file: string;
  from: string;
}

/** What the code asks for at run time, as paths inside app/out. */
function runtimeNeeds(): Need[] {
  const needs: Need[] = [];
  const add = (file: string, from: string) => {
    if (!SOURCE_ONLY.has(file)) needs.push({ file, from });
  };
  const consts = new Map<string, string>();
  const files = ['main', 'native', 'renderer', 'common'].flatMap((d) => sources(join(root, d)));
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/const ([A-Z_]+) = '([^'/]+)'/g)) consts.set(m[1]!, m[2]!);
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const from = relative(root, f);
    const inRenderer = from.startsWith('renderer/');
    // Worker threads: spawnWorker(import.meta.url, 'name', ...) loads name.js beside the bundle.
    for (const m of text.matchAll(/spawnWorker\(\s*import\.meta\.url,\s*'([^']+)'/g)) add(`${m[1]}.js`, from);
    // A file beside this module: new URL('./file', import.meta.url) (or a `here` holding that URL).
    for (const m of text.matchAll(/new URL\(\s*'\.\/([^'/]+)'\s*,\s*(?:import\.meta\.url|here)\s*\)/g)) add(m[1]!, from);
    // A file joined to the bundle's own directory.
    for (const m of text.matchAll(/join\(\s*(?:outDir|here|dirname\(fileURLToPath\(import\.meta\.url\)\)),\s*'([^']+)'\s*\)/g)) add(m[1]!, from);
    // The page's own fetches relative to its document (the audio worklet).
    if (inRenderer) {
      for (const m of text.matchAll(/new URL\(\s*(?:'([^']+)'|([A-Z_]+))\s*,\s*document\.baseURI\s*\)/g)) {
        const name = m[1] ?? consts.get(m[2]!);
        assert.ok(name, `${from}: ${m[2]} is not a string constant this test can resolve`);
        add(`renderer/${name}`, from);
      }
    }
  }
  return needs;
}

test('the bundle build puts every worker, asset and native module the code loads into app/out', () => {
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8', env: { ...process.env, KJU_BUILD_OUT: out } });
  assert.equal(r.status, 0, `node scripts/build.mjs failed:\n${r.stdout}${r.stderr}`);
  const needs = runtimeNeeds();
  // The derivation itself must find what is known to be loaded, or it has stopped seeing anything.
  for (const known of ['listener-worker.js', 'audio-listener-worker.js', 'kju_native.node', 'display-utility.js', 'preload.cjs', 'renderer/pcm-worklet.js'])
    assert.ok(
      needs.some((n) => n.file === known),
      `the source scan no longer finds ${known}: update this test's patterns`,
    );
  const missing = needs.filter((n) => !existsSync(join(out, n.file))).map((n) => `${n.file} (loaded by ${n.from})`);
  assert.deepEqual(missing, [], 'scripts/build.mjs does not put these into app/out: add them');
});

test('the page in app/out finds every script and stylesheet it names', () => {
  const html = readFileSync(join(out, 'renderer/index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"#?:]+)"/g)].map((m) => m[1]!.replace(/^\.\//, ''));
  assert.ok(refs.includes('index.js'), `index.html names no index.js: ${refs.join(', ')}`);
  const missing = refs.filter((ref) => !existsSync(join(out, 'renderer', ref)));
  assert.deepEqual(missing, []);
});

test('the bundles require no package that is not inside them', () => {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const strays: string[] = [];
  for (const name of readdirSync(out).filter((n) => /\.(c?js)$/.test(n))) {
    const text = readFileSync(join(out, name), 'utf8');
    const specs = [
      ...[...text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!),
      ...[...text.matchAll(/^import\s[^;]*?from\s*"([^"]+)"/gm)].map((m) => m[1]!),
      ...[...text.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]!),
    ];
    for (const s of specs) if (!builtins.has(s) && !RUNTIME_PACKAGES.has(s) && !s.startsWith('.')) strays.push(`${name}: ${s}`);
  }
  assert.deepEqual(strays, [], 'bundle these (or mark them external and ship them)');
});

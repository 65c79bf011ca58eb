#!/usr/bin/env node
// Bundles every entry point into app/out/ (the packaged app's compiled output) with esbuild.
// All Node entries land flat in app/out/ so that relative worker paths are the same in source and
// in the bundle. Entries that do not exist yet are skipped with a line saying so.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
// KJU_BUILD_OUT builds elsewhere (scripts/build-output.test.ts checks a fresh build, not a stale app/out).
const out = process.env.KJU_BUILD_OUT ?? join(root, 'app/out');
mkdirSync(join(out, 'renderer'), { recursive: true });

const esmRequireBanner = "import { createRequire as __kjuCreateRequire } from 'node:module'; const require = __kjuCreateRequire(import.meta.url);";
const nodeEntries = {
  kju: 'main/cli/kju.ts',
  'listener-worker': 'main/display/listener-worker.ts',
  'audio-listener-worker': 'main/display/audio-listener-worker.ts',
  'display-utility': 'main/electron/utility/display-utility.ts',
  'electron-main': 'main/electron/main/main.ts',
};
const present = (m) =>
  Object.fromEntries(
    Object.entries(m).filter(([name, src]) => {
      if (existsSync(join(root, src))) return true;
      console.log(`build: skipping ${name} (${src} not written yet)`);
      return false;
    }),
  );

const common = { bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root };
await build({
  ...common,
  entryPoints: present(nodeEntries),
  outdir: out,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  outExtension: { '.js': '.js' },
  external: ['electron', '*.node'],
  banner: { js: esmRequireBanner },
});
if (existsSync(join(root, 'main/electron/preload/preload.ts'))) {
  // CJS has no import.meta: give it the bundle's own URL (the native loader looks next to it).
  await build({
    ...common,
    entryPoints: { preload: 'main/electron/preload/preload.ts' },
    outdir: out,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    external: ['electron'],
    define: { 'import.meta.url': '__kjuBundleUrl' },
    // A sandboxed preload has a restricted require ('url' is allowed, 'node:url' is not) and maybe no __filename.
    banner: { js: "const __kjuBundleUrl = typeof __filename === 'string' ? require('url').pathToFileURL(__filename).href : '';" },
  });
}
if (existsSync(join(root, 'renderer/index.tsx'))) {
  await build({
    ...common,
    entryPoints: { index: 'renderer/index.tsx', 'pcm-worklet': 'renderer/audio/pcm-worklet-processor.ts' },
    outdir: join(out, 'renderer'),
    platform: 'browser',
    target: 'chrome120',
    format: 'esm',
    jsx: 'automatic',
    loader: { '.css': 'css' },
  });
  copyFileSync(join(root, 'renderer/index.html'), join(out, 'renderer/index.html'));
}
const addon = join(root, 'native/build/Release/kju_native.node');
if (existsSync(addon)) copyFileSync(addon, join(out, 'kju_native.node'));
console.log(`build: ${process.env.KJU_BUILD_OUT ?? 'app/out'} ready`);

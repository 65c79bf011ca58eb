// The electron-builder config (build/electron-builder.json): targets, addon unpacking, the .kju
// association, fuses. Lives here rather than in build/ because the test runner skips build/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const config = JSON.parse(readFileSync(join(root, 'build/electron-builder.json'), 'utf8'));

test('targets: AppImage and deb on Linux, dmg on macOS', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.deepEqual(config.mac.target, ['dmg']);
  assert.equal(config.appId, 'org.kju.app');
  assert.equal(config.productName, 'kju');
  assert.deepEqual(config.directories, { app: 'app', output: 'dist', buildResources: 'build' });
  assert.match(config.linux.desktop.entry.Categories, /^System;Emulator;$/);
  assert.ok(config.deb.depends.includes('qemu-system-x86') && config.deb.depends.includes('qemu-utils'));
});

test('the native addon is unpacked from the asar, and not rebuilt', () => {
  assert.ok(config.asarUnpack.includes('**/*.node'));
  assert.equal(config.npmRebuild, false);
  assert.deepEqual(config.files, ['out/**', 'package.json']);
});

test('.kju bundles open in kju (a package directory on macOS)', () => {
  const kju = config.fileAssociations.find((a: { ext: string }) => a.ext === 'kju');
  assert.ok(kju);
  assert.equal(kju.isPackage, true);
  assert.equal(kju.role, 'Editor');
});

test('Electron fuses lock the binary down', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
  });
});

test('mac entitlements allow HVF, JIT and the unsigned addon', () => {
  const plist = readFileSync(join(root, config.mac.entitlements), 'utf8');
  for (const key of ['com.apple.security.hypervisor', 'com.apple.security.cs.allow-jit', 'com.apple.security.cs.disable-library-validation']) {
    assert.match(plist, new RegExp(`<key>${key.replaceAll('.', '\\.')}</key>\\s*<true/>`));
  }
});

test('app/package.json points at the bundled Electron main and icons exist', () => {
  const app = JSON.parse(readFileSync(join(root, 'app/package.json'), 'utf8'));
  assert.equal(app.name, 'kju');
  assert.equal(app.main, 'out/electron-main.js');
  assert.equal(app.type, 'module');
  assert.deepEqual(app.dependencies, {}, 'everything is bundled into app/out by esbuild');
  const icon = PNG.sync.read(readFileSync(join(root, 'build/icon.png')));
  assert.deepEqual([icon.width, icon.height], [512, 512]);
  for (const size of [16, 32, 48, 64, 128, 256, 512]) assert.ok(existsSync(join(root, `build/icons/${size}x${size}.png`)));
});

test('the bundles the app loads are built from sources that exist (scripts/build.mjs entries)', () => {
  const build = readFileSync(join(root, 'scripts/build.mjs'), 'utf8');
  const entries = [...build.matchAll(/'?(electron-main|display-utility|preload)'?: '([^']+)'/g)].map((m) => [m[1], m[2]] as const);
  assert.deepEqual(entries.map(([name]) => name).sort(), ['display-utility', 'electron-main', 'preload']);
  for (const [name, src] of entries) assert.ok(existsSync(join(root, src)), `${name}: ${src} does not exist`);
});

test("electron-builder's own schema accepts the config", { skip: !existsSync(join(root, 'node_modules/app-builder-lib')) && 'electron-builder not installed' }, async () => {
  const require = createRequire(join(root, 'package.json'));
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js');
  const { $schema: _schema, ...rest } = config;
  await validateConfiguration(rest, { isEnabled: false, add() {} });
});

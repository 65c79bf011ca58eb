#!/usr/bin/env node
// `npm run dist`: installers (Linux AppImage + deb, macOS dmg) with electron-builder.
// Checks first that electron-builder and an Electron binary are available, and says in one line
// what is missing otherwise. Usage: npm run dist [-- <extra electron-builder args, e.g. --linux deb>]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const fail = (line) => {
  console.error(`dist: ${line}`);
  process.exit(1);
};

const builderCli = join(root, 'node_modules/electron-builder/cli.js');
if (!existsSync(builderCli)) fail('electron-builder is not installed: run `npm install --save-dev electron-builder@26`');

const electronPkg = join(root, 'node_modules/electron/package.json');
if (!existsSync(electronPkg)) fail('electron is not installed: run `npm install`');
const electronDist = join(root, 'node_modules/electron/dist');
if (!existsSync(electronDist)) {
  // electron's own postinstall downloads the binary; it fails offline or when install scripts are off.
  const r = spawnSync(process.execPath, [join(root, 'node_modules/electron/install.js')], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(electronDist)) {
    const why =
      (r.stderr || '')
        .split('\n')
        .find((l) => /error|ENOTFOUND|EAI_AGAIN|ECONN|status/i.test(l))
        ?.trim() ?? `exit ${r.status}`;
    fail(
      `the Electron binary is missing (node_modules/electron/dist) and could not be downloaded (${why}); set ELECTRON_MIRROR or copy an Electron ${JSON.parse(readFileSync(electronPkg, 'utf8')).version} build there`,
    );
  }
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) fail(`npm run build failed (exit ${build.status ?? build.signal})`);
if (!existsSync(join(root, 'app/out/electron-main.js'))) fail('app/out/electron-main.js was not built (main/electron/main/main.ts missing?)');

const version = JSON.parse(readFileSync(electronPkg, 'utf8')).version;
const args = [builderCli, '--config', 'build/electron-builder.json', `-c.electronDist=${electronDist}`, `-c.electronVersion=${version}`, ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);

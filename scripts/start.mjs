#!/usr/bin/env node
// `npm start`: the desktop app when an Electron binary is installed; otherwise the same UI in a
// browser through `kju serve` (it prints the URL with its token).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const electronDist = join(root, 'node_modules/electron/dist');
let cmd, args;
if (existsSync(electronDist) && existsSync(join(root, 'app/out/electron-main.js'))) {
  const { default: electronPath } = await import('electron');
  [cmd, args] = [electronPath, [join(root, 'app')]];
} else {
  console.log('kju: no Electron binary is installed (node_modules/electron/dist), so the desktop window cannot open; serving the same UI to your browser with `kju serve` instead:');
  [cmd, args] = [process.execPath, [join(root, 'bin/kju.mjs'), 'serve', ...process.argv.slice(2)]];
}
const child = spawn(cmd, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

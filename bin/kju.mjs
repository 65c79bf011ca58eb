#!/usr/bin/env node
// `kju` command: runs the bundled CLI (app/out/kju.js, made by `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../app/out/kju.js', import.meta.url));
if (!existsSync(bundle)) {
  console.error('kju: the app is not built yet. Run `npm run build` in the kju checkout first.');
  process.exit(2);
}
await import(bundle);

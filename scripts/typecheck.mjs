#!/usr/bin/env node
// Type-checks each layer with its own tsconfig (see tsconfig.json for why they are separate).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const projects = ['common', 'main', 'main/electron/main', 'main/electron/utility', 'main/electron/preload', 'renderer', 'renderer/tsconfig.test.json', 'e2e', 'bench/page'];
let failed = 0;
for (const p of projects) {
  if (!existsSync(new URL(`../${p}`, import.meta.url))) continue;
  const r = spawnSync('npx', ['tsc', '-p', p], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`typecheck: ${p} has errors`);
  }
}
process.exit(failed ? 1 : 0);

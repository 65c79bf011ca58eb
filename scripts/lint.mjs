#!/usr/bin/env node
// `npm run lint`: ESLint (eslint.config.js) and Prettier's check (.prettierrc.json) over the sources.
// `npm run format` rewrites what Prettier would change.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = '**/*.{ts,tsx,mjs,js,css}';
const steps = [
  ['eslint', ['.', '--max-warnings=0']],
  ['prettier', ['--check', '--log-level=warn', SOURCES]],
];
for (const [bin, args] of steps) {
  const r = spawnSync('npx', ['--no-install', bin, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm run lint: ${bin} found problems${bin === 'prettier' ? ': run `npm run format`' : ''}`);
    process.exit(r.status || 1);
  }
}
console.log('npm run lint: eslint and prettier found nothing');

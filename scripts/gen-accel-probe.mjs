#!/usr/bin/env node
// Assembles main/qemu/accel-probe.S (the accelerator probe's guest) and writes
// main/qemu/accel-probe-image.generated.ts: the code at the image's start and the 16 bytes at the
// reset vector, as hex (the rest of the 64 KiB image is zeros). Needs GNU binutils (as, ld).
// Usage: node scripts/gen-accel-probe.mjs [--check]   (--check fails if the committed file is stale)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const sourceRel = 'main/qemu/accel-probe.S';
const outRel = 'main/qemu/accel-probe-image.generated.ts';
const IMAGE_SIZE = 0x10000;
const RESET = 0xfff0;

const source = readFileSync(join(root, sourceRel), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'kju-gen-accel-probe-'));
let image;
try {
  execFileSync('as', ['--32', '-o', join(tmp, 'probe.o'), join(root, sourceRel)], { stdio: 'inherit' });
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0', '-e', '0', '--oformat', 'binary', '-o', join(tmp, 'probe.bin'), join(tmp, 'probe.o')], { stdio: 'inherit' });
  image = readFileSync(join(tmp, 'probe.bin'));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (image.length !== IMAGE_SIZE) throw new Error(`${sourceRel} assembled to ${image.length} bytes, not ${IMAGE_SIZE}`);
let codeEnd = RESET;
while (codeEnd > 0 && image[codeEnd - 1] === 0) codeEnd--;
const code = image.subarray(0, codeEnd);
const reset = image.subarray(RESET);

const out = `// GENERATED FILE, do not edit. The accelerator probe's 64 KiB firmware image (see accel-probe.S):
// CODE goes at offset 0, RESET_VECTOR at 0xfff0, zeros elsewhere.
//   sha256 of the source file: ${createHash('sha256').update(source).digest('hex')}
// Regenerate: node scripts/gen-accel-probe.mjs

export const PROBE_SOURCE_SHA256 = '${createHash('sha256').update(source).digest('hex')}';
export const PROBE_IMAGE_SIZE = 0x${IMAGE_SIZE.toString(16)};
export const PROBE_RESET_OFFSET = 0x${RESET.toString(16)};
export const PROBE_CODE_HEX =
${(code.toString('hex').match(/.{1,96}/g) ?? []).map((l) => `  '${l}'`).join(' +\n')};
export const PROBE_RESET_VECTOR_HEX = '${reset.toString('hex')}';
`;

const outPath = join(root, outRel);
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(outPath, 'utf8');
  } catch {
    /* missing counts as stale */
  }
  if (current !== out) {
    console.error(`${outRel} is stale: run node scripts/gen-accel-probe.mjs`);
    process.exit(1);
  }
  console.log(`${outRel} is up to date (${code.length} bytes of code)`);
} else {
  writeFileSync(outPath, out);
  console.log(`wrote ${outRel} (${code.length} bytes of code)`);
}

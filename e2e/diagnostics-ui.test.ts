// The Diagnostics view end to end: the built React app (app/out/renderer) in Chromium against kju
// serve over the local backend, so the lines come from the real checks (main/backend/diagnostics.ts)
// through the contract's `diagnostics` method and the WebSocket. No guest boots: the library is an
// empty temp dir and KJU_ACCEL=tcg keeps the accelerator check from probing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { LocalBackend } from '../main/backend/local-backend.js';
import type { ServeHandle } from '../main/serve/serve.js';
import { CHROMIUM, CHROMIUM_ARGS, root } from './helpers/real-serve.js';

const tmp = mkdtempSync(join(tmpdir(), 'kju-diagnostics-ui-'));
let backend: LocalBackend | undefined;
let serve: ServeHandle | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close().catch(() => {});
  await serve?.close();
  backend?.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('Diagnostics in the library window lists the backend’s doctor lines, in order, with status and fix', async () => {
  process.env.KJU_LIBRARY = join(tmp, 'library');
  process.env.XDG_RUNTIME_DIR = join(tmp, 'run');
  process.env.KJU_ACCEL = 'tcg';
  mkdirSync(process.env.XDG_RUNTIME_DIR, { recursive: true, mode: 0o700 });
  const { createLocalBackend } = await import('../main/backend/local-backend.js');
  const { startServe } = await import('../main/serve/serve.js');
  const { runDiagnostics } = await import('../main/backend/diagnostics.js');
  backend = await createLocalBackend({ accel: 'tcg' });
  serve = await startServe({ backend, staticDir: join(root, 'app/out/renderer'), log: () => {} });
  const expected = await runDiagnostics();

  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Diagnostics' }).click();
  const dialog = page.getByRole('dialog', { name: 'Diagnostics' });
  await dialog.locator('.diagnostic').first().waitFor({ timeout: 30_000 });
  const shown = await dialog.locator('.diagnostic').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-diagnostic'),
      status: e.getAttribute('data-status'),
      label: e.querySelector('.diag-status')?.textContent,
      summary: e.querySelector('.diag-summary')?.textContent,
      fix: e.querySelector('.diag-fix code')?.textContent ?? undefined,
    })),
  );
  assert.deepEqual(
    shown.map((l) => l.id),
    expected.map((l) => l.id),
  );
  for (const [i, want] of expected.entries()) {
    const got = shown[i]!;
    assert.equal(got.status, want.status, want.id);
    assert.equal(got.label, want.status, want.id);
    assert.equal(got.fix, want.fix, want.id);
    // free space moves between the two reads; every other summary is the same text
    if (want.id === 'library') assert.match(got.summary ?? '', /GiB free/);
    else assert.equal(got.summary, want.summary, want.id);
  }
  assert.match(shown.find((l) => l.id === 'accelerator')?.summary ?? '', /TCG, forced by KJU_ACCEL=tcg/);
  if (process.env.KJU_SCREENSHOTS) await page.screenshot({ path: join(process.env.KJU_SCREENSHOTS, 'diagnostics-real.png') });
  assert.deepEqual(errors, []);
});

// kju serve with the real demo guest sharing its clipboard (the vdagent channel and the guest's
// test agent, scripts/guest-tools/kju-vdagent.c) and the real React app in Chromium with clipboard
// permissions: after "Share clipboard" is turned on, the page's clipboard reaches the guest
// byte-exact and the guest's text lands in the page's clipboard.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openVmPage, startRealServe, until, type RealServe } from './helpers/real-serve.js';
import { openMoreMenu } from './helpers/chromium.js';

const octal = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');

describe('serve + real guest: the page shares its clipboard with the guest', () => {
  let rs: RealServe;
  let page: Page;
  const pageErrors: string[] = [];
  let runs = 0;

  /** Starts kju-vdagent in the guest's background and waits until it has met QEMU. */
  async function agent(args: string, stdin = '') {
    const id = `p${++runs}`;
    await rs.guest.serial.run(`( ( ${stdin}kju-vdagent -t 60 ${args} >/tmp/${id}.out 2>/tmp/${id}.log; echo $? >/tmp/${id}.rc ) & )`);
    await until(`agent ${id} ready`, async () => (await rs.guest.serial.run(`cat /tmp/${id}.log`)).includes('kju-vdagent: ready'), 30_000, 300);
    return {
      id,
      done: () => until(`agent ${id} to exit`, async () => (await rs.guest.serial.run(`cat /tmp/${id}.rc 2>/dev/null || true`)).trim() || false, 60_000, 300),
    };
  }

  before(async () => {
    rs = await startRealServe({ name: 'kju-serve-clipboard', clipboard: true });
    page = await openVmPage(rs, { errors: pageErrors, permissions: ['clipboard-read', 'clipboard-write'] });
  });
  after(async () => {
    await rs?.stop();
  });

  test('off by default; turned on, the page clipboard arrives in the guest byte-exact', async () => {
    await openMoreMenu(page);
    assert.equal(await page.getByTestId('clipboard-state').textContent(), 'Clipboard: off');
    const text = 'Grüße aus Chromium, 世界 ✓';
    await page.evaluate((t) => navigator.clipboard.writeText(t), text);
    const a = await agent('get');
    // click, not check(): the box shows the backend's answer (clipboard-state), which comes a round trip later
    await page.getByTestId('clipboard-share').click();
    await until('the page to show clipboard on', async () => (await page.getByTestId('clipboard-state').textContent()) === 'Clipboard: on');
    assert.equal(await a.done(), '0');
    const hex = (await rs.guest.serial.run(`od -An -tx1 -v /tmp/${a.id}.out | tr -d ' \\n'`)).trim();
    assert.equal(hex, Buffer.from(text, 'utf8').toString('hex'));
  });

  test("guest text arrives in the page's clipboard", async () => {
    const text = 'vom Gast: Grüße ✓ «kju»';
    const a = await agent('set -', `printf '${octal(text)}' | `);
    await until("the page's clipboard to hold the guest's text", async () => (await page.evaluate(() => navigator.clipboard.readText())) === text, 20_000, 200);
    assert.equal(await a.done(), '0');
    assert.deepEqual(pageErrors, []);
  });
});

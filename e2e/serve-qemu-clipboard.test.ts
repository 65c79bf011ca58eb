// kju serve with the real demo guest sharing its clipboard (the vdagent channel and the guest's
// test agent, scripts/guest-tools/kju-vdagent.c) and the real React app in Chromium with clipboard
// permissions: after "Share clipboard" is turned on, the page's clipboard reaches the guest
// byte-exact and the guest's text lands in the page's clipboard; text copied while no guest agent
// runs reaches the agent that starts later. (serve-qemu-cli-features runs the
// same steps through the built CLI.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { guestAgentOutputHex, guestClipboardAgent, guestTextReachesPage, pageClipboardReachesGuest, type GuestAgentRun } from './helpers/guest-clipboard.js';
import { openMoreMenu } from './helpers/chromium.js';
import { openVmPage, startRealServe, until, type RealServe } from './helpers/real-serve.js';

describe('serve + real guest: the page shares its clipboard with the guest', () => {
  let rs: RealServe;
  let page: Page;
  const pageErrors: string[] = [];
  let agent: (args: string, stdin?: string) => Promise<GuestAgentRun>;

  before(async () => {
    rs = await startRealServe({ name: 'kju-serve-clipboard', clipboard: true });
    page = await openVmPage(rs, { errors: pageErrors, permissions: ['clipboard-read', 'clipboard-write'] });
    agent = guestClipboardAgent(rs.guest.serial);
  });
  after(async () => {
    await rs?.stop();
  });

  test('off by default; turned on, the page clipboard arrives in the guest byte-exact', async () => {
    await pageClipboardReachesGuest(page, rs.guest.serial, agent, 'Grüße aus Chromium, 世界 ✓');
  });

  test("guest text arrives in the page's clipboard", async () => {
    await guestTextReachesPage(page, agent, 'vom Gast: Grüße ✓ «kju»');
    assert.deepEqual(pageErrors, []);
  });

  test('text copied on the host while no guest agent runs arrives once one starts', async () => {
    const text = 'copied before the agent ran ✓';
    const clipboard = (await rs.session.sharedClipboard(() => undefined))!;
    await openMoreMenu(page);
    // off and on again: the page reads its clipboard and sends it, with no agent in the guest
    await page.getByTestId('clipboard-share').click();
    await until('the page to show clipboard off', async () => (await page.getByTestId('clipboard-state').textContent()) === 'Clipboard: off');
    await page.evaluate((t) => navigator.clipboard.writeText(t), text);
    await page.getByTestId('clipboard-share').click();
    await until('kju to offer the page text to the guest', () => clipboard.offeredText === text);
    const a = await agent('get');
    assert.equal(await a.done(), '0');
    assert.equal(await guestAgentOutputHex(rs.guest.serial, a), Buffer.from(text, 'utf8').toString('hex'));
    assert.deepEqual(pageErrors, []);
  });
});

// kju serve with the real demo guest sharing its clipboard (the vdagent channel and the guest's
// test agent, scripts/guest-tools/kju-vdagent.c) and the real React app in Chromium with clipboard
// permissions: after "Share clipboard" is turned on, the page's clipboard reaches the guest
// byte-exact and the guest's text lands in the page's clipboard. (serve-qemu-cli-features runs the
// same steps through the built CLI.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { guestClipboardAgent, guestTextReachesPage, pageClipboardReachesGuest, type GuestAgentRun } from './helpers/guest-clipboard.js';
import { openVmPage, startRealServe, type RealServe } from './helpers/real-serve.js';

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
});

// The guest's side of the clipboard tests: kju-vdagent (scripts/guest-tools/kju-vdagent.c), the
// demo guest's test agent, run in the background of its serial shell.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { SerialConsole } from '../../main/testing/serial-console.js';
import { until } from './real-serve.js';
import { openMoreMenu } from './chromium.js';

/** `text` as printf octal escapes, so any UTF-8 passes through the serial shell byte-exact. */
export const octal = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');

export interface GuestAgentRun {
  /** names its files in the guest: /tmp/<id>.out (what it got), .log, .rc */
  id: string;
  /** waits for its exit status ('0' when it did its job) */
  done(): Promise<string>;
}

/**
 * Starts kju-vdagent `args` (`get`, or `set -` with `stdin` piped in) in the guest's background and
 * waits until it has met QEMU's vdagent. Ids count up per console.
 */
export function guestClipboardAgent(serial: Pick<SerialConsole, 'run'>): (args: string, stdin?: string) => Promise<GuestAgentRun> {
  let runs = 0;
  return async (args, stdin = '') => {
    const id = `p${++runs}`;
    await serial.run(`( ( ${stdin}kju-vdagent -t 60 ${args} >/tmp/${id}.out 2>/tmp/${id}.log; echo $? >/tmp/${id}.rc ) & )`);
    await until(`agent ${id} ready`, async () => (await serial.run(`cat /tmp/${id}.log`)).includes('kju-vdagent: ready'), 30_000, 300);
    return {
      id,
      done: () => until(`agent ${id} to exit`, async () => (await serial.run(`cat /tmp/${id}.rc 2>/dev/null || true`)).trim() || false, 60_000, 300),
    };
  };
}

/** The bytes kju-vdagent `get` wrote in the guest, as hex. */
export async function guestAgentOutputHex(serial: Pick<SerialConsole, 'run'>, run: GuestAgentRun): Promise<string> {
  return (await serial.run(`od -An -tx1 -v /tmp/${run.id}.out | tr -d ' \\n'`)).trim();
}

/**
 * The page's clipboard reaches the guest byte-exact once "Share clipboard" is turned on (it must be
 * off before): the page's clipboard holds `text` first, the guest agent asks, the user clicks.
 */
export async function pageClipboardReachesGuest(page: Page, serial: Pick<SerialConsole, 'run'>, agent: (args: string) => Promise<GuestAgentRun>, text: string): Promise<void> {
  await openMoreMenu(page); // "Share clipboard" and its state sit in the VM window's More menu
  assert.equal(await page.getByTestId('clipboard-state').textContent(), 'Clipboard: off');
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  const a = await agent('get');
  // click, not check(): the box shows the backend's answer (clipboard-state), which comes a round trip later
  await page.getByTestId('clipboard-share').click();
  await until('the page to show clipboard on', async () => (await page.getByTestId('clipboard-state').textContent()) === 'Clipboard: on');
  assert.equal(await a.done(), '0');
  assert.equal(await guestAgentOutputHex(serial, a), Buffer.from(text, 'utf8').toString('hex'));
}

/** Text the guest agent offers lands in the page's clipboard (sharing on). */
export async function guestTextReachesPage(page: Page, agent: (args: string, stdin: string) => Promise<GuestAgentRun>, text: string): Promise<void> {
  const a = await agent('set -', `printf '${octal(text)}' | `);
  await until("the page's clipboard to hold the guest's text", async () => (await page.evaluate(() => navigator.clipboard.readText())) === text, 20_000, 200);
  assert.equal(await a.done(), '0');
}

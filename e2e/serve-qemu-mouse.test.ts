// kju serve with the real demo guest: mouse clicks on the page's canvas (the real React app, scaled
// to fit) arrive in the guest's usb-tablet as the absolute coordinates of the guest pixel that was
// clicked, with BTN_LEFT press and release. The guest side is read raw from the tablet's evdev
// node (struct input_event, 24 bytes on x86_64) through the serial shell.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { placeSurface } from '../renderer/display/scaling.js';
import { openVmPage, sleep, startRealServe, until, type RealServe } from './helpers/real-serve.js';

const EV_KEY = 1,
  EV_ABS = 3,
  ABS_X = 0,
  ABS_Y = 1,
  BTN_LEFT = 0x110,
  ABS_MAX = 0x7fff;

let rs: RealServe;
const pageErrors: string[] = [];

before(async () => {
  rs = await startRealServe({ displayDevice: 'virtio-vga', name: 'kju-serve-mouse', tablet: true });
});
after(async () => {
  await rs?.stop();
});

interface InputEvent {
  type: number;
  code: number;
  value: number;
}

function parseEvents(hex: string): InputEvent[] {
  const buf = Buffer.from(hex.replace(/[^0-9a-f]/g, ''), 'hex');
  const out: InputEvent[] = [];
  for (let o = 0; o + 24 <= buf.length; o += 24) out.push({ type: buf.readUInt16LE(o + 16), code: buf.readUInt16LE(o + 18), value: buf.readInt32LE(o + 20) });
  return out;
}

let tabletNode = '';

async function findTablet(): Promise<string> {
  const serial = rs.guest.serial;
  await serial.run('i=0; until grep -q "USB Tablet" /proc/bus/input/devices; do i=$((i+1)); [ $i -gt 150 ] && exit 1; sleep 0.2; done');
  const node = (await serial.run(`awk '/^N:/{t=/USB Tablet/} t&&/^H:/{for(i=1;i<=NF;i++) if($i ~ /^event/) print $i}' /proc/bus/input/devices`)).trim();
  assert.match(node, /^event\d+$/, `tablet event node: ${JSON.stringify(node)}`);
  // QEMU's own word that the tablet is the current, absolute mouse. (kju's long-lived primary
  // display can miss the IsAbsolute change when it races with the display's registration; the
  // page's display is opened after this point and reads the property fresh.)
  await until(
    'QEMU to use the tablet as its absolute mouse',
    async () => {
      const mice = (await rs.guest.qmp.execute('query-mice')) as Array<{ name: string; current: boolean; absolute: boolean }>;
      return mice.some((m) => m.current && m.absolute);
    },
    20_000,
  );
  return node;
}

/** Clicks guest pixels on a page of the given size; checks what the guest's tablet reported. */
async function clickAndCheck(viewport: { width: number; height: number }): Promise<void> {
  const serial = rs.guest.serial;
  tabletNode ||= await findTablet();
  const node = tabletNode;
  const page: Page = await openVmPage(rs, { viewport, errors: pageErrors });
  const served = rs.backend.handedOut.at(-1)!;
  await until(`serve's display to be absolute (primary display believes ${rs.display.absolute})`, () => served.absolute, 10_000);
  await until('the page to show tablet mode', async () => (await page.locator('.statusbar').textContent())?.includes('tablet'), 10_000);

  await serial.run(`cat /dev/input/${node} > /tmp/ev & echo $! > /tmp/ev.pid`);
  await sleep(300);

  const surface = rs.display.surface!;
  const W = surface.width,
    H = surface.height;
  const box = await page.getByTestId('screen').evaluate((c: HTMLCanvasElement) => {
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top, width: c.clientWidth, height: c.clientHeight, dpr: window.devicePixelRatio };
  });
  const place = placeSurface('fit', false, { width: Math.round(box.width * box.dpr), height: Math.round(box.height * box.dpr) }, { width: W, height: H });
  const scale = place.w / W / box.dpr; // CSS pixels per guest pixel
  const targets = [
    { x: 7, y: 5 },
    { x: Math.floor(W / 2) + 13, y: Math.floor(H / 3) },
    { x: W - 9, y: H - 4 },
    { x: 300, y: 600 },
  ];
  // Mouse events carry whole CSS pixels: click the one nearest each target pixel's centre, and
  // expect the guest pixel under that point (the target itself when a guest pixel spans >= 1 CSS px).
  const expected: Array<{ x: number; y: number }> = [];
  for (const t of targets) {
    const cx = Math.round(box.left + (place.x + ((t.x + 0.5) * place.w) / W) / box.dpr);
    const cy = Math.round(box.top + (place.y + ((t.y + 0.5) * place.h) / H) / box.dpr);
    const ex = Math.floor((((cx - box.left) * box.dpr - place.x) * W) / place.w);
    const ey = Math.floor((((cy - box.top) * box.dpr - place.y) * H) / place.h);
    if (scale >= 1) assert.deepEqual({ x: ex, y: ey }, t, 'an upscaled guest pixel contains the CSS pixel nearest its centre');
    else assert.ok(Math.abs(ex - t.x) <= Math.ceil(1 / scale) && Math.abs(ey - t.y) <= Math.ceil(1 / scale));
    expected.push({ x: ex, y: ey });
    await page.mouse.move(cx, cy);
    await sleep(150);
    await page.mouse.down();
    await sleep(100);
    await page.mouse.up();
    await sleep(250);
  }
  await sleep(500);
  await serial.run('kill $(cat /tmp/ev.pid)');
  const hex = await serial.run('od -An -v -tx1 /tmp/ev');
  const events = parseEvents(hex);

  let ax = -1,
    ay = -1;
  const presses: Array<{ x: number; y: number }> = [];
  let releases = 0;
  for (const e of events) {
    if (e.type === EV_ABS && e.code === ABS_X) ax = e.value;
    if (e.type === EV_ABS && e.code === ABS_Y) ay = e.value;
    if (e.type === EV_KEY && e.code === BTN_LEFT) {
      if (e.value === 1) presses.push({ x: ax, y: ay });
      else if (e.value === 0) releases++;
    }
  }
  assert.equal(presses.length, targets.length, `BTN_LEFT presses seen in the guest (${events.length} events)`);
  assert.equal(releases, targets.length, 'BTN_LEFT releases seen in the guest');
  const report: string[] = [];
  presses.forEach((p, i) => {
    assert.ok(p.x >= 0 && p.x <= ABS_MAX && p.y >= 0 && p.y <= ABS_MAX, `press ${i} has no position (${p.x}, ${p.y})`);
    // QEMU scales console pixels to the tablet range as x * 0x7fff / width.
    const gx = (p.x * W) / ABS_MAX,
      gy = (p.y * H) / ABS_MAX;
    const t = expected[i];
    report.push(`(${t.x},${t.y}) -> abs (${p.x},${p.y}) = px (${gx.toFixed(2)},${gy.toFixed(2)})`);
    assert.ok(Math.abs(gx - t.x) <= 1 && Math.abs(gy - t.y) <= 1, `click ${i} at guest pixel (${t.x},${t.y}) arrived as (${gx.toFixed(2)},${gy.toFixed(2)})`);
  });
  console.log(
    `# viewport ${viewport.width}x${viewport.height}: surface ${W}x${H} drawn at ${place.w}x${place.h}+${place.x}+${place.y} in a ${box.width}x${box.height} canvas (${scale.toFixed(3)} CSS px per guest px); ${report.join('; ')}`,
  );
  assert.deepEqual(pageErrors, []);
  await page.close();
}

test('clicks on a downscaled canvas reach the guest tablet at the clicked guest pixel, with BTN_LEFT press and release', async () => {
  await clickAndCheck({ width: 1111, height: 777 });
});

test('clicks on an upscaled canvas reach the guest tablet at exactly the targeted guest pixel', async () => {
  await clickAndCheck({ width: 1700, height: 1150 });
});

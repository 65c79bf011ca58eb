// Resolution-change storm with the real guest: on std VGA with no DRM driver (kju.nodrm), the
// guest's /bin/vbe-storm switches the Bochs VBE mode ~100 times a second for 2 s, then settles on
// 800x600 filled with a known pattern. kju's Node-side display and the page (real React app in
// Chromium, through kju serve) must end on that size with exactly QEMU's screendump pixels (and
// the pattern); QEMU and the serving process must not have ballooned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openVmPage, settledViews, startRealServe, until, vmRssKiB, type RealServe } from './helpers/real-serve.js';

const FINAL = { width: 800, height: 600 };
const SWITCHES = 200;
const RATE = 100;

let rs: RealServe;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  rs = await startRealServe({ displayDevice: 'std', appendExtra: 'kju.nodrm', name: 'kju-serve-storm' });
  page = await openVmPage(rs, { errors: pageErrors });
});
after(async () => {
  await rs?.stop();
});

function patternAt(x: number, y: number): [number, number, number] {
  return [x & 255, y & 255, ((x >> 8) * 16 + (y >> 8) * 64 + 7) & 255];
}

test(`${SWITCHES} VBE mode switches at ${RATE}/s: display and page end on the final size, equal to screendump; memory bounded`, async (t) => {
  const serial = rs.guest.serial;
  if ((await serial.run('test -x /bin/vbe-storm; echo $?')).trim() !== '0') {
    t.skip('the demo guest has no /bin/vbe-storm (no C compiler or static libc when it was built)');
    return;
  }
  assert.equal((await serial.run('ls /sys/class/drm 2>/dev/null | grep -c "^card" || true')).trim(), '0', 'kju.nodrm: no DRM card');
  const start = await settledViews(rs, page);
  console.log(`# before the storm: ${start.dump.width}x${start.dump.height} (${rs.display.surface?.transport}), views equal`);

  const sizes: string[] = [];
  const onSurface = (s: { width: number; height: number }) => sizes.push(`${s.width}x${s.height}`);
  rs.display.on('surface', onSurface);
  const qemuPid = rs.guest.qemu.pid;
  const qemuRss0 = vmRssKiB(qemuPid);
  const selfRss0 = process.memoryUsage().rss;
  let qemuPeak = qemuRss0,
    selfPeak = selfRss0;
  const sampler = setInterval(() => {
    qemuPeak = Math.max(qemuPeak, vmRssKiB(qemuPid));
    selfPeak = Math.max(selfPeak, process.memoryUsage().rss);
  }, 50);

  const t0 = Date.now();
  let out: string;
  try {
    out = await serial.run(`vbe-storm -n ${SWITCHES} -r ${RATE} -f ${FINAL.width}x${FINAL.height}`, { timeoutMs: 60_000 });
  } finally {
    clearInterval(sampler);
  }
  assert.match(out, new RegExp(`vbe-storm: done ${SWITCHES} switches in \\d+ ms, final ${FINAL.width}x${FINAL.height}`));
  const stormMs = Date.now() - t0;

  await until('kju display on the final size', () => rs.display.surface?.width === FINAL.width && rs.display.surface.height === FINAL.height, 20_000);
  const end = await settledViews(rs, page, 30_000);
  rs.display.off('surface', onSurface);
  assert.equal(end.dump.width, FINAL.width);
  assert.equal(end.dump.height, FINAL.height);
  assert.equal(await page.getByTestId('resolution').textContent(), `${FINAL.width}×${FINAL.height}`);
  // The pixels are the guest's own pattern, not just "whatever QEMU has".
  for (const [x, y] of [
    [0, 0],
    [255, 255],
    [256, 1],
    [799, 599],
    [400, 300],
    [123, 456],
  ]) {
    const o = (y * FINAL.width + x) * 3;
    assert.deepEqual([...end.canvas.rgb.subarray(o, o + 3)], patternAt(x, y), `page pixel ${x},${y}`);
  }

  assert.equal(rs.guest.qemu.running, true, 'QEMU survived');
  assert.equal(rs.serve.stats().protocolViolations, 0);
  for (const v of rs.serve.viewers()) assert.ok(v.queuedRects <= 64, `a viewer queue holds ${v.queuedRects} rects`);
  const qemuRss1 = vmRssKiB(qemuPid);
  const selfRss1 = process.memoryUsage().rss;
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const distinct = new Set(sizes);
  console.log(
    `# storm: ${SWITCHES} switches in ${stormMs} ms (incl. serial round trip); kju's display saw ${sizes.length} surfaces ` +
      `(${distinct.size} sizes: ${[...distinct].join(', ')}); page drew ${end.canvas.frames} frames in all; ` +
      `QEMU VmRSS ${mib(qemuRss0)} -> peak ${mib(qemuPeak)} -> ${mib(qemuRss1)} MiB; ` +
      `test+serve process RSS ${mib(selfRss0 / 1024)} -> peak ${mib(selfPeak / 1024)} -> ${mib(selfRss1 / 1024)} MiB`,
  );
  assert.ok(sizes.length >= 5, `only ${sizes.length} surfaces reached kju's display during the storm`);
  assert.ok(qemuPeak - qemuRss0 < 200 * 1024, `QEMU grew by ${mib(qemuPeak - qemuRss0)} MiB during the storm`);
  assert.ok(qemuRss1 - qemuRss0 < 100 * 1024, `QEMU kept ${mib(qemuRss1 - qemuRss0)} MiB after the storm`);
  assert.ok(selfPeak - selfRss0 < 300 * 1024 * 1024, `the serving process grew by ${mib((selfPeak - selfRss0) / 1024)} MiB during the storm`);
  assert.deepEqual(pageErrors, []);
});

// The library page's CPU while its one running VM shows a still screen: the real app (app/out/renderer)
// in Chromium, served by a serving child in 'library' mode (listVms + live thumbnails, serve-child.ts).
// The page asks for a thumbnail once a second while visible; the figure is Node + Chromium over the
// window, to read against the idle floor (a row, never asserted).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openChromium } from './browser.js';
import { cpuFigures, meterFor, sleep } from './measure.js';
import { bootRig } from './rig.js';
import type { RunOpts } from './kju-path.js';
import { startWorkload } from './workloads.js';

export const APP_RENDERER = fileURLToPath(new URL('../app/out/renderer', import.meta.url));

export interface LibraryIdleResult {
  nodePct: number;
  browserPct: number;
  qemuPct: number;
  seconds: number;
}

export async function runLibraryIdle(o: RunOpts, log: string[]): Promise<LibraryIdleResult> {
  if (!existsSync(join(APP_RENDERER, 'index.html'))) throw new Error(`${APP_RENDERER}/index.html is missing: run node scripts/build.mjs`);
  const rig = await bootRig({ device: 'virtio-vga', width: 1024, height: 768, vnc: false, siteDir: APP_RENDERER, serving: 'library' });
  try {
    await startWorkload(rig.guest.serial, 'still');
    // no blinking console cursor: the screen does not change at all during the window
    await rig.guest.serial.run('echo 0 > /sys/class/graphics/fbcon/cursor_blink');
    const page = await openChromium(rig.serving.url, log);
    try {
      // start-up (profile, page load, the first thumbnails) takes a few seconds on 2 cores
      await sleep(o.warmupMs + 5000);
      const meter = meterFor({ nodePid: rig.serving.pid, qemuPid: rig.guest.qemu.pid, browserRoot: page.pid });
      const a = meter.snapshot();
      await sleep(o.durationMs);
      const fig = cpuFigures(a, meter.snapshot(), 0);
      return { nodePct: fig.cpuPct.node, browserPct: fig.cpuPct.browser, qemuPct: fig.cpuPct.qemu, seconds: fig.seconds };
    } finally {
      await page.close();
    }
  } finally {
    await rig.close();
    log.push(...rig.log);
  }
}

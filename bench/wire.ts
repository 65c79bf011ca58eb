// Pure helpers for the harness's side channels (no I/O; unit-tested in wire.test.ts):
//  - bench pages report to the bench through console.log lines that Chromium writes to its stderr
//    (`--enable-logging=stderr`), because kju serve's CSP (connect-src 'self') lets the kju page
//    talk to nothing but serve, and the bench must not attach DevTools to the measured browser;
//  - wall-clock calibration, so timestamps taken in Chromium and in the serving Node child can be
//    compared without a round trip between them;
//  - Chromium process kinds from their command lines.

/** The prefix every page report carries in its console message. */
export const REPORT_PREFIX = 'KJUBENCH ';

/**
 * The JSON of a page report from one line of Chromium's stderr, or null if the line is not one.
 * Chromium logs console messages as `[pid:tid:date/time:INFO:CONSOLE:line] "message", source: …`
 * (older builds: `…:INFO:CONSOLE(line)] "message", source: …`); the message is printed raw, and
 * the report is one line of JSON, so it ends at the last `}` of the line.
 */
export function parseReportLine(line: string): unknown {
  if (!line.includes(':CONSOLE')) return null;
  const at = line.indexOf(`"${REPORT_PREFIX}`);
  if (at < 0) return null;
  const start = at + 1 + REPORT_PREFIX.length;
  const end = line.lastIndexOf('}');
  if (end < start) return null;
  try {
    return JSON.parse(line.slice(start, end + 1)) as unknown;
  } catch {
    return null;
  }
}

/**
 * How far a process's high-resolution wall clock (performance.timeOrigin + performance.now()) is
 * from the system clock, in ms. Date.now() floors to whole ms, so at the moment it ticks from d−1
 * to d the system clock is d: reading wall() between the last d−1 and the first d gives
 * wall − d to within one loop iteration (µs). Median over `ticks` edges. Two processes' offsets
 * make their wall clocks comparable without talking to each other. Busy-waits about `ticks` ms:
 * call it outside measured windows.
 */
export function wallOffset(wall: () => number, dateNow: () => number, ticks = 5): number {
  const samples: number[] = [];
  for (let i = 0; i < ticks; i++) {
    const d0 = dateNow();
    let d = d0;
    let w = 0;
    let guard = 0;
    while (d === d0) {
      w = wall();
      d = dateNow();
      // a clock that never ticks must not hang the bench
      if (++guard > 50_000_000) throw new Error('Date.now() did not advance');
    }
    samples.push(w - d);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

/** Chromium process kind from its command line: browser (no --type), renderer, gpu, network, or other. */
export function chromiumKind(cmdline: string): 'browser' | 'renderer' | 'gpu' | 'network' | 'other' {
  const type = /--type=([\w-]+)/.exec(cmdline)?.[1];
  if (!type) return 'browser';
  if (type === 'renderer') return 'renderer';
  if (type === 'gpu-process') return 'gpu';
  if (type === 'utility' && /--utility-sub-type=network\./.test(cmdline)) return 'network';
  return 'other';
}

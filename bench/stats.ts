// Pure helpers of the bench: order statistics and /proc/<pid>/stat parsing. No I/O here, so they
// are unit-tested in stats.test.ts (run with `node --import tsx --test bench/stats.test.ts`).

/** The p-th percentile (0..100) by linear interpolation between closest ranks; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const s = [...samples].sort((a, b) => a - b);
  const pos = (p / 100) * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** user and system time in clock ticks (sysconf(_SC_CLK_TCK), 100 on Linux x86) */
  utime: number;
  stime: number;
}

/**
 * Parses one /proc/<pid>/stat line. `comm` is in parentheses and may itself hold spaces and ')',
 * so the fields are counted from the last ')'. utime and stime are fields 14 and 15 (1-based).
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is not a number in: ${text.slice(0, 80)}`);
    return v;
  };
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: field(4), utime: field(14), stime: field(15) };
}

/** CPU seconds (user + system) of a parsed stat line. */
export function cpuSeconds(s: Pick<ProcStat, 'utime' | 'stime'>, clockTicks = 100): number {
  return (s.utime + s.stime) / clockTicks;
}

/** `a / b`, or NaN when b is 0 (a ratio of nothing is unknown, not infinite). */
export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

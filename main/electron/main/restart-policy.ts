// When to restart a crashed display utility: exponential backoff, and a bounded number of crashes
// within a window, after which the VM's display stays down until the user reopens the window.
// Pure; times are milliseconds from the caller's clock.

export interface RestartPolicyOptions {
  /** first delay */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** crashes tolerated within `windowMs`; one more and we give up */
  maxCrashes?: number;
  windowMs?: number;
}

export class RestartPolicy {
  private crashes: number[] = [];
  private readonly base: number;
  private readonly max: number;
  private readonly maxCrashes: number;
  private readonly windowMs: number;

  constructor(o: RestartPolicyOptions = {}) {
    this.base = o.baseDelayMs ?? 250;
    this.max = o.maxDelayMs ?? 8000;
    this.maxCrashes = o.maxCrashes ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
  }

  /** Records a crash at `now`; returns the delay before the restart, or null to give up. */
  crashed(now: number): number | null {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.maxCrashes) return null;
    return Math.min(this.max, this.base * 2 ** (this.crashes.length - 1));
  }

  /** A deliberate reopen by the user starts afresh. */
  reset(): void {
    this.crashes = [];
  }
}

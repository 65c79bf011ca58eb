// Polling for a condition in tests: never sleep-and-hope.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it gives a truthy value. A probe that throws counts as "not yet" (a guest
 * command reading a file its background job has not written yet fails the first few times): the
 * last error is reported in the timeout's message and as its cause, so a probe that always fails
 * still says why.
 */
export async function until<T>(what: string, probe: () => Promise<T | false | null | undefined> | T | false | null | undefined, ms = 20_000, every = 50): Promise<T> {
  const end = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > end) {
      const why = lastError === undefined ? '' : ` (the last try failed: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(every);
  }
}

// Polling waits with progress at a steady interval and a hard deadline.
import type { Reporter } from "./reporter.ts";
import { sleep as realSleep } from "./retry.ts";

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
export const systemClock: Clock = { now: () => Date.now(), sleep: realSleep };

export interface WaitOptions<T> {
  /** One poll; return `{ done: value }` to stop, or `{ progress: line }` to keep waiting. */
  poll: () => Promise<{ done: T } | { progress: string }>;
  pollMs: number;
  /** Progress is printed at most this often (and always on the first poll). */
  progressMs: number;
  timeoutMs: number;
  reporter: Reporter;
  clock?: Clock;
}

export type WaitResult<T> = { status: "done"; value: T } | { status: "timed_out"; lastProgress: string };

export async function waitFor<T>(options: WaitOptions<T>): Promise<WaitResult<T>> {
  const clock = options.clock ?? systemClock;
  const start = clock.now();
  let lastPrinted = Number.NEGATIVE_INFINITY;
  let lastProgress = "";
  for (;;) {
    const result = await options.poll();
    if ("done" in result) return { status: "done", value: result.done };
    lastProgress = result.progress;
    const elapsed = clock.now() - start;
    if (clock.now() - lastPrinted >= options.progressMs) {
      options.reporter.info(`[${Math.round(elapsed / 1000)}s] ${result.progress}`);
      lastPrinted = clock.now();
    }
    if (elapsed + options.pollMs > options.timeoutMs) return { status: "timed_out", lastProgress };
    await clock.sleep(options.pollMs);
  }
}

// Live status: how often the console asks, when it backs off and when it stops.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiClient, type JobView } from "../src/api.ts";
import { backoffDelay, DEFAULT_POLL_POLICY, watchJob } from "../src/poll.ts";
import { apiError, GOOD_KEY, JOB_ID, jobView, json } from "./fake-api.ts";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A client whose GET /v1/jobs/{id} answers from the list (the last one repeats), with the time of each ask. */
function scripted(answers: Response[]) {
  const asked: number[] = [];
  const fetch = async () => {
    asked.push(Date.now());
    return (answers.length > 1 ? answers.shift()! : answers[0]!).clone();
  };
  return { client: new ApiClient(GOOD_KEY, { fetch: fetch as typeof globalThis.fetch }), asked };
}

describe("backoff", () => {
  it("starts at half a second and grows to at most 8 seconds", () => {
    const delays = Array.from({ length: 10 }, (_, i) => backoffDelay(i));
    expect(delays).toEqual([500, 800, 1280, 2048, 3277, 5243, 8000, 8000, 8000, 8000]);
    expect(DEFAULT_POLL_POLICY.maxMs).toBe(8000);
  });
});

describe("watchJob", () => {
  it("asks less and less often while nothing changes, and stops once the job succeeded", async () => {
    const { client, asked } = scripted([
      ...Array.from({ length: 5 }, () => json(200, jobView("queued"))),
      json(200, jobView("succeeded")),
    ]);
    const seen: JobView["status"][] = [];
    const start = Date.now();
    watchJob(client, JOB_ID, { onUpdate: (j) => seen.push(j.status), onError: () => {} });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked.map((t) => t - start)).toEqual([0, 500, 1300, 2580, 4628, 7905]);
    expect(seen).toEqual(["queued", "queued", "queued", "queued", "queued", "succeeded"]);
  });

  it("starts the backoff over when the status moves", async () => {
    const { client, asked } = scripted([
      json(200, jobView("queued")),
      json(200, jobView("queued")),
      json(200, jobView("processing")),
      json(200, jobView("failed")),
    ]);
    const start = Date.now();
    watchJob(client, JOB_ID, { onUpdate: () => {}, onError: () => {} });
    await vi.advanceTimersByTimeAsync(60_000);
    // queued at 0, queued at 500, processing at 1300 (reset), failed 500 ms later; then silence.
    expect(asked.map((t) => t - start)).toEqual([0, 500, 1300, 1800]);
  });

  it("waits at least the Retry-After of a 503 before asking again", async () => {
    const { client, asked } = scripted([
      apiError(503, "unavailable", "busy", { "retry-after": "7" }),
      json(200, jobView("succeeded")),
    ]);
    const errors: [number, boolean][] = [];
    const start = Date.now();
    watchJob(client, JOB_ID, {
      onUpdate: () => {},
      onError: (e, final) => errors.push([(e as { status: number }).status, final]),
    });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(asked.map((t) => t - start)).toEqual([0, 7000]);
    expect(errors).toEqual([[503, false]]);
  });

  it("gives up on a job that is not there (404) or a key that stopped working (401)", async () => {
    for (const [status, code] of [
      [404, "job_not_found"],
      [401, "unauthorized"],
    ] as const) {
      const { client, asked } = scripted([apiError(status, code, "no")]);
      const errors: boolean[] = [];
      watchJob(client, JOB_ID, { onUpdate: () => {}, onError: (_e, final) => errors.push(final) });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(asked, String(status)).toHaveLength(1);
      expect(errors, String(status)).toEqual([true]);
    }
  });

  it("stops asking when the console lets go of the job", async () => {
    const { client, asked } = scripted([json(200, jobView("processing"))]);
    const stop = watchJob(client, JOB_ID, { onUpdate: () => {}, onError: () => {} });
    await vi.advanceTimersByTimeAsync(2000);
    const before = asked.length;
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(asked).toHaveLength(before);
  });
});

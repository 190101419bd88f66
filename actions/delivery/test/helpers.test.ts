import { ECSClient } from "@aws-sdk/client-ecs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient } from "../src/aws.ts";
import { memoryReporter } from "../src/reporter.ts";
import { withRetry } from "../src/retry.ts";
import { waitFor } from "../src/wait.ts";

function fakeClock() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe("waitFor", () => {
  it("prints progress at the steady interval, not on every poll", async () => {
    const reporter = memoryReporter();
    let polls = 0;
    const result = await waitFor({
      poll: async () => (++polls === 31 ? { done: "ok" } : { progress: `poll ${polls}` }),
      pollMs: 1000,
      progressMs: 10_000,
      timeoutMs: 600_000,
      reporter,
      clock: fakeClock(),
    });
    expect(result).toEqual({ status: "done", value: "ok" });
    expect(reporter.lines).toEqual(["[0s] poll 1", "[10s] poll 11", "[20s] poll 21"]);
  });

  it("stops at the deadline and returns the last progress", async () => {
    const result = await waitFor({
      poll: async () => ({ progress: "running 0/2" }),
      pollMs: 1000,
      progressMs: 60_000,
      timeoutMs: 5000,
      reporter: memoryReporter(),
      clock: fakeClock(),
    });
    expect(result).toEqual({ status: "timed_out", lastProgress: "running 0/2" });
  });
});

describe("withRetry", () => {
  it("retries throttling with growing backoff and returns the first success", async () => {
    const delays: number[] = [];
    const slept: number[] = [];
    let calls = 0;
    const value = await withRetry(
      async () => {
        if (++calls < 4) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
        return "done";
      },
      {
        sleep: async (ms) => {
          slept.push(ms);
        },
        onRetry: (_e, _attempt, delay) => delays.push(delay),
        baseDelayMs: 100,
      },
    );
    expect(value).toBe("done");
    expect(calls).toBe(4);
    // Full jitter: each delay is drawn from [0, 100 · 2^(attempt-1)], and the retry sleeps what it reports.
    expect(slept).toEqual(delays);
    expect(delays).toHaveLength(3);
    delays.forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(100 * 2 ** i);
    });
  });

  // Math.random is pinned here (a mock): no real source of randomness can be made to draw a chosen value.
  it("doubles the jitter window on every retry up to the cap (random pinned to 0.5, then to its maximum)", async () => {
    const run = async (random: number, options: { maxDelayMs?: number } = {}) => {
      const spy = vi.spyOn(Math, "random").mockReturnValue(random);
      const delays: number[] = [];
      try {
        await expect(
          withRetry(
            async () => {
              throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
            },
            {
              attempts: 6,
              baseDelayMs: 100,
              sleep: async () => {},
              onRetry: (_e, _a, delay) => delays.push(delay),
              ...options,
            },
          ),
        ).rejects.toThrow("Rate exceeded");
      } finally {
        spy.mockRestore();
      }
      return delays;
    };
    expect(await run(0.5)).toEqual([50, 100, 200, 400, 800]);
    expect(await run(0.999_999, { maxDelayMs: 500 })).toEqual([100, 200, 400, 500, 500]);
  });

  it("does not retry an error that retrying cannot fix", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error("no such service"), { name: "ServiceNotFoundException" });
        },
        { sleep: async () => {} },
      ),
    ).rejects.toThrow("no such service");
    expect(calls).toBe(1);
  });

  it("gives up after the last attempt with the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error(`busy ${calls}`), { name: "ServiceUnavailable" });
        },
        { attempts: 3, sleep: async () => {} },
      ),
    ).rejects.toThrow("busy 3");
  });
});

describe("createClient", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("points every client at the endpoint override", async () => {
    const ecs = createClient(ECSClient, { region: "eu-west-1", endpoint: "http://127.0.0.1:5999" });
    const endpoint = await ecs.config.endpoint!();
    expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe("http://127.0.0.1:5999");
  });

  it("takes AWS_ENDPOINT_URL when no override is given", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
    const ecs = createClient(ECSClient, { region: "eu-west-1" });
    const endpoint = await ecs.config.endpoint!();
    expect(endpoint.port).toBe(4566);
  });
});

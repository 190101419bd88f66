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
    let calls = 0;
    const value = await withRetry(
      async () => {
        if (++calls < 3) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
        return "done";
      },
      { sleep: async () => {}, onRetry: (_e, _attempt, delay) => delays.push(delay), baseDelayMs: 100 },
    );
    expect(value).toBe("done");
    expect(calls).toBe(3);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
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

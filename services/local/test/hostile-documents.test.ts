import { JobStore } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceEnv, spawnService, startTestStack, submitText, waitFor } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, visibilityTimeoutSeconds: 20 });
});
afterAll(async () => {
  await stack?.stop();
});

const MiB = 1024 * 1024;
const base64 = (chars: number) =>
  Buffer.from(Array.from({ length: Math.ceil((chars * 3) / 4) }, (_, i) => (i * 7919 + (i >> 8)) % 256))
    .toString("base64")
    .slice(0, chars);
const NORMAL =
  "The harbour authority opened a new ferry terminal. Ferry passengers praised the quick boarding. " +
  "The terminal serves three ferry routes to the islands.";

describe("a consumer process given hostile documents", () => {
  it("keeps answering /health and finishes the normal jobs queued behind them", async () => {
    // Before the processor was bounded, the first of these stalled a consumer for about 110 s.
    const hostile = {
      repeated: "a".repeat(MiB),
      blob: base64(MiB),
      pemLines: base64(MiB).replace(/(.{64})/g, "$1\n"),
    };
    const ids: Record<string, string> = {};
    for (const [name, text] of Object.entries(hostile)) {
      ids[name] = (
        (await (await submitText(stack.apiUrl, stack.key, text)).json()) as { jobId: string }
      ).jobId;
    }
    for (let i = 0; i < 3; i++) {
      const res = await submitText(stack.apiUrl, stack.key, `${NORMAL} Sailing ${i}.`);
      ids[`normal${i}`] = ((await res.json()) as { jobId: string }).jobId;
    }
    const store = new JobStore(stack.s3, stack.config.bucket);
    const statuses = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(ids).map(async ([name, id]) => [name, await store.get("acme", id)] as const),
        ),
      );

    const worker = spawnService(
      "services/worker/src/consumer-main.ts",
      serviceEnv(stack, {
        WORKER_METRICS_PORT: "0",
        CONTENT_ENGINE_WORKER_CONCURRENCY: "8",
        CONTENT_ENGINE_PROCESSOR_THREADS: "2",
      }),
    );
    try {
      const port = await waitFor(
        async () =>
          worker.lines.find((l) => l.msg === "worker metrics listening")?.port as number | undefined,
        30_000,
        "the worker's metrics port",
      );
      // /health is probed the whole time, as a liveness probe would (5 s timeout each).
      const probes: Array<number | string> = [];
      let probing = true;
      const prober = (async () => {
        while (probing) {
          probes.push(
            await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) }).then(
              (r) => r.status,
              (e: Error) => e.name,
            ),
          );
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const final = await waitFor(
        async () => {
          const s = await statuses();
          return Object.values(s).every((r) => r?.status === "succeeded" || r?.status === "failed") && s;
        },
        45_000,
        "every job to finish",
      );
      probing = false;
      await prober;

      expect(probes.length).toBeGreaterThan(0);
      expect(
        probes.filter((p) => p !== 200),
        worker.stderr(),
      ).toEqual([]);
      for (let i = 0; i < 3; i++) expect(final[`normal${i}`]?.status).toBe("succeeded");
      // Blobs with no words are the client's fault, with a reason; 64-character lines are read.
      for (const name of ["repeated", "blob"]) {
        expect(final[name]).toMatchObject({
          status: "failed",
          error: { code: "no_text", message: expect.stringMatching(/without a space/) },
        });
      }
      expect(final.pemLines?.status).toBe("succeeded");
    } finally {
      worker.child.kill("SIGKILL");
    }
  });
});

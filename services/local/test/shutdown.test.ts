import type { ChildProcess } from "node:child_process";
import { request } from "node:http";
import { createLogger, JobStore } from "@content-engine/core";
import { startWorkerService } from "@content-engine/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  queueCounts,
  serviceEnv,
  spawnService,
  startTestStack,
  submitText,
  waitFor,
} from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, visibilityTimeoutSeconds: 20 });
});
afterAll(async () => {
  await stack?.stop();
});

const childEnv = (extra: Record<string, string> = {}) => serviceEnv(stack, extra);

const longDocument = (n: number) =>
  Array.from(
    { length: 1500 },
    (_, i) =>
      `Sentence ${i} of document ${n} talks about rivers, bridges and the people who build them with care.`,
  ).join(" ");

describe("SIGTERM", () => {
  it("lets the consumer finish in-flight jobs and exit 0; the rest stay queued and nothing is lost", async () => {
    const ids: string[] = [];
    for (let n = 0; n < 12; n++) {
      const res = await submitText(stack.apiUrl, stack.key, longDocument(n));
      ids.push(((await res.json()) as { jobId: string }).jobId);
    }
    const store = new JobStore(stack.s3, stack.config.bucket);
    const statuses = async () => Promise.all(ids.map(async (id) => (await store.get("acme", id))!.status));

    const worker = spawnService(
      "services/worker/src/consumer-main.ts",
      childEnv({ WORKER_METRICS_PORT: "0", CONTENT_ENGINE_WORKER_CONCURRENCY: "3" }),
    );
    let child: ChildProcess | undefined = worker.child;
    try {
      await waitFor(async () => (await statuses()).includes("succeeded"), 30_000, "a first job to finish");
      worker.child.kill("SIGTERM");
      const code = await worker.exited;
      child = undefined;
      expect(code, worker.stderr()).toBe(0);
      const stopping = worker.lines.find((l) => l.msg === "consumer stopping; finishing in-flight messages");
      expect(stopping?.inFlight).toBeGreaterThan(0);
      expect(worker.lines.some((l) => l.msg === "consumer stopped")).toBe(true);

      const after = await statuses();
      expect(after).not.toContain("failed");
      // Jobs that were in flight finished; none was abandoned half-way.
      expect(after).not.toContain("processing");
      const left = await queueCounts(stack.sqs, stack.config.queueUrl);
      expect(left.visible + left.inFlight).toBe(after.filter((s) => s === "queued").length);
    } finally {
      child?.kill("SIGKILL");
    }

    // A new consumer picks up exactly what was left, and every job succeeds once.
    const next = await startWorkerService(
      { ...stack.config, workerMetricsPort: 0 },
      createLogger("worker", "silent"),
    );
    try {
      await waitFor(
        async () => (await statuses()).every((s) => s === "succeeded"),
        60_000,
        "all jobs to succeed",
      );
      expect((await queueCounts(stack.sqs, stack.dlqUrl)).visible).toBe(0);
    } finally {
      await next.stop();
    }
  });

  it("lets the API finish an upload that is still streaming, refuse new connections, and exit 0", async () => {
    const api = spawnService("services/api/src/main.ts", childEnv({ PORT: "0" }));
    try {
      const listening = await waitFor(
        async () => api.lines.find((l) => l.msg === "api listening"),
        15_000,
        "the API",
      );
      const port = Number(listening.port);

      const upload = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`http://127.0.0.1:${port}/v1/jobs?filename=slow.txt`, {
          method: "POST",
          headers: { ...bearer(stack.key), "content-type": "text/plain", "transfer-encoding": "chunked" },
        });
        req.on("response", (res) => {
          let body = "";
          res.on("data", (d) => {
            body += String(d);
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        let sent = 0;
        const tick = () => {
          req.write(`part ${sent} of a slow upload. `);
          if (++sent === 10) req.end();
          else setTimeout(tick, 100);
        };
        tick();
      });

      await new Promise((r) => setTimeout(r, 250));
      api.child.kill("SIGTERM");
      await waitFor(
        async () => api.lines.some((l) => String(l.msg).startsWith("shutting down")),
        5_000,
        "shutdown",
      );
      const refused = await fetch(`http://127.0.0.1:${port}/health`).then(
        () => false,
        () => true,
      );
      expect(refused).toBe(true);

      const answer = await upload;
      expect(answer.status).toBe(202);
      expect(JSON.parse(answer.body)).toMatchObject({ status: "queued" });
      expect(await api.exited, api.stderr()).toBe(0);
    } finally {
      api.child.kill("SIGKILL");
    }
  });
});

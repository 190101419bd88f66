import { PutObjectCommand } from "@aws-sdk/client-s3";
import {
  createLogger,
  idempotentJobId,
  JobStore,
  keys,
  newJobId,
  uploadMetadata,
} from "@content-engine/core";
import { startWorkerService } from "@content-engine/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsProxy, startAwsProxy } from "../../../test/support/aws-proxy.ts";
import {
  dlqDepth,
  listKeys,
  queueCounts,
  serviceEnv,
  spawnService,
  startTestStack,
  submitText,
  waitFor,
} from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
let proxy: AwsProxy;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, visibilityTimeoutSeconds: 2, maxReceiveCount: 2 });
  proxy = await startAwsProxy(stack.emulatorUrl);
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.stop();
});

const store = () => new JobStore(stack.s3, stack.config.bucket);
const consumerEnv = (extra: Record<string, string> = {}) =>
  serviceEnv(stack, {
    AWS_ENDPOINT_URL: proxy.url,
    WORKER_METRICS_PORT: "0",
    CONTENT_ENGINE_VISIBILITY_TIMEOUT: "2",
    CONTENT_ENGINE_MAX_RECEIVE_COUNT: "2",
    ...extra,
  });
const CONSUMER = "services/worker/src/consumer-main.ts";

describe("no job left behind", () => {
  it("marks a job failed when consumers are SIGKILLed on it past maxReceiveCount, and its message still reaches the DLQ", async () => {
    const res = await submitText(
      stack.apiUrl,
      stack.key,
      "A document whose every attempt dies with its worker.",
    );
    const { jobId } = (await res.json()) as { jobId: string };
    const uploadKey = keys.upload("acme", jobId);
    const dlqBefore = await dlqDepth(stack.sqs, stack.dlqUrl);

    let kills = 0;
    let current = spawnService(CONSUMER, consumerEnv());
    // The moment a consumer starts on the job (reads its upload), it dies, as an OOM kill would do.
    proxy.onCall = ({ operation, key }) => {
      if (operation === "GetObject" && key?.endsWith(uploadKey) && kills < 2) {
        kills++;
        current.child.kill("SIGKILL");
        current = spawnService(CONSUMER, consumerEnv());
      }
    };
    try {
      const failed = await waitFor(
        async () => {
          const record = await store().get("acme", jobId);
          return record?.status === "failed" ? record : undefined;
        },
        30_000,
        "the job to be marked failed",
      );
      expect(kills).toBeGreaterThanOrEqual(1);
      expect(failed.error?.code).toBe("dead_lettered");
      expect(failed.error?.message).toMatch(/operators have been alerted/);
      // The message stays in the DLQ: that is what pages.
      expect(await dlqDepth(stack.sqs, stack.dlqUrl)).toBe(dlqBefore + 1);
      expect(await queueCounts(stack.sqs, stack.config.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      proxy.onCall = () => {};
      current.child.kill("SIGKILL");
    }
  });

  it("re-drives uploads whose message was never sent (the API died between its two writes) until they succeed", async () => {
    const createdAt = new Date(Date.now() - 5000).toISOString();
    const ttl = stack.config.idempotencyTtlSeconds * 1000;
    const orphans = [
      // An ordinary job id (UUIDv7 of its creation time), and an Idempotency-Key's (its window's start).
      { jobId: newJobId(Date.now() - 5000), requestId: "orphan-1" },
      {
        jobId: idempotentJobId("acme", "never-retried", Math.floor(Date.now() / ttl) * ttl),
        requestId: "orphan-2",
      },
    ];
    for (const { jobId, requestId } of orphans) {
      await stack.s3.send(
        new PutObjectCommand({
          Bucket: stack.config.bucket,
          Key: keys.upload("acme", jobId),
          Body: "Orphaned uploads are picked up again by the sweep. Nothing waits forever.",
          ContentType: "text/plain",
          Metadata: uploadMetadata({ filename: "orphan.txt", createdAt, requestId, tasks: ["summary"] }),
        }),
      );
      expect((await store().get("acme", jobId))?.status).toBe("queued");
    }
    const worker = await startWorkerService(
      { ...stack.config, workerMetricsPort: 0, redriveAfterSeconds: 1 },
      createLogger("worker", "silent"),
    );
    try {
      for (const { jobId, requestId } of orphans) {
        const done = await waitFor(
          async () => {
            const record = await store().get("acme", jobId);
            return record?.status === "succeeded" ? record : undefined;
          },
          30_000,
          `the orphan ${requestId} to be re-driven and succeed`,
        );
        expect(done).toMatchObject({ requestId, input: { filename: "orphan.txt" }, tasks: ["summary"] });
        expect((await store().getResult("acme", jobId))?.summary?.length).toBeGreaterThan(0);
      }
    } finally {
      await worker.stop();
    }
  });

  it("finishes the job of an API SIGKILLed between storing the upload and sending its message", async () => {
    const api = spawnService("services/api/src/main.ts", consumerEnv({ PORT: "0" }));
    const before = new Set(await listKeys(stack.s3, stack.config.bucket, "uploads/acme/"));
    let killed = false;
    proxy.fault = ({ service, operation }) => {
      if (service !== "sqs" || !operation.startsWith("SendMessage")) return undefined;
      // The upload is stored; the message never leaves: the process dies right here.
      api.child.kill("SIGKILL");
      killed = true;
      return "reset";
    };
    try {
      const listening = await waitFor(
        async () => api.lines.find((l) => l.msg === "api listening"),
        15_000,
        "the API",
      );
      const answer = await submitText(
        `http://127.0.0.1:${String(listening.port)}`,
        stack.key,
        "Written once, never announced: the sweep must finish it.",
      ).catch((error: unknown) => error);
      expect(answer).toBeInstanceOf(Error);
      expect(killed).toBe(true);
    } finally {
      proxy.fault = () => undefined;
      api.child.kill("SIGKILL");
    }
    const [orphan] = (await listKeys(stack.s3, stack.config.bucket, "uploads/acme/")).filter(
      (k) => !before.has(k),
    );
    const jobId = orphan!.split("/").pop()!;
    expect((await store().get("acme", jobId))?.status).toBe("queued");

    const worker = await startWorkerService(
      { ...stack.config, workerMetricsPort: 0, redriveAfterSeconds: 1 },
      createLogger("worker", "silent"),
    );
    try {
      await waitFor(
        async () => (await store().get("acme", jobId))?.status === "succeeded",
        30_000,
        "the swept job to succeed",
      );
    } finally {
      await worker.stop();
    }
  });

  it("has written the 'job succeeded' line when its message is deleted, so a SIGKILL right after loses no line", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await submitText(
        stack.apiUrl,
        stack.key,
        `Lighthouses guide ships along rocky coasts. Note ${i}.`,
      );
      ids.push(((await res.json()) as { jobId: string }).jobId);
    }
    const consumer = spawnService(CONSUMER, consumerEnv({ CONTENT_ENGINE_WORKER_CONCURRENCY: "6" }));
    // Which job each receipt handle belongs to, and which handles the deletes carried, read off the wire.
    const jobOfHandle = new Map<string, string>();
    const deletedHandles: string[] = [];
    proxy.onSqsExchange = ({ operation }, request, answer) => {
      if (operation === "ReceiveMessage") {
        for (const m of (JSON.parse(answer) as { Messages?: Array<{ ReceiptHandle: string; Body: string }> })
          .Messages ?? []) {
          const body = JSON.parse(m.Body) as { jobId?: string };
          if (body.jobId) jobOfHandle.set(m.ReceiptHandle, body.jobId);
        }
      }
      if (operation === "DeleteMessageBatch") {
        for (const e of (JSON.parse(request) as { Entries: Array<{ ReceiptHandle: string }> }).Entries)
          deletedHandles.push(e.ReceiptHandle);
      }
    };
    let killedAt = -1;
    // Killed the instant its first DeleteMessageBatch reaches the wire (the request is still forwarded).
    proxy.onCall = ({ service, operation }) => {
      if (service === "sqs" && operation === "DeleteMessageBatch" && killedAt < 0) {
        consumer.child.kill("SIGKILL");
        killedAt = Date.now();
      }
    };
    try {
      await consumer.closed;
      expect(killedAt).toBeGreaterThan(0);
      await waitFor(async () => deletedHandles.length > 0, 5000, "the deletes to be forwarded");
      const deleted = deletedHandles.map((h) => jobOfHandle.get(h)).filter((id) => id !== undefined);
      expect(deleted.length).toBeGreaterThan(0);
      const logged = new Set(consumer.lines.filter((l) => l.msg === "job succeeded").map((l) => l.jobId));
      for (const id of deleted) expect(logged.has(id), `log line of ${id}`).toBe(true);
    } finally {
      proxy.onCall = () => {};
      proxy.onSqsExchange = () => {};
      consumer.child.kill("SIGKILL");
    }
    // A fresh consumer finishes the rest (a long poll the kill cut off may have cost a receive, so some
    // may have been dead-lettered: failed, with a reason; none is left behind).
    const next = spawnService(CONSUMER, consumerEnv());
    try {
      await waitFor(
        async () =>
          (await Promise.all(ids.map((id) => store().get("acme", id)))).every(
            (r) => r?.status === "succeeded" || (r?.status === "failed" && r.error !== undefined),
          ),
        30_000,
        "the remaining jobs",
      );
    } finally {
      next.child.kill("SIGKILL");
    }
  });
});

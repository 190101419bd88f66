import type { S3Client } from "@aws-sdk/client-s3";
import { startApiServer } from "@content-engine/api";
import { createLogger, createS3Client, loadConfig } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, listKeys, startTestStack, streamBody, submitText } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false, maxUploadBytes: 8 * 1024 * 1024 });
});
afterAll(async () => {
  await stack?.stop();
});

/** Another API process on the same emulator, with some configuration changed. */
async function apiWith(env: Record<string, string>) {
  const config = loadConfig({
    AWS_REGION: stack.config.region,
    AWS_ENDPOINT_URL: stack.emulatorUrl,
    CONTENT_ENGINE_BUCKET: stack.config.bucket,
    CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl,
    CONTENT_ENGINE_API_KEYS: `${stack.key}:acme`,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    ...env,
  });
  return startApiServer(config, createLogger("api", "silent"));
}

async function everything(s3: S3Client) {
  return {
    uploads: await listKeys(s3, stack.config.bucket, "uploads/"),
    jobs: await listKeys(s3, stack.config.bucket, "jobs/"),
  };
}

describe("when a dependency is down", () => {
  it("answers 503 with Retry-After and removes the stored upload when the queue cannot take the message", async () => {
    const missingQueue = stack.config.queueUrl.replace(/[^/]+$/, "no-such-queue");
    const api = await apiWith({ CONTENT_ENGINE_QUEUE_URL: missingQueue });
    try {
      const before = await everything(stack.s3);
      const res = await submitText(api.url, stack.key, "A document that must not be half-made.");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("queue_unavailable");
      // No upload, no `queued` status left behind: the client can simply retry.
      expect(await everything(stack.s3)).toEqual(before);
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/content_engine_enqueue_failures_total\{stage="send"\} 1/);
    } finally {
      await api.close();
    }
  });

  it("answers 503 storage_unavailable when S3 refuses the upload, and queues nothing", async () => {
    const api = await apiWith({ CONTENT_ENGINE_BUCKET: "no-such-bucket" });
    try {
      const res = await submitText(api.url, stack.key, "Nowhere to go.");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("storage_unavailable");
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/content_engine_enqueue_failures_total\{stage="upload"\} 1/);
      expect(metrics).toMatch(/content_engine_jobs_enqueued_total 0/);
    } finally {
      await api.close();
    }
  });

  it("is not ready, and says which dependency failed, when the queue is missing", async () => {
    const api = await apiWith({ CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl.replace(/[^/]+$/, "gone") });
    try {
      const res = await fetch(`${api.url}/ready`);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      const body = (await res.json()) as {
        checks: { bucket: string; queue: string };
        error: { message: string };
      };
      expect(body.checks.bucket).toBe("ok");
      expect(body.checks.queue).toMatch(/^error: /);
      expect(body.error.message).toBe("the queue does not answer");
    } finally {
      await api.close();
    }
  });

  it("is not ready when nothing answers at the AWS endpoint at all", async () => {
    const api = await apiWith({ AWS_ENDPOINT_URL: "http://127.0.0.1:9" });
    try {
      const res = await fetch(`${api.url}/ready`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        checks: { bucket: string; queue: string };
        error: { message: string };
      };
      expect(body.error.message).toBe("the bucket and queue do not answer");
      expect(body.checks.bucket).toMatch(/^error/);
      expect(body.checks.queue).toMatch(/^error/);
      // And an upload gets a 503, not a hang or a 500.
      const upload = await submitText(api.url, stack.key, "Anyone there?");
      expect(upload.status).toBe(503);
    } finally {
      await api.close();
    }
  });
});

describe("uploads over S3's multipart threshold", () => {
  it("aborts the multipart upload when the limit is crossed mid-stream and leaves no object behind", async () => {
    // 12 MiB against an 8 MiB limit: lib-storage has already started a multipart upload (5 MiB parts).
    const s3 = createS3Client({ region: stack.config.region, endpoint: stack.emulatorUrl });
    const before = await everything(s3);
    const res = await streamBody(
      `${stack.apiUrl}/v1/jobs`,
      { ...bearer(stack.key), "content-type": "text/plain" },
      12 * 1024 * 1024,
    );
    expect(res.status).toBe(413);
    expect(await everything(s3)).toEqual(before);
  });

  it("stores a 6 MiB upload through multipart and reports its exact size", async () => {
    const res = await streamBody(
      `${stack.apiUrl}/v1/jobs?filename=big.txt`,
      { ...bearer(stack.key), "content-type": "text/plain" },
      6 * 1024 * 1024,
    );
    expect(res.status).toBe(202);
    const job = (await (
      await fetch(`${stack.apiUrl}/v1/jobs/${res.body.jobId as string}`, { headers: bearer(stack.key) })
    ).json()) as { input: { size: number } };
    expect(job.input.size).toBe(6 * 1024 * 1024);
  });
});

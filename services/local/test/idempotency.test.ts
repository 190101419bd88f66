import { startApiServer } from "@content-engine/api";
import { createLogger, loadConfig } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listKeys, queueCounts, SECOND_KEY, startTestStack, submitText } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

const submit = (
  key: string,
  idempotencyKey: string,
  text = "A document sent more than once.",
  url = stack.apiUrl,
) => submitText(url, key, text, { headers: { "idempotency-key": idempotencyKey } });

describe("Idempotency-Key on POST /v1/jobs", () => {
  it("returns the first job for a retried upload with the same key, and never makes a second one", async () => {
    const first = await submit(stack.key, "order-1234-upload");
    expect(first.status).toBe(202);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const { jobId } = (await first.json()) as { jobId: string };

    const retried = await submit(stack.key, "order-1234-upload", "A different body: still the first job.");
    expect(retried.status).toBe(202);
    expect(retried.headers.get("idempotent-replayed")).toBe("true");
    expect(retried.headers.get("location")).toBe(`/v1/jobs/${jobId}`);
    expect(((await retried.json()) as { jobId: string }).jobId).toBe(jobId);

    expect(await listKeys(stack.s3, stack.config.bucket, "uploads/acme/")).toContain(`uploads/acme/${jobId}`);
    expect(
      (await listKeys(stack.s3, stack.config.bucket, "uploads/acme/")).filter((k) => k.endsWith(jobId)),
    ).toHaveLength(1);
  });

  it("scopes keys to the tenant: the same key of another tenant is another job", async () => {
    const mine = (await (await submit(stack.key, "shared-key-7")).json()) as { jobId: string };
    const theirs = (await (await submit(SECOND_KEY, "shared-key-7")).json()) as { jobId: string };
    expect(theirs.jobId).not.toBe(mine.jobId);
    expect(await listKeys(stack.s3, stack.config.bucket, `uploads/globex/${theirs.jobId}`)).toHaveLength(1);
  });

  it("refuses a malformed key with 400 invalid_header naming it, and stores nothing", async () => {
    const before = await listKeys(stack.s3, stack.config.bucket, "uploads/");
    const queued = await queueCounts(stack.sqs, stack.config.queueUrl);
    for (const bad of ["x".repeat(256), "has space", ""]) {
      const res = await submitText(stack.apiUrl, stack.key, "text", { headers: { "idempotency-key": bad } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("invalid_header");
      expect(error.message).toContain("idempotency-key");
    }
    expect(await listKeys(stack.s3, stack.config.bucket, "uploads/")).toEqual(before);
    expect(await queueCounts(stack.sqs, stack.config.queueUrl)).toEqual(queued);
  });

  it("forgets a key after its lifetime: the same key then makes a new job", async () => {
    const config = loadConfig({
      AWS_REGION: stack.config.region,
      AWS_ENDPOINT_URL: stack.emulatorUrl,
      CONTENT_ENGINE_BUCKET: stack.config.bucket,
      CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl,
      CONTENT_ENGINE_API_KEYS: `${stack.key}:acme`,
      CONTENT_ENGINE_IDEMPOTENCY_TTL_SECONDS: "1",
      PORT: "0",
      HOST: "127.0.0.1",
    });
    const api = await startApiServer(config, createLogger("api", "silent"));
    try {
      const first = (await (await submit(stack.key, "short-lived", undefined, api.url)).json()) as {
        jobId: string;
      };
      const again = (await (await submit(stack.key, "short-lived", undefined, api.url)).json()) as {
        jobId: string;
      };
      expect(again.jobId).toBe(first.jobId);
      await new Promise((r) => setTimeout(r, 2100));
      const later = (await (await submit(stack.key, "short-lived", undefined, api.url)).json()) as {
        jobId: string;
      };
      expect(later.jobId).not.toBe(first.jobId);
    } finally {
      await api.close();
    }
  });
});

import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { resultSchema } from "@content-engine/api";
import { createLogger, type JobMessage, JobStore, keys } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, queueCounts, startTestStack, submitText, waitFor } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;
const workerLogs: Array<Record<string, unknown>> = [];

const ARTICLE = [
  "Coral reefs cover less than one percent of the ocean floor.",
  "Yet coral reefs support about a quarter of all marine species.",
  "Warming water bleaches the coral and weakens entire reef ecosystems.",
  "Scientists are breeding heat-resistant coral to restore damaged reefs.",
  "Early results from restored reefs are encouraging.",
].join(" ");

beforeAll(async () => {
  stack = await startTestStack({
    visibilityTimeoutSeconds: 2,
    maxReceiveCount: 2,
    workerLogger: createLogger("worker", "info", {
      write: (line: string) => {
        workerLogs.push(JSON.parse(line));
      },
    }),
  });
});
afterAll(async () => {
  await stack?.stop();
});

const jobs = () => new JobStore(stack.s3, stack.config.bucket);
const getJson = async (path: string, key = stack.key) =>
  fetch(`${stack.apiUrl}${path}`, { headers: bearer(key) }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));

async function waitForStatus(jobId: string, status: string, tenant = "acme") {
  return waitFor(
    async () => {
      const record = await jobs().get(tenant, jobId);
      return record?.status === status ? record : undefined;
    },
    20_000,
    `job ${jobId} to be ${status}`,
  );
}

describe("upload → queue → worker → result", () => {
  it("processes an upload in the background and serves the result over HTTP", async () => {
    const res = await submitText(stack.apiUrl, stack.key, ARTICLE, { query: "?filename=reefs.txt" });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };

    const done = await waitFor(
      async () => {
        const { body } = await getJson(`/v1/jobs/${jobId}`);
        return body.status === "succeeded" ? body : undefined;
      },
      20_000,
      "the job to succeed",
    );
    expect(done.updatedAt! > done.createdAt!).toBe(true);

    const { status, body: result } = await getJson(`/v1/jobs/${jobId}/result`);
    expect(status).toBe(200);
    expect(result).toMatchObject({
      jobId,
      processor: "local-nlp",
      tasks: ["summary", "keywords", "sentiment"],
    });
    // The result matches the JobResult schema /openapi.json documents.
    expect(resultSchema.strict().safeParse(result).success).toBe(true);
    for (const sentence of result.summary as string[]) expect(ARTICLE).toContain(sentence);
    expect((result.keywords as Array<{ term: string }>).slice(0, 3).map((k) => k.term)).toContain("coral");
    expect(result.stats).toMatchObject({ sentences: 5 });

    // Another tenant cannot read it, and cannot learn that it exists.
    expect((await getJson(`/v1/jobs/${jobId}/result`, stack.otherKey)).status).toBe(404);
  });

  it("carries the request id from the API through the SQS message into the worker's log lines", async () => {
    const res = await submitText(stack.apiUrl, stack.key, ARTICLE, {
      headers: { "x-request-id": "trace-e2e-42" },
    });
    const { jobId } = (await res.json()) as { jobId: string };
    await waitForStatus(jobId, "succeeded");
    const lines = workerLogs.filter((l) => l.jobId === jobId);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.requestId === "trace-e2e-42")).toBe(true);
    expect(lines.map((l) => l.msg)).toContain("job succeeded");
  });

  it("does no work twice for a redelivered message and keeps the first result", async () => {
    const res = await submitText(stack.apiUrl, stack.key, ARTICLE);
    const { jobId } = (await res.json()) as { jobId: string };
    const record = await waitForStatus(jobId, "succeeded");
    const first = await jobs().getResult("acme", jobId);

    const duplicate: JobMessage = {
      jobId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key: record.input.key,
      contentType: record.input.contentType,
      size: record.input.size,
      tasks: record.tasks,
      requestId: "dup-delivery",
    };
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: JSON.stringify(duplicate) }),
    );
    await waitFor(
      async () =>
        workerLogs.some((l) => l.requestId === "dup-delivery" && /duplicate delivery/.test(String(l.msg))),
      20_000,
      "the duplicate to be seen",
    );
    await waitFor(
      async () => {
        const c = await queueCounts(stack.sqs, stack.config.queueUrl);
        return c.visible + c.inFlight === 0;
      },
      20_000,
      "the queue to drain",
    );

    expect(await jobs().getResult("acme", jobId)).toEqual(first);
    expect((await jobs().get("acme", jobId))?.attempts).toBe(1);
    const metrics = await (await fetch(`${stack.workerUrl}/metrics`)).text();
    expect(metrics).toMatch(/content_engine_jobs_processed_total\{outcome="duplicate"\} [1-9]/);
  });
});

describe("poison messages", () => {
  it("moves a message that is not JSON to the DLQ after maxReceiveCount instead of looping", async () => {
    const before = await queueCounts(stack.sqs, stack.dlqUrl);
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: "{not json" }),
    );
    await waitFor(
      async () => (await queueCounts(stack.sqs, stack.dlqUrl)).visible === before.visible + 1,
      30_000,
      "the DLQ",
    );
    await waitFor(
      async () => {
        const c = await queueCounts(stack.sqs, stack.config.queueUrl);
        return c.visible + c.inFlight === 0;
      },
      10_000,
      "the jobs queue to be empty",
    );
  });

  it("marks a job whose upload is missing failed with a reason, and its message ends in the DLQ", async () => {
    const jobId = crypto.randomUUID();
    const now = new Date().toISOString();
    const key = keys.upload("acme", jobId, "gone.txt");
    await jobs().put({
      jobId,
      tenant: "acme",
      status: "queued",
      createdAt: now,
      updatedAt: now,
      input: { filename: "gone.txt", contentType: "text/plain", size: 10, key },
      tasks: ["summary"],
      requestId: "missing-upload",
      attempts: 0,
    });
    const dlqBefore = (await queueCounts(stack.sqs, stack.dlqUrl)).visible;
    const message: JobMessage = {
      jobId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key,
      contentType: "text/plain",
      size: 10,
      tasks: ["summary"],
      requestId: "missing-upload",
    };
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: JSON.stringify(message) }),
    );

    const failed = await waitForStatus(jobId, "failed");
    expect(failed.error).toEqual({
      code: "upload_missing",
      message: `the uploaded object ${key} does not exist`,
    });
    const { status, body } = await getJson(`/v1/jobs/${jobId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "failed", error: { code: "upload_missing" } });
    const result = await getJson(`/v1/jobs/${jobId}/result`);
    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({ error: { code: "job_failed" } });
    await waitFor(
      async () => (await queueCounts(stack.sqs, stack.dlqUrl)).visible === dlqBefore + 1,
      30_000,
      "the DLQ",
    );
  });
});

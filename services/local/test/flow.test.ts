import { CopyObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { resultSchema } from "@content-engine/api";
import { createLogger, type JobMessage, JobStore, keys, newJobId } from "@content-engine/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  dlqDepth,
  queueCounts,
  startTestStack,
  submitText,
  waitFor,
  waitForEmptyQueue,
} from "./support.ts";

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

const drained = () => waitForEmptyQueue(stack.sqs, stack.config.queueUrl);

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

  it("does no work twice for a job sent again after it finished and keeps the first result", async () => {
    const res = await submitText(stack.apiUrl, stack.key, ARTICLE);
    const { jobId } = (await res.json()) as { jobId: string };
    const record = await waitForStatus(jobId, "succeeded");
    const first = await jobs().getResult("acme", jobId);

    // What an idempotent replay and the sweep send: the same job, marked as possibly finished.
    const duplicate: JobMessage = {
      jobId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key: record.input.key,
      contentType: record.input.contentType,
      size: record.input.size,
      tasks: record.tasks,
      requestId: "dup-delivery",
      redrive: true,
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
    await drained();

    expect(await jobs().getResult("acme", jobId)).toEqual(first);
    expect((await jobs().get("acme", jobId))?.attempts).toBe(1);
    const metrics = await (await fetch(`${stack.workerUrl}/metrics`)).text();
    expect(metrics).toMatch(/content_engine_jobs_processed_total\{outcome="duplicate"\} [1-9]/);
  });
});

describe("documents we cannot process (client faults)", () => {
  it("marks invalid JSON and whitespace-only uploads failed with a reason, acknowledges them once, and sends nothing to the DLQ", async () => {
    const outcomes = async () => {
      const text = await (await fetch(`${stack.workerUrl}/metrics`)).text();
      const count = (outcome: string) =>
        Number(
          text.match(
            new RegExp(`content_engine_jobs_processed_total\\{outcome="${outcome}"\\} (\\d+)`),
          )?.[1] ?? 0,
        );
      return { rejected: count("rejected"), duplicate: count("duplicate"), failed: count("failed") };
    };
    const before = await outcomes();
    const dlqBefore = await dlqDepth(stack.sqs, stack.dlqUrl);

    const invalid = await submitText(stack.apiUrl, stack.key, '{"title": "unterminated', {
      contentType: "application/json",
    });
    const blank = await submitText(stack.apiUrl, stack.key, "  \n\t   \n ");
    expect(invalid.status).toBe(202);
    expect(blank.status).toBe(202);
    const invalidId = ((await invalid.json()) as { jobId: string }).jobId;
    const blankId = ((await blank.json()) as { jobId: string }).jobId;

    expect((await waitForStatus(invalidId, "failed")).error).toEqual({
      code: "invalid_json",
      message: "the uploaded JSON document does not parse",
    });
    expect((await waitForStatus(blankId, "failed")).error?.code).toBe("no_text");
    const { body } = await getJson(`/v1/jobs/${blankId}`);
    expect(body).toMatchObject({ status: "failed", error: { code: "no_text" } });
    expect((await getJson(`/v1/jobs/${invalidId}/result`)).body).toMatchObject({
      error: { code: "job_failed" },
    });

    // Acknowledged, so never redelivered: the queue drains and the DLQ (which pages) stays as it was,
    // even after longer than the visibility timeout × maxReceiveCount.
    await drained();
    await new Promise((r) => setTimeout(r, 5000));
    expect(await queueCounts(stack.sqs, stack.config.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await dlqDepth(stack.sqs, stack.dlqUrl)).toBe(dlqBefore);
    const after = await outcomes();
    expect(after.rejected - before.rejected).toBe(2);
    expect(after.duplicate - before.duplicate).toBe(0);
    expect(after.failed - before.failed).toBe(0);
  });
});

describe("outcomes are counted once", () => {
  it("does not count a redelivery of a job that already failed by a system fault, and lets it go on to the DLQ", async () => {
    const outcomes = async () =>
      (await (await fetch(`${stack.workerUrl}/metrics`)).text()).match(
        /jobs_processed_total\{outcome="(duplicate|failed|rejected)"\} \d+/g,
      );
    const res = await submitText(stack.apiUrl, stack.key, ARTICLE);
    const { jobId } = (await res.json()) as { jobId: string };
    const done = await waitForStatus(jobId, "succeeded");
    await drained();
    // The same job as if its last attempt had given up: a final `failed` record of a system fault.
    const failedId = newJobId();
    await stack.s3.send(
      new CopyObjectCommand({
        Bucket: stack.config.bucket,
        CopySource: `${stack.config.bucket}/${keys.upload("acme", jobId)}`,
        Key: keys.upload("acme", failedId),
      }),
    );
    await jobs().finish({
      ...done,
      jobId: failedId,
      input: { ...done.input, key: keys.upload("acme", failedId) },
      status: "failed",
      error: { code: "retries_exhausted", message: "gave up after 2 attempts" },
    });
    const before = await outcomes();
    const dlqBefore = await dlqDepth(stack.sqs, stack.dlqUrl);
    const message: JobMessage = {
      jobId: failedId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key: keys.upload("acme", failedId),
      contentType: "text/plain",
      size: done.input.size,
      tasks: done.tasks,
      requestId: "redelivered-failed",
      redrive: true,
    };
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: JSON.stringify(message) }),
    );
    await waitFor(async () => (await dlqDepth(stack.sqs, stack.dlqUrl)) === dlqBefore + 1, 30_000, "the DLQ");
    expect(await outcomes()).toEqual(before);
    expect((await jobs().get("acme", failedId))?.error?.code).toBe("retries_exhausted");
  });
});

describe("poison messages", () => {
  it("moves a message that is not JSON to the DLQ after maxReceiveCount instead of looping", async () => {
    const before = await dlqDepth(stack.sqs, stack.dlqUrl);
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: "{not json" }),
    );
    await waitFor(async () => (await dlqDepth(stack.sqs, stack.dlqUrl)) === before + 1, 30_000, "the DLQ");
    await drained();
  });

  it("sends a message whose job has no upload to the DLQ as a system fault, and invents no job", async () => {
    const jobId = newJobId();
    const dlqBefore = await dlqDepth(stack.sqs, stack.dlqUrl);
    const message: JobMessage = {
      jobId,
      tenant: "acme",
      bucket: stack.config.bucket,
      key: keys.upload("acme", jobId),
      contentType: "text/plain",
      size: 10,
      tasks: ["summary"],
      requestId: "missing-upload",
    };
    await stack.sqs.send(
      new SendMessageCommand({ QueueUrl: stack.config.queueUrl, MessageBody: JSON.stringify(message) }),
    );
    await waitFor(async () => (await dlqDepth(stack.sqs, stack.dlqUrl)) === dlqBefore + 1, 30_000, "the DLQ");
    expect(
      workerLogs.some(
        (l) => l.requestId === "missing-upload" && l.msg === "poison message: no upload for this job",
      ),
    ).toBe(true);
    expect((await getJson(`/v1/jobs/${jobId}`)).status).toBe(404);
  });
});

import { randomUUID } from "node:crypto";
import { createLogger, loadConfig } from "@content-engine/core";
import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { settleOpen, startSilentBackend } from "../../core/test/silent-backend.ts";
import { createWorkerRuntime, handleJobRecord, type JobOutcome } from "../src/index.ts";

describe("the worker against a backend that accepts connections and never answers", () => {
  it("gives up on the job's S3 reads and releases the message for SQS to retry", async () => {
    const silent = await startSilentBackend();
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    try {
      // The worker's real runtime: its clients come from the one factory, with its deadlines.
      const runtime = createWorkerRuntime(
        loadConfig({
          AWS_ENDPOINT_URL: silent.url,
          CONTENT_ENGINE_BUCKET: "content-engine-local",
          CONTENT_ENGINE_QUEUE_URL: `${silent.url}/000000000000/jobs`,
          CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: "300",
          CONTENT_ENGINE_AWS_MAX_ATTEMPTS: "2",
        }),
        createLogger("worker", "silent"),
      );
      const outcomes: JobOutcome[] = [];
      const jobId = randomUUID();
      const record = {
        messageId: randomUUID(),
        body: JSON.stringify({
          jobId,
          tenant: "acme",
          bucket: "content-engine-local",
          key: `uploads/acme/${jobId}/document.txt`,
          contentType: "text/plain",
          size: 10,
          tasks: ["summary"],
          requestId: "deadline-test",
        }),
        attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()) },
      } as unknown as SQSRecord;
      const handled = await handleJobRecord(
        record,
        runtime.handlerDeps((outcome) => outcomes.push(outcome)),
      );
      expect(handled).toMatchObject({ outcome: "retried", release: true });
      expect(outcomes).toEqual(["retried"]);
      expect(silent.accepted()).toBe(2);
      expect(await settleOpen(silent)).toBe(0);
      runtime.s3.destroy();
      runtime.sqs.destroy();
    } finally {
      await silent.close();
    }
  });
});

import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { JobStore } from "@content-engine/core";
import { toRecord } from "@content-engine/worker";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestStack, submitText } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

describe("Lambda handler", () => {
  it("processes an SQS batch, reports only the poison record as a batch item failure, and writes EMF metrics", async () => {
    const res = await submitText(
      stack.apiUrl,
      stack.key,
      "The harvest was excellent this year. Farmers celebrated.",
    );
    const { jobId } = (await res.json()) as { jobId: string };
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const queueArn = "arn:aws:sqs:us-east-1:000000000000:content-engine-jobs";
    const good = toRecord(received.Messages![0]!, queueArn, "us-east-1");
    const poison = { ...good, messageId: "poison-1", body: "definitely not json" };

    // The handler reads its configuration from the environment at cold start, as on Lambda.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: stack.emulatorUrl,
      CONTENT_ENGINE_BUCKET: stack.config.bucket,
      CONTENT_ENGINE_QUEUE_URL: stack.config.queueUrl,
      LOG_LEVEL: "silent",
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let response: Awaited<ReturnType<typeof import("@content-engine/worker/lambda").handler>>;
    try {
      const { handler } = await import("@content-engine/worker/lambda");
      const event: SQSEvent = { Records: [good, poison] };
      response = await handler(event);
    } finally {
      spy.mockRestore();
    }

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "poison-1" }]);
    expect((await new JobStore(stack.s3, stack.config.bucket).get("acme", jobId))?.status).toBe("succeeded");

    const emf = written
      .flatMap((w) => w.split("\n"))
      .filter((l) => l.includes('"_aws"'))
      .map(
        (l) =>
          JSON.parse(l) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> };
          },
      );
    const names = emf.flatMap((r) => r._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)));
    expect(names).toEqual(expect.arrayContaining(["JobsProcessed", "JobDuration", "JobQueueWait"]));
    expect(emf.every((r) => r._aws.CloudWatchMetrics[0]!.Namespace === "ContentEngine")).toBe(true);
    expect(
      emf
        .filter((r) => r.JobsProcessed !== undefined)
        .map((r) => r.outcome)
        .sort(),
    ).toEqual(["failed", "succeeded"]);
  });
});

import { PutObjectCommand } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { JobStore, keys, newJobId, uploadMetadata } from "@content-engine/core";
import { toRecord } from "@content-engine/worker";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dlqDepth, startTestStack, submitText } from "./support.ts";

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
      CONTENT_ENGINE_DLQ_URL: stack.dlqUrl,
      CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: "1",
      LOG_LEVEL: "silent",
    });
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    let response: SQSBatchResponse;
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

  it("on its schedule, marks a dead-lettered job failed and re-drives an upload that never got its message", async () => {
    const store = new JobStore(stack.s3, stack.config.bucket);
    // A job whose message died in the DLQ, and an upload whose message was never sent.
    const dead = (await (await submitText(stack.apiUrl, stack.key, "Dead on arrival.")).json()) as {
      jobId: string;
    };
    const [message] =
      (
        await stack.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.config.queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
          }),
        )
      ).Messages ?? [];
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.dlqUrl, MessageBody: message!.Body! }));
    await stack.sqs.send(
      new DeleteMessageCommand({ QueueUrl: stack.config.queueUrl, ReceiptHandle: message!.ReceiptHandle! }),
    );
    const orphanId = newJobId();
    await stack.s3.send(
      new PutObjectCommand({
        Bucket: stack.config.bucket,
        Key: keys.upload("acme", orphanId),
        Body: "Left behind by an API that died.",
        ContentType: "text/plain",
        Metadata: uploadMetadata({
          filename: "orphan.txt",
          createdAt: new Date().toISOString(),
          requestId: "orphan-lambda",
          tasks: ["keywords"],
        }),
      }),
    );
    await new Promise((r) => setTimeout(r, 1500));

    // What the EventBridge schedule sends to the same function.
    const { handler } = await import("@content-engine/worker/lambda");
    const scheduled = {
      version: "0",
      id: "sched-1",
      "detail-type": "Scheduled Event" as const,
      source: "aws.events" as const,
      account: "000000000000",
      time: new Date().toISOString(),
      region: "us-east-1",
      resources: ["arn:aws:events:us-east-1:000000000000:rule/content-engine-dev-worker-recovery"],
      detail: {},
    };
    expect(await handler(scheduled)).toEqual({ markedFailed: 1, redriven: 1 });

    expect((await store.get("acme", dead.jobId))?.error?.code).toBe("dead_lettered");
    // The DLQ keeps its message: it is what pages.
    expect(await dlqDepth(stack.sqs, stack.dlqUrl)).toBe(1);
    const redriven = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: stack.config.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect((redriven.Messages ?? []).map((m) => JSON.parse(m.Body!))).toEqual([
      expect.objectContaining({
        jobId: orphanId,
        tasks: ["keywords"],
        requestId: "orphan-lambda",
        redrive: true,
      }),
    ]);
  });
});

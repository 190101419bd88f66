import { GetObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Client, createSqsClient } from "../src/index.ts";
import { settleOpen, startSilentBackend } from "./silent-backend.ts";

process.env.AWS_ACCESS_KEY_ID ??= "local";
process.env.AWS_SECRET_ACCESS_KEY ??= "local";

describe("AWS clients from the factory", () => {
  let silent: Awaited<ReturnType<typeof startSilentBackend>>;
  beforeAll(async () => {
    silent = await startSilentBackend();
  });
  afterAll(async () => {
    await silent.close();
  });

  const deadlines = { awsRequestTimeoutMs: 300, awsConnectTimeoutMs: 300, awsMaxAttempts: 2 };

  it("give up on an S3 read whose backend never answers, retry once, and close every connection", async () => {
    const s3 = createS3Client({ region: "us-east-1", endpoint: silent.url, ...deadlines });
    const before = silent.accepted();
    const error = await s3.send(new GetObjectCommand({ Bucket: "b", Key: "k" })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe("TimeoutError");
    // Two attempts, each on its own connection, and neither left open.
    expect(silent.accepted() - before).toBe(2);
    expect(await settleOpen(silent)).toBe(0);
    s3.destroy();
  });

  it("give up on an SQS send whose backend never answers", async () => {
    const sqs = createSqsClient({
      region: "us-east-1",
      endpoint: silent.url,
      ...deadlines,
      awsMaxAttempts: 1,
    });
    const error = await sqs
      .send(new SendMessageCommand({ QueueUrl: `${silent.url}/000000000000/jobs`, MessageBody: "{}" }))
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(error?.name).toBe("TimeoutError");
    expect(await settleOpen(silent)).toBe(0);
    sqs.destroy();
  });

  it("let an SQS long poll wait its full WaitTimeSeconds past the request deadline", async () => {
    const emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
    const sqs = createSqsClient({ region: "us-east-1", endpoint: emulator.address, ...deadlines });
    try {
      const queue = await sqs.send(new CreateQueueCommand({ QueueName: "long-poll" }));
      // 1 s of waiting on an empty queue against a 300 ms deadline: an empty answer, not a timeout.
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1 }));
      expect(out.Messages ?? []).toEqual([]);
    } finally {
      sqs.destroy();
      await emulator.stop();
    }
  });
});

// The counting proxy is the instrument behind "AWS requests per job": it must name what the real
// SDK sends, forward it unchanged, and tell an idle long poll from a receive that got a message. It
// is also the flapping backend of the chaos tests: a faulted request must never reach the emulator.
import { randomBytes } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createS3Client, createSqsClient } from "@content-engine/core";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsProxy, countOperations, startAwsProxy } from "../../test/support/aws-proxy.ts";

describe("the counting AWS proxy in front of the fauxqs emulator", () => {
  let emulator: Awaited<ReturnType<typeof startFauxqs>>;
  let proxy: AwsProxy;
  let s3: S3Client;
  let sqs: SQSClient;
  let queueUrl: string;

  beforeAll(async () => {
    emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
    proxy = await startAwsProxy(emulator.address);
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    s3 = createS3Client({ region: "us-east-1", endpoint: proxy.url });
    sqs = createSqsClient({ region: "us-east-1", endpoint: proxy.url });
    await s3.send(new CreateBucketCommand({ Bucket: "proxy-test" }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "proxy-test" }))).QueueUrl!;
  });

  afterAll(async () => {
    s3?.destroy();
    sqs?.destroy();
    await proxy?.stop();
    await emulator?.stop();
  });

  it("counts each S3 and SQS operation the SDK sends, and the answers reach the client unchanged", async () => {
    proxy.reset();
    await s3.send(new PutObjectCommand({ Bucket: "proxy-test", Key: "a/doc.txt", Body: "hello" }));
    const got = await s3.send(new GetObjectCommand({ Bucket: "proxy-test", Key: "a/doc.txt" }));
    expect(await got.Body!.transformToString()).toBe("hello");
    // A multipart upload of two parts (5 MiB, the S3 minimum, and a last small one).
    const target = { Bucket: "proxy-test", Key: "a/big.bin" };
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand(target));
    const parts = [];
    for (const [i, size] of [5 * 1024 * 1024, 1024].entries()) {
      const part = { ...target, UploadId, PartNumber: i + 1 };
      const { ETag } = await s3.send(new UploadPartCommand({ ...part, Body: randomBytes(size) }));
      parts.push({ ETag, PartNumber: i + 1 });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ ...target, UploadId, MultipartUpload: { Parts: parts } }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "job" }));

    expect(countOperations(proxy.calls())).toEqual({
      "s3 PutObject": 1,
      "s3 GetObject": 1,
      "s3 CreateMultipartUpload": 1,
      "s3 UploadPart": 2,
      "s3 CompleteMultipartUpload": 1,
      "sqs SendMessage": 1,
    });
  });

  it("tells a receive that got a message from an empty poll", async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "job" }));
    proxy.reset();
    const first = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: (first.Messages ?? []).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));

    expect(first.Messages?.length).toBeGreaterThan(0);
    expect(second.Messages ?? []).toEqual([]);
    expect(countOperations(proxy.calls())).toEqual({
      "sqs ReceiveMessage": 1,
      "sqs DeleteMessageBatch": 1,
      "sqs ReceiveMessage (empty)": 1,
    });
  });

  it("names the S3 object key of each request, so a test can pick one job's requests", async () => {
    proxy.reset();
    await s3.send(new PutObjectCommand({ Bucket: "proxy-test", Key: "uploads/acme/ä b.txt", Body: "x" }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "job" }));

    expect(proxy.calls().map(({ service, operation, key }) => ({ service, operation, key }))).toEqual([
      { service: "s3", operation: "PutObject", key: "uploads/acme/ä b.txt" },
      { service: "sqs", operation: "SendMessage", key: undefined },
    ]);
  });

  it("answers a faulted S3 request with a 503 the SDK understands, and the object is never written", async () => {
    proxy.reset();
    proxy.fault = ({ operation }) => (operation === "PutObject" ? "fail" : undefined);
    try {
      const error = await s3
        .send(new PutObjectCommand({ Bucket: "proxy-test", Key: "a/faulted.txt", Body: "lost" }))
        .catch(
          (e: unknown) => e as { name: string; $metadata: { httpStatusCode?: number; attempts?: number } },
        );
      expect(error).toMatchObject({ name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } });
      const attempts = (error as { $metadata: { attempts: number } }).$metadata.attempts;
      const head = await s3
        .send(new HeadObjectCommand({ Bucket: "proxy-test", Key: "a/faulted.txt" }))
        .catch((e: unknown) => e as { name: string });
      expect(head).toMatchObject({ name: "NotFound" });

      // Every attempt the SDK made was seen and faulted: none reached the emulator.
      expect(countOperations(proxy.calls())).toEqual({ "s3 PutObject (fail)": attempts, "s3 HeadObject": 1 });
      expect(proxy.calls().filter((call) => !call.fault)).toMatchObject([
        { operation: "HeadObject", status: 404 },
      ]);
    } finally {
      proxy.fault = () => undefined;
    }
  });

  it("drops the connection of a faulted SQS request, and the message is never sent", async () => {
    const queue = (await sqs.send(new CreateQueueCommand({ QueueName: "proxy-test-reset" }))).QueueUrl!;
    proxy.reset();
    proxy.fault = ({ operation }) => (operation === "SendMessage" ? "reset" : undefined);
    try {
      await expect(
        sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: "lost" })),
      ).rejects.toThrow();
    } finally {
      proxy.fault = () => undefined;
    }
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: "0",
    });
    const counts = countOperations(proxy.calls());
    expect(Object.keys(counts)).toEqual(["sqs SendMessage (reset)", "sqs GetQueueAttributes"]);
    expect(counts["sqs SendMessage (reset)"]).toBeGreaterThanOrEqual(1);
  });

  it("hands a test both bodies of each forwarded SQS exchange", async () => {
    const exchanges: Array<{ operation: string; request: string; answer: string }> = [];
    proxy.onSqsExchange = ({ operation }, request, answer) => exchanges.push({ operation, request, answer });
    try {
      const { MessageId } = await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "seen" }),
      );
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0]!.operation).toBe("SendMessage");
      expect(JSON.parse(exchanges[0]!.request)).toMatchObject({ MessageBody: "seen" });
      expect(JSON.parse(exchanges[0]!.answer)).toMatchObject({ MessageId });
    } finally {
      proxy.onSqsExchange = () => {};
    }
  });
});

import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createSqsClient, type JobMessage, newJobId } from "@content-engine/core";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsProxy, startAwsProxy } from "../../../test/support/aws-proxy.ts";
import { createMessageSender } from "../src/message-sender.ts";

let emulator: Awaited<ReturnType<typeof startFauxqs>>;
let sqs: SQSClient;
let queueUrl: string;
let proxy: AwsProxy;
/** The SQS operations that reached the emulator since the last proxy.reset(), with their entry counts. */
const batches: number[] = [];
const calls = () => proxy.calls().map((c) => c.operation);

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  // The sender's requests go through a counting proxy to the emulator, which answers them for real.
  proxy = await startAwsProxy(emulator.address, {
    onSqsExchange: (call, request) => {
      if (call.operation === "SendMessageBatch")
        batches.push((JSON.parse(request) as { Entries: unknown[] }).Entries.length);
    },
  });
  sqs = createSqsClient({ region: "us-east-1", endpoint: proxy.url });
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "sender-test" }))).QueueUrl!;
});
afterAll(async () => {
  await proxy?.stop();
  await emulator?.stop();
});

const message = (requestId: string): JobMessage => {
  const jobId = newJobId();
  return {
    jobId,
    tenant: "acme",
    bucket: "b",
    key: `uploads/acme/${jobId}`,
    contentType: "text/plain",
    size: 1,
    tasks: ["summary"],
    requestId,
  };
};

async function drain(): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return bodies;
    bodies.push(...out.Messages.map((m) => (JSON.parse(m.Body!) as JobMessage).requestId));
  }
}

describe("job message sender", () => {
  it("sends a lone message at once, and groups the messages that arrive while a call is in flight", async () => {
    const send = createMessageSender(sqs, queueUrl, { maxInFlight: 1 });
    proxy.reset();
    batches.length = 0;
    await send(message("alone"));
    expect(calls()).toEqual(["SendMessageBatch"]);
    expect(batches).toEqual([1]);

    proxy.reset();
    batches.length = 0;
    await Promise.all(Array.from({ length: 23 }, (_, i) => send(message(`busy-${i}`))));
    // The first goes alone; the 22 that queued behind it go ten at a time.
    expect(calls()).toEqual(["SendMessageBatch", "SendMessageBatch", "SendMessageBatch", "SendMessageBatch"]);
    expect(batches).toEqual([1, 10, 10, 2]);
    expect((await drain()).sort()).toEqual(
      ["alone", ...Array.from({ length: 23 }, (_, i) => `busy-${i}`)].sort(),
    );
  });

  it("fails only the request whose entry SQS refused, not the others of its batch", async () => {
    const send = createMessageSender(sqs, queueUrl, { maxInFlight: 1 });
    // U+FFFF is a character SQS refuses in a message body: the emulator fails that entry alone.
    const results = await Promise.allSettled([
      send(message("first")),
      send(message("ok-1")),
      send(message("refused \uffff")),
      send(message("ok-2")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(
      /SQS refused the message: InvalidMessageContents/,
    );
    expect((await drain()).sort()).toEqual(["first", "ok-1", "ok-2"]);
  });

  it("retries a batch the queue answered with 503 (the SQS client's retry strategy) and loses no message", async () => {
    const send = createMessageSender(sqs, queueUrl, { maxInFlight: 1 });
    proxy.reset();
    let failed = 0;
    proxy.fault = (call) => {
      if (call.operation !== "SendMessageBatch" || failed > 0) return undefined;
      failed++;
      return "fail";
    };
    try {
      await Promise.all([send(message("r-1")), send(message("r-2"))]);
    } finally {
      proxy.fault = () => undefined;
    }
    expect(failed).toBe(1);
    expect(proxy.calls().map((c) => [c.operation, c.fault ?? "forwarded"])).toEqual([
      ["SendMessageBatch", "fail"],
      ["SendMessageBatch", "forwarded"], // r-1's batch again, after the strategy's backoff
      ["SendMessageBatch", "forwarded"], // r-2, which waited for the one call in flight
    ]);
    expect((await drain()).sort()).toEqual(["r-1", "r-2"]);
  });

  it("fails every waiting request when the queue does not answer at all", async () => {
    const send = createMessageSender(sqs, queueUrl.replace(/[^/]+$/, "no-such-queue"), { maxInFlight: 1 });
    const results = await Promise.allSettled([send(message("a")), send(message("b")), send(message("c"))]);
    expect(results.every((r) => r.status === "rejected")).toBe(true);
  });
});

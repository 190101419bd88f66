import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { createSqsClient, type JobMessage, newJobId } from "@content-engine/core";
import { mockClient } from "aws-sdk-client-mock";
import { startFauxqs } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMessageSender } from "../src/message-sender.ts";

let emulator: Awaited<ReturnType<typeof startFauxqs>>;
let sqs: SQSClient;
let queueUrl: string;
const calls: string[] = [];

beforeAll(async () => {
  emulator = await startFauxqs({ port: 0, host: "localhost", logger: false });
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  sqs = createSqsClient({ region: "us-east-1", endpoint: emulator.address });
  // Records which SQS operations the sender calls (the emulator answers them for real).
  sqs.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize" },
  );
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "sender-test" }))).QueueUrl!;
});
afterAll(async () => {
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
    calls.length = 0;
    const send = createMessageSender(sqs, queueUrl, { maxInFlight: 1 });
    await send(message("alone"));
    expect(calls).toEqual(["SendMessageCommand"]);

    calls.length = 0;
    await Promise.all(Array.from({ length: 23 }, (_, i) => send(message(`busy-${i}`))));
    // The first goes alone; the 22 that queued behind it go ten at a time.
    expect(calls).toEqual([
      "SendMessageCommand",
      "SendMessageBatchCommand",
      "SendMessageBatchCommand",
      "SendMessageBatchCommand",
    ]);
    expect((await drain()).sort()).toEqual(
      ["alone", ...Array.from({ length: 23 }, (_, i) => `busy-${i}`)].sort(),
    );
  });

  it("fails only the request whose entry SQS refused, not the others of its batch (SQS mocked: no emulator refuses one entry)", async () => {
    const mocked = mockClient(SQSClient);
    mocked.on(SendMessageCommand).resolves({ MessageId: "m-first" });
    mocked.on(SendMessageBatchCommand).callsFake((input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.filter((e) => e.Id !== "1").map((e) => ({
        Id: e.Id,
        MessageId: `m-${e.Id}`,
      })),
      Failed: [{ Id: "1", SenderFault: false, Code: "InternalError", Message: "try again" }],
    }));
    try {
      const send = createMessageSender(new SQSClient({ region: "us-east-1" }), queueUrl, { maxInFlight: 1 });
      const results = await Promise.allSettled([
        send(message("first")),
        send(message("ok-1")),
        send(message("refused")),
        send(message("ok-2")),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
      expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(
        /SQS refused the message: InternalError/,
      );
    } finally {
      mocked.restore();
    }
  });

  it("fails every waiting request when the queue does not answer at all", async () => {
    const send = createMessageSender(sqs, queueUrl.replace(/[^/]+$/, "no-such-queue"), { maxInFlight: 1 });
    const results = await Promise.allSettled([send(message("a")), send(message("b")), send(message("c"))]);
    expect(results.every((r) => r.status === "rejected")).toBe(true);
  });
});

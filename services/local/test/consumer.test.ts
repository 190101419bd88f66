import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { createLogger } from "@content-engine/core";
import { startConsumer } from "@content-engine/worker";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, waitFor, waitForEmptyQueue } from "./support.ts";

type Stack = Awaited<ReturnType<typeof startTestStack>>;
let stack: Stack;

beforeAll(async () => {
  // A 2-second visibility timeout: without the heartbeat, a 5-second job would be redelivered twice.
  stack = await startTestStack({ worker: false, visibilityTimeoutSeconds: 2 });
});
afterAll(async () => {
  await stack?.stop();
});

async function send(count: number, tag: string) {
  for (let i = 0; i < count; i += 10) {
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.config.queueUrl,
        Entries: Array.from({ length: Math.min(10, count - i) }, (_, j) => ({
          Id: String(j),
          MessageBody: `${tag}-${i + j}`,
        })),
      }),
    );
  }
}

const drained = () => waitForEmptyQueue(stack.sqs, stack.config.queueUrl, 30_000);

describe("long-poll consumer", () => {
  it("keeps a job that outlasts the visibility timeout invisible, so it runs once, then deletes it", async () => {
    const seen: string[] = [];
    const consumer = startConsumer({
      sqs: stack.sqs,
      queueUrl: stack.config.queueUrl,
      region: stack.config.region,
      concurrency: 2,
      visibilityTimeoutSeconds: 2,
      waitTimeSeconds: 1,
      shutdownTimeoutMs: 10_000,
      logger: createLogger("worker", "silent"),
      handleBatch: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        for (const r of event.Records) seen.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
        await new Promise((r) => setTimeout(r, 5000));
        return { batchItemFailures: [] };
      },
    });
    try {
      await send(1, "slow");
      await waitFor(async () => seen.length > 0, 10_000, "the message");
      // Long enough for two redeliveries had the heartbeat not kept the message invisible.
      await drained();
      expect(seen).toEqual(["slow-0#1"]);
    } finally {
      await consumer.stop();
    }
  });

  it("never has more messages in flight than its concurrency, and deletes only what succeeded", async () => {
    let inFlight = 0;
    let peak = 0;
    const attempts = new Map<string, number>();
    const consumer = startConsumer({
      sqs: stack.sqs,
      queueUrl: stack.config.queueUrl,
      region: stack.config.region,
      concurrency: 4,
      visibilityTimeoutSeconds: 1,
      waitTimeSeconds: 1,
      shutdownTimeoutMs: 10_000,
      logger: createLogger("worker", "silent"),
      handleBatch: async (event: SQSEvent): Promise<SQSBatchResponse> => {
        inFlight += event.Records.length;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 50));
        inFlight -= event.Records.length;
        const failures: SQSBatchResponse["batchItemFailures"] = [];
        for (const r of event.Records) {
          const n = (attempts.get(r.body) ?? 0) + 1;
          attempts.set(r.body, n);
          // Every fifth message fails once, then succeeds on redelivery.
          if (Number(r.body.split("-")[1]) % 5 === 0 && n === 1)
            failures.push({ itemIdentifier: r.messageId });
        }
        return { batchItemFailures: failures };
      },
    });
    try {
      await send(30, "msg");
      await waitFor(
        async () => attempts.size === 30 && [...attempts.values()].reduce((a, b) => a + b) === 36,
        30_000,
        "all messages",
      );
      await drained();
      expect(peak).toBeLessThanOrEqual(4);
      expect(peak).toBeGreaterThan(1);
      for (const [body, n] of attempts) expect(n, body).toBe(Number(body.split("-")[1]) % 5 === 0 ? 2 : 1);
    } finally {
      await consumer.stop();
    }
  });
});

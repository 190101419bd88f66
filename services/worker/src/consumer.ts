import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "@content-engine/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { toRecord } from "./sqs-record.ts";

export interface ConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  region: string;
  /** The same batch handler the Lambda runs. */
  handleBatch: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Messages in flight at most. */
  concurrency: number;
  /** Seconds; in-flight messages get their visibility extended to this before it runs out. */
  visibilityTimeoutSeconds: number;
  /** Long-poll wait per ReceiveMessage (1-20 s). */
  waitTimeSeconds?: number;
  /** How long `stop()` waits for in-flight work before it gives up. */
  shutdownTimeoutMs: number;
  logger: Logger;
}

export interface Consumer {
  /** Stop receiving, finish what is in flight, then resolve. */
  stop(): Promise<void>;
  readonly running: boolean;
  readonly inFlight: number;
}

/**
 * The long-poll consumer for EKS and the local stack: receives up to 10 messages at a time while
 * fewer than `concurrency` are in flight, runs them through the Lambda's batch handler, deletes what
 * succeeded, keeps long jobs invisible with a heartbeat, and backs failed ones off exponentially
 * (2^receiveCount seconds, at most the visibility timeout) before the next attempt.
 */
export function startConsumer(options: ConsumerOptions): Consumer {
  const { sqs, queueUrl, logger } = options;
  const queueArn = arnFromQueueUrl(queueUrl, options.region);
  const batches = new Set<Promise<void>>();
  let inFlight = 0;
  let running = true;
  let receiveAbort: AbortController | undefined;
  let wakeUp: (() => void) | undefined;

  const waitForCapacity = () =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
    });

  const runBatch = async (messages: Message[]): Promise<void> => {
    const records = messages.map((m) => toRecord(m, queueArn, options.region));
    const heartbeat = setInterval(
      () => {
        void changeVisibility(sqs, queueUrl, messages, () => options.visibilityTimeoutSeconds).catch(
          (error) => logger.warn({ err: error }, "could not extend message visibility"),
        );
      },
      // A third of the timeout leaves two chances to extend before a busy event loop loses the race.
      Math.max(200, (options.visibilityTimeoutSeconds * 1000) / 3),
    );
    try {
      const response = await options.handleBatch({ Records: records });
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.MessageId!));
      const retry = messages.filter((m) => failed.has(m.MessageId!));
      if (done.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
      if (retry.length > 0) {
        await changeVisibility(sqs, queueUrl, retry, (m) =>
          Math.min(
            options.visibilityTimeoutSeconds,
            2 ** Number(m.Attributes?.ApproximateReceiveCount ?? "1"),
          ),
        );
      }
    } catch (error) {
      // Nothing was deleted: every message comes back after its visibility timeout.
      logger.error({ err: error }, "batch failed; messages will be redelivered");
    } finally {
      clearInterval(heartbeat);
    }
  };

  const loop = async (): Promise<void> => {
    while (running) {
      const capacity = options.concurrency - inFlight;
      if (capacity <= 0) {
        await waitForCapacity();
        continue;
      }
      receiveAbort = new AbortController();
      let messages: Message[] = [];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, capacity),
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
          { abortSignal: receiveAbort.signal },
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!running) break;
        logger.error({ err: error }, "ReceiveMessage failed; retrying in 1 s");
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      inFlight += messages.length;
      const batch = runBatch(messages).finally(() => {
        inFlight -= messages.length;
        batches.delete(batch);
        wakeUp?.();
      });
      batches.add(batch);
    }
  };

  const looping = loop();
  logger.info({ queueUrl, concurrency: options.concurrency }, "consumer started");

  return {
    get running() {
      return running;
    },
    get inFlight() {
      return inFlight;
    },
    async stop() {
      if (!running) return looping;
      running = false;
      receiveAbort?.abort();
      wakeUp?.();
      logger.info({ inFlight }, "consumer stopping; finishing in-flight messages");
      const drained = Promise.allSettled([...batches]);
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), options.shutdownTimeoutMs).unref()),
      ]);
      if (timedOut) logger.warn({ inFlight }, "shutdown timeout: unfinished messages return to the queue");
      await looping;
      logger.info("consumer stopped");
    },
  };
}

async function changeVisibility(
  sqs: SQSClient,
  queueUrl: string,
  messages: Message[],
  seconds: (m: Message) => number,
): Promise<void> {
  await sqs.send(
    new ChangeMessageVisibilityBatchCommand({
      QueueUrl: queueUrl,
      Entries: messages.map((m, i) => ({
        Id: String(i),
        ReceiptHandle: m.ReceiptHandle!,
        VisibilityTimeout: Math.round(seconds(m)),
      })),
    }),
  );
}

function arnFromQueueUrl(queueUrl: string, region: string): string {
  const [, account = "000000000000", name = "queue"] = new URL(queueUrl).pathname.split("/");
  return `arn:aws:sqs:${region}:${account}:${name}`;
}

import type { SQSClient } from "@aws-sdk/client-sqs";
import { type DirectMessageBatchEntry, type JobMessage, sendMessageBatchDirect } from "@content-engine/core";
import type { JobMessageSender } from "./jobs-service.ts";

export interface MessageSenderOptions {
  /** SendMessage(Batch) calls in flight at most; further messages wait and go in the next batch. */
  maxInFlight?: number;
}

/** SQS's limits per SendMessageBatch call. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

/**
 * Sends job messages, grouping concurrent requests into SendMessageBatch calls without waiting for a
 * batch to fill (group commit): a message goes out at once while fewer than `maxInFlight` calls are
 * in flight, otherwise it joins the next batch, sent as soon as a call returns. So an idle API adds
 * no latency, a busy one sends up to ten messages per request. Each message gets its own answer:
 * an entry SQS refused fails only its own upload.
 */
export function createMessageSender(
  sqs: SQSClient,
  queueUrl: string,
  options: MessageSenderOptions = {},
): JobMessageSender {
  const maxInFlight = options.maxInFlight ?? 4;
  interface Waiting {
    message: JobMessage;
    body: string;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  const waiting: Waiting[] = [];
  let inFlight = 0;

  const takeBatch = (): Waiting[] => {
    const batch: Waiting[] = [];
    let bytes = 0;
    while (waiting.length > 0 && batch.length < MAX_ENTRIES) {
      const next = waiting[0]!;
      if (batch.length > 0 && bytes + next.body.length > MAX_BATCH_BYTES) break;
      bytes += next.body.length;
      batch.push(waiting.shift()!);
    }
    return batch;
  };

  /**
   * Sends one batch; answers, per message, the error SQS gave it (undefined: accepted). A lone message
   * is a batch of one: through the direct path it costs the same as SendMessage.
   */
  const send = async (batch: Waiting[]): Promise<Array<Error | undefined>> => {
    const entries: DirectMessageBatchEntry[] = batch.map((w, i) => ({
      Id: String(i),
      MessageBody: w.body,
      MessageAttributes: { requestId: { DataType: "String", StringValue: w.message.requestId } },
    }));
    const out = await sendMessageBatchDirect(sqs, { QueueUrl: queueUrl, Entries: entries });
    const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
    const accepted = new Set((out.Successful ?? []).map((s) => s.Id));
    return batch.map((_, i) => {
      const f = failed.get(String(i));
      if (f) return new Error(`SQS refused the message: ${f.Code ?? "error"} ${f.Message ?? ""}`.trim());
      return accepted.has(String(i)) ? undefined : new Error("SQS did not answer for the message");
    });
  };

  const pump = (): void => {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const batch = takeBatch();
      inFlight++;
      // The slot is free before anyone hears back, so their next message can go at once.
      send(batch).then(
        (errors) => {
          inFlight--;
          batch.forEach((w, i) => {
            const error = errors[i];
            if (error) w.reject(error);
            else w.resolve();
          });
          pump();
        },
        (error: unknown) => {
          inFlight--;
          for (const w of batch) w.reject(error);
          pump();
        },
      );
    }
  };

  return (message) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ message, body: JSON.stringify(message), resolve, reject });
      pump();
    });
}

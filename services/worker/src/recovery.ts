import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { JobMessage, JobStore, Logger } from "@content-engine/core";
import { parseMessage } from "./job-handler.ts";

/** What the dead-letter handler did with one message. */
export type DeadLetterAction = "marked_failed" | "already_final" | "no_job" | "poison";

/**
 * Makes a dead-lettered job read `failed`. The worker marks a job failed on its last receive, but a
 * process killed during that receive never does; the message still reaches the DLQ, and this is
 * where the job gets its final state. The message itself stays in the DLQ: it is what pages and what
 * an operator redrives. Idempotent: a job that has a final record keeps it.
 */
export async function markDeadLettered(
  body: string,
  deps: { jobs: JobStore; logger: Logger; now?: () => Date; maxReceiveCount?: number },
): Promise<DeadLetterAction> {
  const message = parseMessage(body);
  if (!message.ok) return "poison";
  const job = message.value;
  const log = deps.logger.child({ requestId: job.requestId, jobId: job.jobId, tenant: job.tenant });
  if (await deps.jobs.getFinal(job.tenant, job.jobId)) return "already_final";
  const queued = await deps.jobs.getQueued(job.tenant, job.jobId);
  // No upload: the job never existed for any client (its ingest was rolled back); nothing to mark.
  if (!queued) return "no_job";
  await deps.jobs.finish({
    ...queued,
    tasks: job.tasks,
    status: "failed",
    attempts: deps.maxReceiveCount ?? queued.attempts,
    updatedAt: (deps.now?.() ?? new Date()).toISOString(),
    error: {
      code: "dead_lettered",
      message: "the job could not be processed after repeated attempts; the operators have been alerted",
    },
  });
  log.error("dead-lettered job marked failed");
  return "marked_failed";
}

export interface DeadLetterWatcherOptions {
  sqs: SQSClient;
  dlqUrl: string;
  jobs: JobStore;
  logger: Logger;
  maxReceiveCount?: number;
  /** Pause between looks at the DLQ. */
  pollIntervalMs?: number;
}

/** What the dead-letter handler remembers between looks. */
export interface DeadLetterState {
  /** Message ids already handled (bounded), so each costs one check only. */
  handled: Set<string>;
  /** The DLQ's depth at the last look: receives happen only when it grows. */
  depth: number;
}

export function newDeadLetterState(): DeadLetterState {
  return { handled: new Set(), depth: 0 };
}

/** Message ids remembered (bounded). */
const REMEMBERED = 10_000;

/**
 * One look at the DLQ: when its depth has grown since the last look, marks the jobs of the new
 * dead-lettered messages failed. It peeks (`VisibilityTimeout: 0`), so the messages stay visible in
 * the DLQ; and it receives only when messages arrive, because every receive counts against a
 * message's receive count (SQS's ApproximateAgeOfOldestMessage skips messages received 3+ times).
 * Returns how many jobs it marked failed.
 */
export async function checkDeadLetterQueue(
  options: Omit<DeadLetterWatcherOptions, "pollIntervalMs">,
  state: DeadLetterState = newDeadLetterState(),
): Promise<number> {
  const { sqs, dlqUrl, logger } = options;
  let depth: number;
  try {
    const out = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: dlqUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    depth =
      Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  } catch (error) {
    logger.warn({ err: error }, "cannot read the DLQ; will look again");
    return 0;
  }
  if (depth <= state.depth) {
    state.depth = depth;
    return 0;
  }
  let marked = 0;
  let failures = 0;
  // A few receives: SQS returns a sample of at most ten messages per call.
  for (let round = 0; round < 5; round++) {
    let messages: Message[];
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      messages = (out.Messages ?? []).filter((m) => !state.handled.has(m.MessageId!));
    } catch (error) {
      logger.warn({ err: error }, "cannot read the DLQ; will look again");
      failures++;
      break;
    }
    if (messages.length === 0) break;
    await Promise.all(
      messages.map(async (m) => {
        try {
          const action = await markDeadLettered(m.Body ?? "", options);
          if (action === "marked_failed") marked++;
          logger.info({ messageId: m.MessageId, action }, "dead-lettered message handled");
          state.handled.add(m.MessageId!);
          if (state.handled.size > REMEMBERED) state.handled.delete(state.handled.values().next().value!);
        } catch (error) {
          failures++;
          logger.warn({ err: error, messageId: m.MessageId }, "cannot mark a dead-lettered job; will retry");
        }
      }),
    );
  }
  // Anything left to do is looked at again next time.
  state.depth = failures > 0 ? 0 : depth;
  return marked;
}

/**
 * The consumer's dead-letter handler: `checkDeadLetterQueue` every few seconds. The messages stay
 * visible in the DLQ, for the alarm that pages and for the operator who redrives them.
 */
export function startDeadLetterWatcher(options: DeadLetterWatcherOptions): { stop(): Promise<void> } {
  const state = newDeadLetterState();
  let running = true;
  let wake: (() => void) | undefined;
  const pause = () =>
    new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, options.pollIntervalMs ?? 5000).unref();
    });
  const loop = async () => {
    while (running) {
      await checkDeadLetterQueue(options, state);
      if (running) await pause();
    }
  };
  const looping = loop();
  return {
    async stop() {
      running = false;
      wake?.();
      await looping;
    },
  };
}

export interface SweepOptions {
  sqs: SQSClient;
  queueUrl: string;
  bucket: string;
  jobs: JobStore;
  logger: Logger;
  /** An upload this old without a final record is re-driven. */
  stalledAfterMs: number;
  /** How far back a sweep looks for ordinary ids (a few sweep intervals: each upload is listed a few times). */
  lookbackMs: number;
  /** The Idempotency-Key window: keyed ids carry their window's start, so those two instants are listed too. */
  idempotencyTtlMs: number;
  now?: () => Date;
}

/**
 * Re-drives jobs whose upload has been waiting longer than `stalledAfterMs` with no final record:
 * the API died between storing the upload and sending its message, or a rolled-back upload could
 * not be deleted. The new message is marked `redrive`, so a job that was only slow is not done twice.
 * Returns the ids re-driven.
 */
export async function sweepStalledJobs(options: SweepOptions): Promise<string[]> {
  const now = (options.now?.() ?? new Date()).getTime();
  const ttl = options.idempotencyTtlMs;
  const window = Math.floor(now / ttl) * ttl;
  const pending = await options.jobs.listPending([
    { from: new Date(now - options.lookbackMs), to: new Date(now - options.stalledAfterMs) },
    { from: new Date(window - ttl), to: new Date(window - ttl) },
    { from: new Date(window), to: new Date(window) },
  ]);
  const redriven: string[] = [];
  for (const p of pending) {
    if (now - p.lastModified.getTime() < options.stalledAfterMs) continue;
    const record = await options.jobs.getQueued(p.tenant, p.jobId);
    if (!record) continue;
    const message: JobMessage = {
      jobId: record.jobId,
      tenant: record.tenant,
      bucket: options.bucket,
      key: record.input.key,
      contentType: record.input.contentType,
      size: record.input.size,
      tasks: record.tasks,
      requestId: record.requestId || "sweep",
      redrive: true,
    };
    await options.sqs.send(
      new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: JSON.stringify(message) }),
    );
    options.logger.warn({ jobId: p.jobId, tenant: p.tenant }, "stalled job re-driven");
    redriven.push(p.jobId);
  }
  return redriven;
}

/** The sweep's windows from configuration. */
export function sweepWindow(config: { redriveAfterSeconds: number; idempotencyTtlSeconds: number }): {
  stalledAfterMs: number;
  lookbackMs: number;
  idempotencyTtlMs: number;
} {
  return {
    stalledAfterMs: config.redriveAfterSeconds * 1000,
    // 3 h at the default delay: a sweep every 15 min lists each upload 12 times (≈ 0.02 list calls
    // per job at 1,000 keys a page), and a fleet outage of nearly 3 h still has its orphans re-driven.
    lookbackMs: 12 * config.redriveAfterSeconds * 1000,
    idempotencyTtlMs: config.idempotencyTtlSeconds * 1000,
  };
}

/** Runs `sweepStalledJobs` every `intervalMs` until stopped. */
export function startSweeper(options: SweepOptions & { intervalMs: number }): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void sweepStalledJobs(options)
      .catch((error) => options.logger.warn({ err: error }, "sweep failed; next one in an interval"))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

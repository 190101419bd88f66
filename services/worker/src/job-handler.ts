import { GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import {
  type JobMessage,
  type JobRecord,
  type JobStore,
  jobMessageSchema,
  type Logger,
} from "@content-engine/core";
import type { JOB_OUTCOMES } from "@content-engine/telemetry";
import type { SQSRecord } from "aws-lambda";
import { PermanentProcessingError, type Processor } from "./processors/processor.ts";

export type JobOutcome = (typeof JOB_OUTCOMES)[number];

export interface JobHandlerDeps {
  s3: S3Client;
  jobs: JobStore;
  processor: Processor;
  logger: Logger;
  /** The queue's redrive `maxReceiveCount`: the last receive marks a still-failing job `failed`. */
  maxReceiveCount: number;
  observe: (outcome: JobOutcome, durationSeconds: number, queueWaitSeconds: number | undefined) => void;
  now?: () => Date;
}

export interface HandledRecord {
  outcome: JobOutcome;
  /** True: leave the message on the queue (retry, and the DLQ after maxReceiveCount). */
  release: boolean;
  reason?: string;
}

/**
 * Handles one job message. The same function serves the Lambda (through the batch utility) and the
 * long-poll consumer. It never throws: every path ends in an outcome and a decision to ack or release.
 *
 *  - finished job (duplicate delivery): ack, no work;
 *  - document problems (bad message, missing upload, unreadable text): job `failed`, message released
 *    so it reaches the DLQ after maxReceiveCount;
 *  - transient errors (S3, model throttling): released for a retry; on the last receive the job is
 *    marked `failed` so no job stays `processing` forever.
 */
export async function handleJobRecord(record: SQSRecord, deps: JobHandlerDeps): Promise<HandledRecord> {
  const started = performance.now();
  const now = deps.now ?? (() => new Date());
  const sent = Number(record.attributes?.SentTimestamp);
  const queueWait =
    Number.isFinite(sent) && sent > 0 ? Math.max(0, (now().getTime() - sent) / 1000) : undefined;
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? "1");
  const finish = (result: HandledRecord): HandledRecord => {
    deps.observe(result.outcome, (performance.now() - started) / 1000, queueWait);
    return result;
  };

  const message = parseMessage(record.body);
  if (!message.ok) {
    deps.logger.error(
      { messageId: record.messageId, reason: message.reason },
      "poison message: cannot parse",
    );
    return finish({ outcome: "failed", release: true, reason: message.reason });
  }
  const job = message.value;
  const log = deps.logger.child({ requestId: job.requestId, jobId: job.jobId, tenant: job.tenant });

  let status: JobRecord | undefined;
  try {
    status = await deps.jobs.get(job.tenant, job.jobId);
  } catch (error) {
    log.warn({ err: error }, "cannot read job status; will retry");
    return finish({ outcome: "retried", release: true, reason: "status_unreadable" });
  }
  if (!status) {
    log.error("poison message: no job record for this message");
    return finish({ outcome: "failed", release: true, reason: "unknown_job" });
  }
  if (status.status === "succeeded") {
    log.info("duplicate delivery of a finished job; nothing to do");
    return finish({ outcome: "duplicate", release: false });
  }
  if (status.status === "failed") {
    log.info({ error: status.error }, "redelivery of a failed job; leaving it for the DLQ");
    return finish({ outcome: "duplicate", release: true, reason: status.error?.code ?? "failed" });
  }

  try {
    status = await deps.jobs.update(status, { status: "processing", attempts: status.attempts + 1 }, now());
    const raw = await readUpload(deps.s3, job);
    // The processor extracts the text itself, off this event loop and within its time budget.
    const output = await deps.processor.process({
      jobId: job.jobId,
      text: raw,
      contentType: job.contentType,
      tasks: job.tasks,
    });
    const existing = await deps.jobs.getResult(job.tenant, job.jobId);
    if (!existing) await deps.jobs.putResult(job.tenant, { ...output, completedAt: now().toISOString() });
    await deps.jobs.update(status, { status: "succeeded", error: undefined }, now());
    log.info({ processor: deps.processor.name, attempts: status.attempts }, "job succeeded");
    return finish({ outcome: "succeeded", release: false });
  } catch (error) {
    const permanent = error instanceof PermanentProcessingError;
    const lastChance = receiveCount >= deps.maxReceiveCount;
    if (permanent || lastChance) {
      const code = permanent ? error.code : "retries_exhausted";
      const reason = permanent ? error.message : `gave up after ${receiveCount} attempts: ${describe(error)}`;
      log.error({ err: error, code }, "job failed");
      await deps.jobs
        .update(status, { status: "failed", error: { code, message: reason } }, now())
        .catch((e) => {
          log.error({ err: e }, "could not mark the job failed");
        });
      return finish({ outcome: "failed", release: true, reason: code });
    }
    log.warn({ err: error, receiveCount }, "transient failure; the message will be retried");
    return finish({ outcome: "retried", release: true, reason: describe(error) });
  }
}

async function readUpload(s3: S3Client, job: JobMessage): Promise<string> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
    return await out.Body!.transformToString("utf8");
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") {
      throw new PermanentProcessingError("upload_missing", `the uploaded object ${job.key} does not exist`);
    }
    throw error;
  }
}

function parseMessage(body: string): { ok: true; value: JobMessage } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, reason: "message body is not JSON" };
  }
  const parsed = jobMessageSchema.safeParse(json);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : {
        ok: false,
        reason: `message does not match the job schema: ${parsed.error.issues[0]?.message ?? ""}`,
      };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  type FinalJob,
  isNotFound,
  type JobMessage,
  type JobRecord,
  type JobStore,
  jobMessageSchema,
  type Logger,
  recordFromUpload,
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
  /** Undefined: this delivery is not counted (the job was already counted once). */
  outcome: JobOutcome | undefined;
  /** True: leave the message on the queue (retry, and the DLQ after maxReceiveCount). */
  release: boolean;
  reason?: string;
}

/**
 * Handles one job message. The same function serves the Lambda (through the batch utility) and the
 * long-poll consumer. It never throws: every path ends in at most one outcome and a decision to ack
 * or release.
 *
 *  - client fault (the document cannot be processed: invalid JSON, no text, too complex): the job
 *    is `failed` with the code and reason, the message is acknowledged (no DLQ, no page): `rejected`;
 *  - system fault (poison message, unknown job, retries exhausted): `failed`, the message is released
 *    so it reaches the DLQ after maxReceiveCount, where the dead-letter handler makes sure the job
 *    reads `failed` even if this process died before it could say so;
 *  - transient errors (S3, model throttling): released for a retry (`retried`);
 *  - a delivery of a finished job: acknowledged without work (`duplicate`); the first result stays.
 *
 * Per job it costs one GetObject (the upload, which carries the record in its metadata) and one
 * conditional PutObject (the final record with the result); a redelivery reads the final record first.
 */
export async function handleJobRecord(record: SQSRecord, deps: JobHandlerDeps): Promise<HandledRecord> {
  const started = performance.now();
  const now = deps.now ?? (() => new Date());
  const sent = Number(record.attributes?.SentTimestamp);
  const queueWait =
    Number.isFinite(sent) && sent > 0 ? Math.max(0, (now().getTime() - sent) / 1000) : undefined;
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? "1");
  const finish = (result: HandledRecord): HandledRecord => {
    if (result.outcome) deps.observe(result.outcome, (performance.now() - started) / 1000, queueWait);
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
  if (!isOwnUpload(job, deps.jobs)) {
    // Another environment's message (a queue shared by mistake, or a hand-made one): this worker reads
    // and writes nothing outside its own bucket and key prefix. To the DLQ, where an operator sees it.
    log.error(
      { bucket: job.bucket, key: job.key, keyPrefix: deps.jobs.keys.prefix },
      "poison message: the upload is outside this worker's bucket or key prefix",
    );
    return finish({ outcome: "failed", release: true, reason: "foreign_upload" });
  }

  const alreadyFinished = (final: FinalJob): HandledRecord => {
    if (final.status === "failed" && !isClientFault(final.error?.code)) {
      // A system failure already counted once: let the message go on to the DLQ.
      log.info({ error: final.error }, "redelivery of a failed job; leaving it for the DLQ");
      return finish({ outcome: undefined, release: true, reason: final.error?.code ?? "failed" });
    }
    log.info({ status: final.status }, "duplicate delivery of a finished job; nothing to do");
    return finish({ outcome: "duplicate", release: false });
  };

  let upload: { raw: string; record: JobRecord } | undefined;
  try {
    if (job.redrive || receiveCount > 1) {
      const final = await deps.jobs.getFinal(job.tenant, job.jobId);
      if (final) return alreadyFinished(final);
    }
    upload = await readUpload(deps.s3, job);
    if (!upload) {
      const final = await deps.jobs.getFinal(job.tenant, job.jobId);
      if (final) return alreadyFinished(final);
      log.error({ key: job.key }, "poison message: no upload for this job");
      return finish({ outcome: "failed", release: true, reason: "unknown_job" });
    }
  } catch (error) {
    log.warn({ err: error }, "cannot read the job; will retry");
    return finish({ outcome: "retried", release: true, reason: describe(error) });
  }

  const base: JobRecord = { ...upload.record, tasks: job.tasks, attempts: receiveCount };
  const end = async (change: Pick<FinalJob, "status" | "error" | "result">) =>
    deps.jobs.finish({ ...base, ...change, updatedAt: now().toISOString() });

  try {
    // The processor extracts the text itself, off this event loop and within its time budget.
    const output = await deps.processor.process({
      jobId: job.jobId,
      text: upload.raw,
      contentType: job.contentType,
      tasks: job.tasks,
    });
    const written = await end({
      status: "succeeded",
      result: { ...output, completedAt: now().toISOString() },
    });
    if (written === "exists") {
      log.info("duplicate delivery of a finished job; the first result stays");
      return finish({ outcome: "duplicate", release: false });
    }
    // Written (synchronously, see createLogger) before the batch returns and the message is deleted.
    log.info({ processor: deps.processor.name, attempts: receiveCount }, "job succeeded");
    return finish({ outcome: "succeeded", release: false });
  } catch (error) {
    if (error instanceof PermanentProcessingError) {
      try {
        await end({ status: "failed", error: { code: error.code, message: error.message } });
      } catch (storeError) {
        log.warn({ err: storeError }, "cannot record the rejection; will retry");
        return finish({ outcome: "retried", release: true, reason: describe(storeError) });
      }
      log.warn({ code: error.code, reason: error.message }, "job rejected: the document cannot be processed");
      return finish({ outcome: "rejected", release: false, reason: error.code });
    }
    if (receiveCount >= deps.maxReceiveCount) {
      // The tenant reads this record: a stable code and a generic message naming the request id. What
      // went wrong (an AWS error can name accounts and role ARNs) goes to the log, under that id.
      log.error({ err: error, code: "retries_exhausted", attempts: receiveCount }, "job failed");
      const message = systemFailureMessage(receiveCount, job.requestId);
      await end({ status: "failed", error: { code: "retries_exhausted", message } }).catch((e) => {
        log.error({ err: e }, "could not mark the job failed; the dead-letter handler will");
      });
      return finish({ outcome: "failed", release: true, reason: "retries_exhausted" });
    }
    log.warn({ err: error, receiveCount }, "transient failure; the message will be retried");
    return finish({ outcome: "retried", release: true, reason: describe(error) });
  }
}

/** Error codes of client faults: the document, not the system (see PermanentProcessingError). */
const SYSTEM_FAULT_CODES = new Set(["retries_exhausted", "dead_lettered", "unknown_job"]);
export function isClientFault(code: string | undefined): boolean {
  return code !== undefined && !SYSTEM_FAULT_CODES.has(code);
}

/** The message names an upload of this store: its bucket, under its key prefix, in the job's tenant. */
function isOwnUpload(job: JobMessage, jobs: JobStore): boolean {
  return job.bucket === jobs.bucket && job.key.startsWith(jobs.keys.uploadsOf(job.tenant));
}

/** The upload and the record its metadata carries; undefined when the upload does not exist. */
async function readUpload(
  s3: S3Client,
  job: JobMessage,
): Promise<{ raw: string; record: JobRecord } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
    const raw = await out.Body!.transformToString("utf8");
    const record = recordFromUpload(job.tenant, job.jobId, out, job.key) ?? {
      jobId: job.jobId,
      tenant: job.tenant,
      status: "queued",
      createdAt: (out.LastModified ?? new Date()).toISOString(),
      updatedAt: (out.LastModified ?? new Date()).toISOString(),
      input: {
        filename: job.key.split("/").pop()!,
        contentType: job.contentType,
        size: job.size,
        key: job.key,
      },
      tasks: job.tasks,
      requestId: job.requestId,
      attempts: 0,
    };
    return { raw, record };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function parseMessage(body: string): { ok: true; value: JobMessage } | { ok: false; reason: string } {
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

/** What a tenant is told of a job that failed on our side: no error text of ours, the id to quote. */
export function systemFailureMessage(attempts: number, requestId: string): string {
  return `the job could not be processed after ${attempts} attempts because of a fault on our side; the operators have been alerted (request id ${requestId})`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

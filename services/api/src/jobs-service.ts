import {
  idempotentJobId,
  type JobMessage,
  type JobRecord,
  type JobResult,
  type JobStore,
  type Logger,
  newJobId,
  ServiceError,
  uploadMetadata,
} from "@content-engine/core";
import type { ENQUEUE_FAILURE_STAGES } from "@content-engine/telemetry";
import { type CreateJobQuery, tasksSchema } from "./schemas.ts";
import { streamUploadToS3, type UploadSource } from "./upload.ts";

export type EnqueueFailureStage = (typeof ENQUEUE_FAILURE_STAGES)[number];

/** Sends one job message (directly, or through a batcher that groups concurrent requests). */
export type JobMessageSender = (message: JobMessage) => Promise<void>;

export interface JobsServiceDeps {
  s3: import("@aws-sdk/client-s3").S3Client;
  jobs: JobStore;
  bucket: string;
  sendMessage: JobMessageSender;
  maxUploadBytes: number;
  /** How long an Idempotency-Key names the same job. */
  idempotencyTtlMs: number;
  onUploaded: (bytes: number) => void;
  onEnqueued: () => void;
  onEnqueueFailure: (stage: EnqueueFailureStage) => void;
}

export interface CreateJobInput {
  req: UploadSource;
  tenant: string;
  requestId: string;
  /** `?filename=` and `?tasks=`, parsed by the route's query schema. */
  query: CreateJobQuery;
  /** The `Idempotency-Key` request header, if any (validated by the route's header schema). */
  idempotencyKey?: string | undefined;
  /**
   * Aborts when the request's connection fails before its answer is sent: the job is then not
   * queued and its upload is removed, as when SQS refuses the message (not counted as a failure).
   */
  signal?: AbortSignal;
  log: Logger;
}

export interface CreatedJob {
  record: JobRecord;
  /** True when an Idempotency-Key named a job that already existed: that job is returned. */
  replayed: boolean;
}

/**
 * Creating a job is two writes: the upload, which carries the job record in its metadata, then the
 * message. The client hears of the job only after both. If the message cannot be sent the upload is
 * removed (retried in the background; kept when an Idempotency-Key's retry will send it again); if
 * that, or this process, dies in between, the worker's sweep re-drives the stalled upload, so no job
 * is ever left half-made.
 *
 * With an `Idempotency-Key` the job id derives from the tenant, the key and a time window: a retry
 * finds the first job's upload and gets that job back (its message is sent again, in case the first
 * attempt died before sending it; the worker does a finished job no second time).
 */
export async function createJob(deps: JobsServiceDeps, input: CreateJobInput): Promise<CreatedJob> {
  const { query } = input;
  const idempotencyKey = input.idempotencyKey;
  throwIfAborted(input.signal);
  const started = Date.now();
  let jobId: string;
  if (idempotencyKey === undefined) {
    jobId = newJobId(started);
  } else {
    const ttl = deps.idempotencyTtlMs;
    const window = Math.floor(started / ttl) * ttl;
    const current = idempotentJobId(input.tenant, idempotencyKey, window);
    const previous = idempotentJobId(input.tenant, idempotencyKey, window - ttl);
    const [inCurrent, inPrevious] = await readOrUnavailable(() =>
      Promise.all([deps.jobs.getQueued(input.tenant, current), deps.jobs.getQueued(input.tenant, previous)]),
    );
    const first = inPrevious && started - Date.parse(inPrevious.createdAt) < ttl ? inPrevious : inCurrent;
    if (first) return replay(deps, input, first);
    jobId = current;
  }

  const createdAt = new Date(started).toISOString();
  let upload: Awaited<ReturnType<typeof streamUploadToS3>>;
  try {
    upload = await streamUploadToS3(
      input.req,
      {
        s3: deps.s3,
        bucket: deps.bucket,
        // Under the environment's key prefix, as every key of the store.
        key: deps.jobs.keys.upload(input.tenant, jobId),
        metadataFor: (filename, fields) =>
          uploadMetadata({
            filename,
            createdAt,
            requestId: input.requestId,
            tasks: tasksFrom(fields.tasks) ?? query.tasks,
          }),
        createOnly: idempotencyKey !== undefined,
        maxBytes: deps.maxUploadBytes,
      },
      { filename: query.filename },
    );
  } catch (error) {
    if (error instanceof ServiceError && error.code === "upload_exists") {
      // A concurrent request with the same key stored it first: return that job.
      const first = await readOrUnavailable(() => deps.jobs.getQueued(input.tenant, jobId));
      if (first) return replay(deps, input, first);
    }
    if (error instanceof ServiceError && error.status === 503 && !input.signal?.aborted) {
      deps.onEnqueueFailure("upload");
    }
    throw error;
  }
  const removeUpload = () => removeDurably(deps.jobs, input.tenant, jobId, input.log);

  if (upload.size === 0) {
    await removeUpload();
    throw new ServiceError(400, "empty_file", "the uploaded file is empty");
  }
  let tasks = query.tasks;
  if (upload.fields.tasks !== undefined) {
    const fromForm = tasksSchema.safeParse(upload.fields.tasks);
    if (!fromForm.success) {
      await removeUpload();
      throw new ServiceError(400, "invalid_tasks", fromForm.error.issues.map((i) => i.message).join("; "));
    }
    tasks = fromForm.data;
  }
  deps.onUploaded(upload.size);

  const record: JobRecord = {
    jobId,
    tenant: input.tenant,
    status: "queued",
    createdAt,
    updatedAt: createdAt,
    input: { filename: upload.filename, contentType: upload.contentType, size: upload.size, key: upload.key },
    tasks,
    requestId: input.requestId,
    attempts: 0,
  };
  if (input.signal?.aborted) {
    // Nobody hears of this job: remove its upload, key or not (a retry with the key makes it anew).
    input.log.info({ jobId }, "the connection closed before the job was queued; removing its upload");
    await removeUpload();
    throwIfAborted(input.signal);
  }
  try {
    await deps.sendMessage(messageFor(deps, record));
  } catch (error) {
    deps.onEnqueueFailure("send");
    if (idempotencyKey === undefined) {
      input.log.error({ err: error, jobId }, "could not enqueue the job; removing its upload");
      await removeUpload();
    } else {
      // Kept for the client's retry with the same key, which sends the message again (or the sweep does).
      input.log.error({ err: error, jobId }, "could not enqueue the job; its upload waits for the retry");
    }
    throw new ServiceError(
      503,
      "queue_unavailable",
      "the job could not be queued; nothing was kept, try again",
      {
        cause: error,
        retryAfter: 5,
      },
    );
  }
  deps.onEnqueued();
  input.log.info({ jobId, size: upload.size, contentType: upload.contentType, tasks }, "job queued");
  return { record, replayed: false };
}

/** The first job of an Idempotency-Key: sent again (a no-op for a finished job), then returned. */
async function replay(deps: JobsServiceDeps, input: CreateJobInput, first: JobRecord): Promise<CreatedJob> {
  // The body is not needed: read it to the end so the connection stays usable.
  input.req.body.resume();
  try {
    await deps.sendMessage({ ...messageFor(deps, first), redrive: true });
  } catch (error) {
    deps.onEnqueueFailure("send");
    throw new ServiceError(503, "queue_unavailable", "the job could not be queued; try again", {
      cause: error,
      retryAfter: 5,
    });
  }
  input.log.info({ jobId: first.jobId }, "idempotent replay: returning the first job");
  return { record: first, replayed: true };
}

/** The request's connection is gone: nothing is created, and nobody reads this answer. */
function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw new ServiceError(503, "queue_unavailable", "the connection closed before the job was queued", {
    cause: signal.reason,
  });
}

function messageFor(deps: JobsServiceDeps, record: JobRecord): JobMessage {
  return {
    jobId: record.jobId,
    tenant: record.tenant,
    bucket: deps.bucket,
    key: record.input.key,
    contentType: record.input.contentType,
    size: record.input.size,
    tasks: record.tasks,
    requestId: record.requestId,
  };
}

function tasksFrom(value: string | undefined) {
  if (value === undefined) return undefined;
  const parsed = tasksSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export async function getJob(jobs: JobStore, tenant: string, jobId: string): Promise<JobRecord> {
  // Another tenant's job lives under another prefix: it is simply not found, no existence leak.
  const record = await readOrUnavailable(() => jobs.get(tenant, jobId));
  if (!record) throw notFound(jobId);
  return record;
}

export async function getJobResult(jobs: JobStore, tenant: string, jobId: string): Promise<JobResult> {
  const final = await readOrUnavailable(() => jobs.getFinal(tenant, jobId));
  if (!final) {
    const queued = await readOrUnavailable(() => jobs.getQueued(tenant, jobId));
    if (!queued) throw notFound(jobId);
    throw new ServiceError(409, "not_ready", "the job is queued; try again shortly");
  }
  if (final.status === "failed") {
    throw new ServiceError(409, "job_failed", `the job failed: ${final.error?.message ?? "unknown reason"}`);
  }
  if (!final.result)
    throw new ServiceError(409, "not_ready", "the result is not stored yet; try again shortly");
  return final.result;
}

export function jobView(record: JobRecord) {
  return {
    jobId: record.jobId,
    status: record.status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    input: {
      filename: record.input.filename,
      contentType: record.input.contentType,
      size: record.input.size,
    },
    ...(record.error ? { error: record.error } : {}),
  };
}

function notFound(jobId: string): ServiceError {
  return new ServiceError(404, "job_not_found", `no job ${jobId.slice(0, 64)}`);
}

async function readOrUnavailable<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new ServiceError(503, "storage_unavailable", "job storage does not answer; try again", {
      cause: error,
      retryAfter: 5,
    });
  }
}

/**
 * Removes the upload of a job that was not accepted. S3 may be failing right now (that may be why
 * the job was not accepted): after a failed first try it keeps trying in the background with
 * back-off; what is still left is re-driven by the worker's sweep, never left half-made.
 */
async function removeDurably(jobs: JobStore, tenant: string, jobId: string, log: Logger): Promise<void> {
  const attempt = () => jobs.deleteUpload(tenant, jobId);
  try {
    await attempt();
  } catch {
    void (async () => {
      for (let n = 1; n <= 4; n++) {
        await new Promise((r) => setTimeout(r, 250 * 2 ** n));
        try {
          await attempt();
          return;
        } catch (error) {
          if (n === 4) log.error({ err: error, jobId }, "cleanup failed: the sweep will re-drive the upload");
        }
      }
    })();
  }
}

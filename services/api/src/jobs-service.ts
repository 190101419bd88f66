import { randomUUID } from "node:crypto";
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  type JobMessage,
  type JobRecord,
  type JobResult,
  type JobStore,
  keys,
  type Logger,
  ServiceError,
} from "@content-engine/core";
import type { ENQUEUE_FAILURE_STAGES } from "@content-engine/telemetry";
import { createJobQuerySchema, tasksSchema } from "./schemas.ts";
import { streamUploadToS3, type UploadSource } from "./upload.ts";

export type EnqueueFailureStage = (typeof ENQUEUE_FAILURE_STAGES)[number];

export interface JobsServiceDeps {
  s3: S3Client;
  sqs: SQSClient;
  jobs: JobStore;
  bucket: string;
  queueUrl: string;
  maxUploadBytes: number;
  onUploaded: (bytes: number) => void;
  onEnqueued: () => void;
  onEnqueueFailure: (stage: EnqueueFailureStage) => void;
}

export interface CreateJobInput {
  req: UploadSource;
  tenant: string;
  requestId: string;
  query: Record<string, unknown>;
  log: Logger;
}

/**
 * Creating a job is three writes: the upload, the `queued` status, the message. Whatever fails, the
 * earlier writes are undone, so a client never sees a job that stays `queued` forever.
 */
export async function createJob(deps: JobsServiceDeps, input: CreateJobInput): Promise<JobRecord> {
  const query = createJobQuerySchema.safeParse(input.query);
  if (!query.success) {
    throw new ServiceError(400, "invalid_query", query.error.issues.map((i) => i.message).join("; "));
  }
  const jobId = randomUUID();
  let upload: Awaited<ReturnType<typeof streamUploadToS3>>;
  try {
    upload = await streamUploadToS3(
      input.req,
      {
        s3: deps.s3,
        bucket: deps.bucket,
        keyFor: (filename) => keys.upload(input.tenant, jobId, filename),
        maxBytes: deps.maxUploadBytes,
      },
      { filename: query.data.filename },
    );
  } catch (error) {
    if (error instanceof ServiceError && error.status === 503) deps.onEnqueueFailure("upload");
    throw error;
  }
  const removeUpload = () => deleteQuietly(deps.s3, deps.bucket, upload.key, input.log);

  if (upload.size === 0) {
    await removeUpload();
    throw new ServiceError(400, "empty_file", "the uploaded file is empty");
  }
  let tasks = query.data.tasks;
  if (upload.fields.tasks !== undefined) {
    const fromForm = tasksSchema.safeParse(upload.fields.tasks);
    if (!fromForm.success) {
      await removeUpload();
      throw new ServiceError(400, "invalid_tasks", fromForm.error.issues.map((i) => i.message).join("; "));
    }
    tasks = fromForm.data;
  }
  deps.onUploaded(upload.size);

  const now = new Date().toISOString();
  const record: JobRecord = {
    jobId,
    tenant: input.tenant,
    status: "queued",
    createdAt: now,
    updatedAt: now,
    input: { filename: upload.filename, contentType: upload.contentType, size: upload.size, key: upload.key },
    tasks,
    requestId: input.requestId,
    attempts: 0,
  };
  try {
    await deps.jobs.put(record);
  } catch (error) {
    deps.onEnqueueFailure("status");
    await removeUpload();
    throw new ServiceError(503, "storage_unavailable", "the job could not be recorded; try again", {
      cause: error,
      retryAfter: 5,
    });
  }

  const message: JobMessage = {
    jobId,
    tenant: input.tenant,
    bucket: deps.bucket,
    key: upload.key,
    contentType: upload.contentType,
    size: upload.size,
    tasks,
    requestId: input.requestId,
  };
  try {
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: { requestId: { DataType: "String", StringValue: input.requestId } },
      }),
    );
  } catch (error) {
    deps.onEnqueueFailure("send");
    input.log.error({ err: error, jobId }, "could not enqueue the job; removing its upload and status");
    await Promise.all([
      removeUpload(),
      deleteQuietly(deps.s3, deps.bucket, keys.status(input.tenant, jobId), input.log),
    ]);
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
  return record;
}

export async function getJob(jobs: JobStore, tenant: string, jobId: string): Promise<JobRecord> {
  // Another tenant's job lives under another prefix: it is simply not found, no existence leak.
  const record = await readOrUnavailable(() => jobs.get(tenant, jobId));
  if (!record) throw notFound(jobId);
  return record;
}

export async function getJobResult(jobs: JobStore, tenant: string, jobId: string): Promise<JobResult> {
  const record = await getJob(jobs, tenant, jobId);
  if (record.status === "failed") {
    throw new ServiceError(409, "job_failed", `the job failed: ${record.error?.message ?? "unknown reason"}`);
  }
  if (record.status !== "succeeded") {
    throw new ServiceError(409, "not_ready", `the job is ${record.status}; try again shortly`);
  }
  const result = await readOrUnavailable(() => jobs.getResult(tenant, jobId));
  if (!result) throw new ServiceError(409, "not_ready", "the result is not stored yet; try again shortly");
  return result;
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

async function deleteQuietly(s3: S3Client, bucket: string, key: string, log: Logger): Promise<void> {
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (error) {
    log.error({ err: error, key }, "cleanup failed: object left behind");
  }
}

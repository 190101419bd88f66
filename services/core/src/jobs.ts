import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { type Task, taskSchema } from "./config.ts";

/**
 * Where a job's pieces live in the bucket, under the environment's key prefix (`keyPrefix` in the
 * runtime config: "" on the bucket's root, or e.g. `previews/pr-12/`). The IAM policies in terraform/
 * scope to these prefixes.
 *
 * A job is two objects at most. Its upload (`<prefix>uploads/<tenant>/<id>`) carries the job record
 * in its metadata, so ingest is one PutObject and one SendMessage; while it has no final record the
 * job reads `queued`. Its final record (`<prefix>jobs/<tenant>/<id>.json`: status, error, and the
 * result) is written once by the worker, conditionally, so the first result stays.
 */
export interface JobKeys {
  /** The environment's key prefix ("" or segments each ending in "/"). */
  prefix: string;
  upload(tenant: string, jobId: string): string;
  status(tenant: string, jobId: string): string;
  /** Where the tenants' upload folders are (what a sweep lists). */
  uploads: string;
  uploadsOf(tenant: string): string;
  statusesOf(tenant: string): string;
}

/** The keys under one prefix; the prefix is validated by `loadConfig` (CONTENT_ENGINE_KEY_PREFIX). */
export function jobKeys(prefix = ""): JobKeys {
  return {
    prefix,
    upload: (tenant, jobId) => `${prefix}uploads/${tenant}/${jobId}`,
    status: (tenant, jobId) => `${prefix}jobs/${tenant}/${jobId}.json`,
    uploads: `${prefix}uploads/`,
    uploadsOf: (tenant) => `${prefix}uploads/${tenant}/`,
    statusesOf: (tenant) => `${prefix}jobs/${tenant}/`,
  };
}

/** The keys of an environment without a prefix (the default). */
export const keys: JobKeys = jobKeys("");

/**
 * Job ids are UUIDv7: time-ordered, so a sweep can list only the uploads of a time window
 * (`StartAfter` the id of its start) instead of the whole bucket.
 */
export function newJobId(now = Date.now()): string {
  return uuidV7(now, randomBytes(10));
}

/** The smallest id created at `ms`: the `StartAfter` bound of a time-window listing. */
export function jobIdFloor(ms: number): string {
  return uuidV7(ms, Buffer.alloc(10));
}

/**
 * The job id an `Idempotency-Key` names: the same tenant, key and time window always give the same
 * id, so a retried upload lands on the first job's objects. Tenants cannot collide (the tenant is in
 * the hash and in the key prefix); the window bounds how long a key is remembered.
 */
export function idempotentJobId(tenant: string, idempotencyKey: string, windowStartMs: number): string {
  const digest = createHash("sha256")
    .update(`${tenant}\0${idempotencyKey}\0${windowStartMs}`)
    .digest()
    .subarray(0, 10);
  return uuidV7(windowStartMs, digest);
}

function uuidV7(ms: number, tail: Buffer): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(ms)), 0, 6);
  tail.copy(bytes, 6, 0, 10);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * `processing` stays in the enum for clients that know it, but is no longer written: a job reads
 * `queued` until its final record exists (one write per job fewer; see `keys`).
 */
export const JOB_STATUSES = ["queued", "processing", "succeeded", "failed"] as const;
export type JobStatusValue = (typeof JOB_STATUSES)[number];

export const CONTENT_TYPES = ["text/plain", "text/markdown", "text/html", "application/json"] as const;
export type SupportedContentType = (typeof CONTENT_TYPES)[number];

export const tenantSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export const jobIdSchema = z.uuid();

/** The SQS message body the API sends and the worker trusts only after parsing. */
export const jobMessageSchema = z.object({
  jobId: jobIdSchema,
  tenant: tenantSchema,
  bucket: z.string().min(3),
  key: z.string().min(1),
  contentType: z.enum(CONTENT_TYPES),
  size: z.number().int().nonnegative(),
  tasks: z.array(taskSchema).min(1),
  requestId: z.string().min(1).max(128),
  /** Sent again for a job that may already be finished (a sweep, an idempotent replay): check first. */
  redrive: z.boolean().optional(),
});
export type JobMessage = z.infer<typeof jobMessageSchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string() });

/** A job's record: from its final object at `keys.status`, or from its upload's metadata while queued. */
export const jobRecordSchema = z.object({
  jobId: jobIdSchema,
  tenant: tenantSchema,
  status: z.enum(JOB_STATUSES),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  input: z.object({
    filename: z.string(),
    contentType: z.enum(CONTENT_TYPES),
    size: z.number().int().nonnegative(),
    key: z.string(),
  }),
  tasks: z.array(taskSchema),
  requestId: z.string(),
  attempts: z.number().int().nonnegative(),
  error: jobErrorSchema.optional(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

export const keywordSchema = z.object({ term: z.string(), score: z.number() });
export const sentimentSchema = z.object({
  score: z.number().min(-1).max(1),
  label: z.enum(["positive", "neutral", "negative"]),
});
export const textStatsSchema = z.object({
  characters: z.number().int().nonnegative(),
  words: z.number().int().nonnegative(),
  sentences: z.number().int().nonnegative(),
  readingTimeSeconds: z.number().int().nonnegative(),
});
export type TextStats = z.infer<typeof textStatsSchema>;

/** The analysis the worker stores in the final record and `GET /v1/jobs/{id}/result` returns. */
export const jobResultSchema = z.object({
  jobId: jobIdSchema,
  processor: z.string(),
  model: z.string(),
  tasks: z.array(taskSchema),
  summary: z.array(z.string()).optional(),
  keywords: z.array(keywordSchema).optional(),
  sentiment: sentimentSchema.optional(),
  stats: textStatsSchema,
  completedAt: z.iso.datetime(),
});
export type JobResult = z.infer<typeof jobResultSchema>;

/** The object at `keys.status`: the record in its final state, with the result when it succeeded. */
export const finalJobSchema = jobRecordSchema.extend({ result: jobResultSchema.optional() });
export type FinalJob = z.infer<typeof finalJobSchema>;

/**
 * The job record as S3 user metadata on the upload (2 KiB limit; values stay ASCII). The size and
 * content type are the object's own; the filename is URI-encoded.
 */
export interface UploadRecordFields {
  filename: string;
  createdAt: string;
  requestId: string;
  tasks: readonly Task[];
}

export function uploadMetadata(fields: UploadRecordFields): Record<string, string> {
  return {
    "job-filename": encodeURIComponent(fields.filename),
    "job-created-at": fields.createdAt,
    "job-request-id": fields.requestId,
    "job-tasks": fields.tasks.join(","),
  };
}

/** The `queued` record the upload at `key` stands for, or undefined when its metadata is not ours. */
export function recordFromUpload(
  tenant: string,
  jobId: string,
  object: { Metadata?: Record<string, string>; ContentType?: string; ContentLength?: number },
  key: string,
): JobRecord | undefined {
  const m = object.Metadata ?? {};
  let filename: string;
  try {
    filename = decodeURIComponent(m["job-filename"] ?? "");
  } catch {
    return undefined;
  }
  const parsed = jobRecordSchema.safeParse({
    jobId,
    tenant,
    status: "queued",
    createdAt: m["job-created-at"],
    updatedAt: m["job-created-at"],
    input: {
      filename,
      contentType: (object.ContentType ?? "").split(";")[0],
      size: object.ContentLength ?? 0,
      key,
    },
    tasks: (m["job-tasks"] ?? "").split(",").filter(Boolean),
    requestId: m["job-request-id"] ?? "",
    attempts: 0,
  });
  return parsed.success ? parsed.data : undefined;
}

export function isTerminal(status: JobStatusValue): boolean {
  return status === "succeeded" || status === "failed";
}

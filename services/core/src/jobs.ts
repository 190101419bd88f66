import { z } from "zod";
import { taskSchema } from "./config.ts";

/** Where a job's pieces live in the bucket. The IAM policies in terraform/ scope to these prefixes. */
export const keys = {
  upload: (tenant: string, jobId: string, filename: string) => `uploads/${tenant}/${jobId}/${filename}`,
  status: (tenant: string, jobId: string) => `jobs/${tenant}/${jobId}.json`,
  result: (tenant: string, jobId: string) => `results/${tenant}/${jobId}.json`,
};

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
});
export type JobMessage = z.infer<typeof jobMessageSchema>;

export const jobErrorSchema = z.object({ code: z.string(), message: z.string() });

/** The job record stored at `keys.status`, also the body of `GET /v1/jobs/{id}` (minus internals). */
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

/** What the worker stores at `keys.result` and `GET /v1/jobs/{id}/result` returns. */
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

export function isTerminal(status: JobStatusValue): boolean {
  return status === "succeeded" || status === "failed";
}

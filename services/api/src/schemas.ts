import {
  ALL_TASKS,
  JOB_STATUSES,
  jobErrorSchema,
  jobResultSchema,
  type Task,
  taskSchema,
} from "@content-engine/core";
import { z } from "zod";

const TASK_NAMES = ALL_TASKS.join("|");
const TASKS_PATTERN = new RegExp(`^(\\s*(${TASK_NAMES})\\s*)?(,\\s*(${TASK_NAMES})\\s*)*$`);

/** `tasks`: comma list of summary, keywords, sentiment; empty or absent means all of them. */
export const tasksSchema = z
  .string()
  .max(100)
  .regex(TASKS_PATTERN, `tasks must be a comma list of ${ALL_TASKS.join(", ")}`)
  .optional()
  .transform((value): Task[] => {
    const parts = (value ?? "")
      .split(",")
      .map((t) => taskSchema.safeParse(t.trim()))
      .flatMap((t) => (t.success ? [t.data] : []));
    return parts.length === 0 ? [...ALL_TASKS] : [...new Set(parts)];
  })
  .meta({
    description: "Comma list of summary, keywords, sentiment. Default: all.",
    example: "summary,keywords",
  });

export const createJobQuerySchema = z.object({
  filename: z
    .string()
    .max(4096)
    .optional()
    .meta({ description: "Filename for a raw-body upload (sanitised)." }),
  tasks: tasksSchema,
});
export type CreateJobQuery = z.output<typeof createJobQuerySchema>;

/** Request headers of POST /v1/jobs (lower-case names; the router answers 400 `invalid_header`). */
export const createJobHeadersSchema = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "it must be 1-255 visible ASCII characters")
    .optional()
    .meta({
      description:
        "Makes a retried upload safe: within 24 hours, a request with the same key (per tenant) returns the first job (`Idempotent-Replayed: true`) instead of creating a second one, whatever its body.",
    }),
});

export const jobIdParamSchema = z.object({
  id: z.uuid().meta({ description: "Job id returned by POST /v1/jobs." }),
});

export const jobAcceptedSchema = z
  .object({
    jobId: z.uuid(),
    status: z.literal("queued"),
    links: z.object({ self: z.string(), result: z.string() }),
  })
  .meta({ id: "JobAccepted" });

export const jobViewSchema = z
  .object({
    jobId: z.uuid(),
    status: z.enum(JOB_STATUSES),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    input: z.object({ filename: z.string(), contentType: z.string(), size: z.number().int() }),
    error: jobErrorSchema.optional(),
  })
  .meta({ id: "Job" });

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: "Error" });

export const healthSchema = z
  .object({ status: z.literal("healthy"), service: z.literal("content-engine") })
  .meta({ id: "Health" });

export const readySchema = z
  .object({
    status: z.enum(["ready", "unavailable"]),
    checks: z.object({ bucket: z.string(), queue: z.string() }),
    error: errorSchema.shape.error.optional(),
  })
  .meta({ id: "Readiness" });

export const resultSchema = jobResultSchema.meta({ id: "JobResult" });

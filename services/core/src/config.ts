import { z } from "zod";
import { ConfigError } from "./errors.ts";

const TASKS = ["summary", "keywords", "sentiment"] as const;
export type Task = (typeof TASKS)[number];
export const ALL_TASKS: readonly Task[] = TASKS;
export const taskSchema = z.enum(TASKS);

/**
 * Deadlines of every AWS call (see aws.ts): the TCP/TLS connect, the time to the response's first
 * byte (and the longest silence while a body streams), and how many attempts the SDK makes.
 */
export const AWS_CALL_DEFAULTS = {
  connectTimeoutMs: 3000,
  requestTimeoutMs: 10_000,
  maxAttempts: 3,
} as const;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Longest `CONTENT_ENGINE_KEY_PREFIX` (S3 keys may be 1,024 bytes; the store's own part stays well under). */
export const KEY_PREFIX_MAX_LENGTH = 200;

/**
 * The store's own top-level folders (see `jobKeys`). A prefix may not have a segment named like one:
 * then no prefix's keys or listings can reach into another's (or into the unprefixed layout's), e.g.
 * `uploads/` (a "tenant" of the unprefixed listing) or `a/jobs/` (inside `a/`'s status records).
 */
const RESERVED_KEY_SEGMENTS = ["uploads", "jobs"] as const;

const keyPrefixSchema = z
  .string()
  .max(KEY_PREFIX_MAX_LENGTH)
  .regex(
    /^([a-z0-9-]+\/)+$/,
    'a key prefix: empty, or path segments of lowercase letters, digits and hyphens, each ending in "/" (e.g. "previews/pr-12/")',
  )
  .refine(
    (prefix) =>
      !prefix.split("/").some((segment) => (RESERVED_KEY_SEGMENTS as readonly string[]).includes(segment)),
    `a key prefix without a segment named ${RESERVED_KEY_SEGMENTS.map((s) => `"${s}"`).join(" or ")} (the store's own folders)`,
  );

const envSchema = z.object({
  AWS_REGION: z.string().min(1).default("us-east-1"),
  AWS_ENDPOINT_URL: z.url().optional(),
  CONTENT_ENGINE_BUCKET: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
    ),
  CONTENT_ENGINE_KEY_PREFIX: keyPrefixSchema.default(""),
  CONTENT_ENGINE_QUEUE_URL: z.url(),
  CONTENT_ENGINE_DLQ_URL: z.url().optional(),
  CONTENT_ENGINE_REDRIVE_AFTER_SECONDS: positiveInt(900),
  CONTENT_ENGINE_IDEMPOTENCY_TTL_SECONDS: positiveInt(86_400),
  CONTENT_ENGINE_API_KEYS: z.string().default(""),
  CONTENT_ENGINE_MAX_UPLOAD_BYTES: positiveInt(25 * 1024 * 1024),
  CONTENT_ENGINE_PROCESSOR: z.enum(["local", "bedrock"]).default("local"),
  CONTENT_ENGINE_BEDROCK_MODEL_ID: z.string().min(1).default("anthropic.claude-3-haiku-20240307-v1:0"),
  CONTENT_ENGINE_WORKER_CONCURRENCY: positiveInt(8),
  CONTENT_ENGINE_PROCESSOR_THREADS: z.coerce.number().int().min(0).default(0),
  CONTENT_ENGINE_PROCESSING_BUDGET_MS: positiveInt(20_000),
  CONTENT_ENGINE_PROCESSING_HEAP_MB: positiveInt(320),
  CONTENT_ENGINE_MAX_RECEIVE_COUNT: positiveInt(3),
  CONTENT_ENGINE_VISIBILITY_TIMEOUT: positiveInt(60),
  CONTENT_ENGINE_SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
  CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS: positiveInt(AWS_CALL_DEFAULTS.connectTimeoutMs),
  CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: positiveInt(AWS_CALL_DEFAULTS.requestTimeoutMs),
  CONTENT_ENGINE_AWS_MAX_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(AWS_CALL_DEFAULTS.maxAttempts),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default("0.0.0.0"),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9100),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface RuntimeConfig {
  region: string;
  /** Endpoint override for every AWS client (an emulator, moto, a VPC endpoint); undefined = AWS. */
  endpoint: string | undefined;
  bucket: string;
  /**
   * Where in the bucket this environment's objects live: "" (the default) = the bucket's root, as
   * before; else e.g. `previews/pr-12/`, so environments sharing a bucket never see each other's data.
   * Every key the API and the worker read, write, list or delete starts with it (see `jobKeys`).
   */
  keyPrefix: string;
  queueUrl: string;
  /** The jobs queue's DLQ: the consumer marks dead-lettered jobs failed (optional). */
  dlqUrl: string | undefined;
  /** Seconds an upload may wait without a final record before the consumer's sweep re-drives it. */
  redriveAfterSeconds: number;
  /** Seconds an Idempotency-Key names the same job. */
  idempotencyTtlSeconds: number;
  /** Raw `key:tenant,key:tenant` list; parsed by the API's keyring. */
  apiKeys: string;
  maxUploadBytes: number;
  processor: "local" | "bedrock";
  bedrockModelId: string;
  workerConcurrency: number;
  /** Worker threads of the local processor; 0 = one per core. */
  processorThreads: number;
  /** Wall-clock milliseconds one document may take in the local processor (`document_too_complex` after). */
  processingBudgetMs: number;
  /**
   * Heap (old generation, MB) of each local processor thread: a document that needs more fails
   * `document_too_complex` and the thread is replaced, instead of the process running out of memory.
   */
  processingHeapMb: number;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  shutdownTimeoutMs: number;
  /** Deadlines of every AWS call made through the client factory. */
  awsConnectTimeoutMs: number;
  awsRequestTimeoutMs: number;
  awsMaxAttempts: number;
  port: number;
  host: string;
  workerMetricsPort: number;
  logLevel: string;
}

/** Parses the process environment once, at the edge. A bad value names the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): RuntimeConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      const got = present[name] === undefined ? "nothing" : JSON.stringify(present[name]);
      return `${name}: expected ${describeIssue(issue)}, got ${got}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  return {
    region: e.AWS_REGION,
    endpoint: e.AWS_ENDPOINT_URL,
    bucket: e.CONTENT_ENGINE_BUCKET,
    keyPrefix: e.CONTENT_ENGINE_KEY_PREFIX,
    queueUrl: e.CONTENT_ENGINE_QUEUE_URL,
    dlqUrl: e.CONTENT_ENGINE_DLQ_URL,
    redriveAfterSeconds: e.CONTENT_ENGINE_REDRIVE_AFTER_SECONDS,
    idempotencyTtlSeconds: e.CONTENT_ENGINE_IDEMPOTENCY_TTL_SECONDS,
    apiKeys: e.CONTENT_ENGINE_API_KEYS,
    maxUploadBytes: e.CONTENT_ENGINE_MAX_UPLOAD_BYTES,
    processor: e.CONTENT_ENGINE_PROCESSOR,
    bedrockModelId: e.CONTENT_ENGINE_BEDROCK_MODEL_ID,
    workerConcurrency: e.CONTENT_ENGINE_WORKER_CONCURRENCY,
    processorThreads: e.CONTENT_ENGINE_PROCESSOR_THREADS,
    processingBudgetMs: e.CONTENT_ENGINE_PROCESSING_BUDGET_MS,
    processingHeapMb: e.CONTENT_ENGINE_PROCESSING_HEAP_MB,
    maxReceiveCount: e.CONTENT_ENGINE_MAX_RECEIVE_COUNT,
    visibilityTimeoutSeconds: e.CONTENT_ENGINE_VISIBILITY_TIMEOUT,
    shutdownTimeoutMs: e.CONTENT_ENGINE_SHUTDOWN_TIMEOUT_MS,
    awsConnectTimeoutMs: e.CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS,
    awsRequestTimeoutMs: e.CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS,
    awsMaxAttempts: e.CONTENT_ENGINE_AWS_MAX_ATTEMPTS,
    port: e.PORT,
    host: e.HOST,
    workerMetricsPort: e.WORKER_METRICS_PORT,
    logLevel: e.LOG_LEVEL,
  };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value")
    return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
  if (issue.code === "invalid_type") return `a ${issue.expected}`;
  if (issue.code === "too_small") return `a value of at least ${String(issue.minimum)}`;
  if (issue.code === "too_big" && issue.origin === "string")
    return `at most ${String(issue.maximum)} characters`;
  if (issue.code === "too_big") return `a value of at most ${String(issue.maximum)}`;
  // A pattern of ours carries its own description (the bucket name, the key prefix).
  if (issue.code === "invalid_format" && issue.format === "regex") return issue.message;
  if (issue.code === "invalid_format") return `a valid ${issue.format}`;
  return issue.message;
}

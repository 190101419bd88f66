/**
 * The telemetry catalog: every metric content-engine emits, declared once.
 *
 * Instrumentation (prom-client in the API and the consumer, CloudWatch EMF in the Lambda worker),
 * dashboards and alarms are all built from these entries; nothing else may invent a metric name,
 * a label or a unit.
 */

export type MetricType = "counter" | "histogram" | "gauge";
export type MetricUnit = "requests" | "seconds" | "bytes" | "jobs" | "messages";
export type Emitter = "api" | "consumer" | "lambda";

export interface LabelSpec {
  /** The closed set of values this label may take. */
  readonly values: readonly string[];
}

export interface CloudWatchMetric {
  /** CloudWatch namespace the EMF record is written to. */
  readonly namespace: string;
  /** CloudWatch metric name (PascalCase, as CloudWatch conventions go). */
  readonly name: string;
  /** EMF/CloudWatch unit. */
  readonly unit: "Count" | "Seconds" | "Milliseconds" | "Bytes";
}

export interface MetricDefinition {
  /** Prometheus name: base units, `_total` for counters, `_seconds`/`_bytes` suffixes. */
  readonly name: string;
  readonly type: MetricType;
  readonly unit: MetricUnit;
  readonly help: string;
  readonly labels: Readonly<Record<string, LabelSpec>>;
  /** Histogram bucket upper bounds, in the metric's unit. */
  readonly buckets?: readonly number[];
  readonly emittedBy: readonly Emitter[];
  /** How the Lambda worker publishes the same measurement through EMF. */
  readonly cloudwatch?: CloudWatchMetric;
}

export const CLOUDWATCH_NAMESPACE = "ContentEngine";

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"] as const;
export const HTTP_ROUTES = [
  "/v1/jobs",
  "/v1/jobs/:id",
  "/v1/jobs/:id/result",
  "/health",
  "/ready",
  "/metrics",
  "/openapi.json",
  "/docs",
  "/docs/:asset",
  "unmatched",
] as const;
export const HTTP_STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
export const JOB_OUTCOMES = ["succeeded", "failed", "retried", "duplicate"] as const;
export const ENQUEUE_FAILURE_STAGES = ["upload", "status", "send"] as const;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];

export const catalog = {
  httpRequests: {
    name: "content_engine_http_requests_total",
    type: "counter",
    unit: "requests",
    help: "HTTP requests answered by the API, by method, route template and status class.",
    labels: {
      method: { values: HTTP_METHODS },
      route: { values: HTTP_ROUTES },
      status: { values: HTTP_STATUS_CLASSES },
    },
    emittedBy: ["api"],
  },
  httpRequestDuration: {
    name: "content_engine_http_request_duration_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Time from request arrival to the last response byte, by method, route template and status class.",
    labels: {
      method: { values: HTTP_METHODS },
      route: { values: HTTP_ROUTES },
      status: { values: HTTP_STATUS_CLASSES },
    },
    buckets: LATENCY_BUCKETS,
    emittedBy: ["api"],
  },
  uploadBytes: {
    name: "content_engine_upload_bytes_total",
    type: "counter",
    unit: "bytes",
    help: "Bytes of accepted uploads streamed into S3.",
    labels: {},
    emittedBy: ["api"],
  },
  jobsEnqueued: {
    name: "content_engine_jobs_enqueued_total",
    type: "counter",
    unit: "jobs",
    help: "Jobs whose message reached the queue.",
    labels: {},
    emittedBy: ["api"],
  },
  enqueueFailures: {
    name: "content_engine_enqueue_failures_total",
    type: "counter",
    unit: "jobs",
    help: "Uploads that could not become a queued job, by the stage that failed (nothing is left half-made).",
    labels: { stage: { values: ENQUEUE_FAILURE_STAGES } },
    emittedBy: ["api"],
  },
  jobsProcessed: {
    name: "content_engine_jobs_processed_total",
    type: "counter",
    unit: "jobs",
    help: "Job messages handled by the worker, by outcome.",
    labels: { outcome: { values: JOB_OUTCOMES } },
    emittedBy: ["consumer", "lambda"],
    cloudwatch: { namespace: CLOUDWATCH_NAMESPACE, name: "JobsProcessed", unit: "Count" },
  },
  jobDuration: {
    name: "content_engine_job_duration_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Time the worker spent on one job message, by outcome.",
    labels: { outcome: { values: JOB_OUTCOMES } },
    buckets: JOB_BUCKETS,
    emittedBy: ["consumer", "lambda"],
    cloudwatch: { namespace: CLOUDWATCH_NAMESPACE, name: "JobDuration", unit: "Seconds" },
  },
  jobQueueWait: {
    name: "content_engine_job_queue_wait_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Time a job message waited in the queue before the worker picked it up (now - SentTimestamp).",
    labels: {},
    buckets: JOB_BUCKETS,
    emittedBy: ["consumer", "lambda"],
    cloudwatch: { namespace: CLOUDWATCH_NAMESPACE, name: "JobQueueWait", unit: "Seconds" },
  },
} as const satisfies Record<string, MetricDefinition>;

export type CatalogKey = keyof typeof catalog;

export function metricsEmittedBy(emitter: Emitter): MetricDefinition[] {
  return Object.values(catalog).filter((m: MetricDefinition) => m.emittedBy.includes(emitter));
}

export function findMetric(name: string): MetricDefinition | undefined {
  return Object.values(catalog).find((m: MetricDefinition) => m.name === name);
}

/**
 * The telemetry catalog: every metric content-engine emits, declared once.
 *
 * Instrumentation (prom-client in the API and the consumer, CloudWatch EMF in the Lambda worker),
 * dashboards and alarms are all built from these entries; nothing else may invent a metric name,
 * a label or a unit.
 */

import { HTTP_ROUTES } from "./http-routes.ts";

// The route labels are generated from the API's route table (services/api/src/routes.ts).
export { HTTP_ROUTES };

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
export const HTTP_STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
export const JOB_OUTCOMES = ["succeeded", "rejected", "failed", "retried", "duplicate"] as const;
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

/** Services a collector names in `service`: the API, and the worker (consumer or Lambda). */
export const METRIC_SERVICES = ["api", "worker"] as const;

/**
 * Labels the collector attaches to every scraped series (target labels), which queries may select
 * and group by although no service emits them: Prometheus's own `job` and `instance`, and the
 * `env` (the environment's name: environments/<name>.yaml, a preview's pr-<number>, or local) and `service` (one of METRIC_SERVICES) that the scrape
 * configuration adds (terraform/modules/metrics on ECS, the chart's ServiceMonitor on EKS).
 */
export const TARGET_LABELS = ["job", "instance", "env", "service"] as const;

export interface RuntimeMetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly unit: "seconds" | "bytes" | "descriptors";
  readonly help: string;
  readonly labels: Readonly<Record<string, LabelSpec>>;
  readonly emittedBy: readonly Emitter[];
  /** Who defines the metric: prom-client's `collectDefaultMetrics`, registered by each service. */
  readonly source: "prom-client-default";
}

/** Process metrics every Node service exposes through prom-client's default collectors. */
export const runtimeMetrics = {
  processCpu: {
    name: "process_cpu_seconds_total",
    type: "counter",
    unit: "seconds",
    help: "CPU time (user + system) the service process has used.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  processResidentMemory: {
    name: "process_resident_memory_bytes",
    type: "gauge",
    unit: "bytes",
    help: "Resident memory of the service process.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  processStartTime: {
    name: "process_start_time_seconds",
    type: "gauge",
    unit: "seconds",
    help: "Unix time the process started; a change marks a deploy or a restart.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  eventLoopLagP99: {
    name: "nodejs_eventloop_lag_p99_seconds",
    type: "gauge",
    unit: "seconds",
    help: "99th percentile of the Node.js event-loop delay.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  gcDuration: {
    name: "nodejs_gc_duration_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Time spent in garbage collection, by kind of collection.",
    labels: { kind: { values: ["major", "minor", "incremental", "weakcb"] } },
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  heapUsed: {
    name: "nodejs_heap_size_used_bytes",
    type: "gauge",
    unit: "bytes",
    help: "V8 heap in use.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  heapTotal: {
    name: "nodejs_heap_size_total_bytes",
    type: "gauge",
    unit: "bytes",
    help: "V8 heap reserved (used plus free).",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  openFds: {
    name: "process_open_fds",
    type: "gauge",
    unit: "descriptors",
    help: "Open file descriptors of the service process (sockets included).",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
  maxFds: {
    name: "process_max_fds",
    type: "gauge",
    unit: "descriptors",
    help: "The process's limit on open file descriptors.",
    labels: {},
    emittedBy: ["api", "consumer"],
    source: "prom-client-default",
  },
} as const satisfies Record<string, RuntimeMetricDefinition>;

export type KubernetesExporter = "cadvisor" | "kube-state-metrics" | "keda" | "prometheus";

export interface KubernetesMetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  /** `resource`: cores or bytes, as the series' `unit` label says; `count`: restarts, or 0/1. */
  readonly unit: "seconds" | "bytes" | "replicas" | "messages" | "resource" | "count";
  readonly help: string;
  /** Label names queries may use; values are Kubernetes object names (bounded by the release). */
  readonly labels: readonly string[];
  readonly source: "kubernetes";
  readonly exporter: KubernetesExporter;
}

/** Metrics the EKS cluster's exporters publish about our workloads (scraped by Prometheus there). */
export const kubernetesMetrics = {
  containerCpu: {
    name: "container_cpu_usage_seconds_total",
    type: "counter",
    unit: "seconds",
    help: "CPU time used by a container (cAdvisor, through the kubelet).",
    labels: ["namespace", "pod", "container"],
    source: "kubernetes",
    exporter: "cadvisor",
  },
  containerMemory: {
    name: "container_memory_working_set_bytes",
    type: "gauge",
    unit: "bytes",
    help: "Working-set memory of a container, the figure the OOM killer compares with the limit.",
    labels: ["namespace", "pod", "container"],
    source: "kubernetes",
    exporter: "cadvisor",
  },
  deploymentReplicasAvailable: {
    name: "kube_deployment_status_replicas_available",
    type: "gauge",
    unit: "replicas",
    help: "Available replicas of a Deployment.",
    labels: ["namespace", "deployment"],
    source: "kubernetes",
    exporter: "kube-state-metrics",
  },
  hpaCurrentReplicas: {
    name: "kube_horizontalpodautoscaler_status_current_replicas",
    type: "gauge",
    unit: "replicas",
    help: "Replicas the HPA (KEDA's keda-hpa-<scaledobject>) currently runs.",
    labels: ["namespace", "horizontalpodautoscaler"],
    source: "kubernetes",
    exporter: "kube-state-metrics",
  },
  kedaScalerMetric: {
    name: "keda_scaler_metrics_value",
    type: "gauge",
    unit: "messages",
    help: "The value KEDA's scaler reads (SQS queue length) for a ScaledObject.",
    labels: ["namespace", "scaledObject", "scaler", "metric"],
    source: "kubernetes",
    exporter: "keda",
  },
  containerResourceLimits: {
    name: "kube_pod_container_resource_limits",
    type: "gauge",
    unit: "resource",
    help: "A container's limit of a resource (cpu in cores, memory in bytes), from its pod spec.",
    labels: ["namespace", "pod", "container", "resource", "unit"],
    source: "kubernetes",
    exporter: "kube-state-metrics",
  },
  containerRestarts: {
    name: "kube_pod_container_status_restarts_total",
    type: "counter",
    unit: "count",
    help: "Restarts of a container.",
    labels: ["namespace", "pod", "container"],
    source: "kubernetes",
    exporter: "kube-state-metrics",
  },
  containerLastTerminatedReason: {
    name: "kube_pod_container_status_last_terminated_reason",
    type: "gauge",
    unit: "count",
    help: "1 for the reason (OOMKilled, Error, ...) a container last terminated with.",
    labels: ["namespace", "pod", "container", "reason"],
    source: "kubernetes",
    exporter: "kube-state-metrics",
  },
  scrapeUp: {
    name: "up",
    type: "gauge",
    unit: "count",
    help: "1 when Prometheus's last scrape of a target succeeded, 0 when it failed (Prometheus itself writes it).",
    labels: [],
    source: "kubernetes",
    exporter: "prometheus",
  },
} as const satisfies Record<string, KubernetesMetricDefinition>;

export type AwsNamespace =
  | "AWS/SQS"
  | "AWS/ECS"
  | "ECS/ContainerInsights"
  | "AWS/ApplicationELB"
  | "AWS/Lambda"
  | typeof CLOUDWATCH_NAMESPACE;
export type AwsUnit = "Seconds" | "Milliseconds" | "Count" | "Percent";
export type AwsStatistic = "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount";

export interface AwsMetricDefinition {
  readonly namespace: AwsNamespace;
  readonly name: string;
  readonly unit: AwsUnit;
  readonly help: string;
  /** Dimension names the metric is published with; alarms must bind exactly these. */
  readonly dimensions: readonly string[];
  /** Statistics that mean something for this metric (Sum of an age does not). */
  readonly statistics: readonly AwsStatistic[];
  /** Whether percentile statistics (p99, PR(:x)) apply. */
  readonly percentiles: boolean;
  /** `aws`: published by the AWS service itself; `lambda`: our EMF records from the worker. */
  readonly source: "aws" | "lambda";
}

const QUEUE = ["QueueName"] as const;
const ECS_SERVICE = ["ClusterName", "ServiceName"] as const;
const ALB_TARGET = ["LoadBalancer", "TargetGroup"] as const;
const ALB = ["LoadBalancer"] as const;
const LAMBDA = ["FunctionName"] as const;
/** Powertools adds `service` to every EMF record of the worker (serviceName "worker"). */
const EMF_JOB = ["service", "outcome"] as const;

/** CloudWatch metrics, by namespace and name: AWS's own and the worker's EMF records. */
export const awsMetrics = {
  sqsAgeOfOldestMessage: {
    namespace: "AWS/SQS",
    name: "ApproximateAgeOfOldestMessage",
    unit: "Seconds",
    help: "Age of the oldest message in the queue: how stale the next job is.",
    dimensions: QUEUE,
    statistics: ["Maximum", "Average"],
    percentiles: false,
    source: "aws",
  },
  sqsMessagesVisible: {
    namespace: "AWS/SQS",
    name: "ApproximateNumberOfMessagesVisible",
    unit: "Count",
    help: "Messages waiting to be received (queue depth; on the DLQ, jobs that failed for good).",
    dimensions: QUEUE,
    statistics: ["Maximum", "Average"],
    percentiles: false,
    source: "aws",
  },
  sqsMessagesNotVisible: {
    namespace: "AWS/SQS",
    name: "ApproximateNumberOfMessagesNotVisible",
    unit: "Count",
    help: "Messages received by a worker and not yet deleted (in flight).",
    dimensions: QUEUE,
    statistics: ["Maximum", "Average"],
    percentiles: false,
    source: "aws",
  },
  sqsMessagesSent: {
    namespace: "AWS/SQS",
    name: "NumberOfMessagesSent",
    unit: "Count",
    help: "Messages the API sent to the queue.",
    dimensions: QUEUE,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  ecsCpu: {
    namespace: "AWS/ECS",
    name: "CPUUtilization",
    unit: "Percent",
    help: "CPU the service's tasks use, as a share of what they reserve.",
    dimensions: ECS_SERVICE,
    statistics: ["Average", "Maximum"],
    percentiles: false,
    source: "aws",
  },
  ecsMemory: {
    namespace: "AWS/ECS",
    name: "MemoryUtilization",
    unit: "Percent",
    help: "Memory the service's tasks use, as a share of what they reserve.",
    dimensions: ECS_SERVICE,
    statistics: ["Average", "Maximum"],
    percentiles: false,
    source: "aws",
  },
  ecsRunningTasks: {
    namespace: "ECS/ContainerInsights",
    name: "RunningTaskCount",
    unit: "Count",
    help: "Tasks of the service in RUNNING state (Container Insights).",
    dimensions: ECS_SERVICE,
    statistics: ["Minimum", "Average"],
    percentiles: false,
    source: "aws",
  },
  albRequests: {
    namespace: "AWS/ApplicationELB",
    name: "RequestCount",
    unit: "Count",
    help: "Requests the load balancer routed to the API's target group.",
    dimensions: ALB_TARGET,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  albTarget5xx: {
    namespace: "AWS/ApplicationELB",
    name: "HTTPCode_Target_5XX_Count",
    unit: "Count",
    help: "5xx responses the API's targets answered.",
    dimensions: ALB_TARGET,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  albElb5xx: {
    namespace: "AWS/ApplicationELB",
    name: "HTTPCode_ELB_5XX_Count",
    unit: "Count",
    help: "5xx responses the load balancer answered itself (502/503/504: no healthy target, target reset, timeout).",
    dimensions: ALB,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  albHealthyHosts: {
    namespace: "AWS/ApplicationELB",
    name: "HealthyHostCount",
    unit: "Count",
    help: "API targets passing the load balancer's health check.",
    dimensions: ALB_TARGET,
    statistics: ["Minimum", "Average"],
    percentiles: false,
    source: "aws",
  },
  albUnhealthyHosts: {
    namespace: "AWS/ApplicationELB",
    name: "UnHealthyHostCount",
    unit: "Count",
    help: "API targets failing the load balancer's health check.",
    dimensions: ALB_TARGET,
    statistics: ["Maximum", "Average"],
    percentiles: false,
    source: "aws",
  },
  albTargetResponseTime: {
    namespace: "AWS/ApplicationELB",
    name: "TargetResponseTime",
    unit: "Seconds",
    help: "Time from the load balancer sending a request to the API until the response headers.",
    dimensions: ALB_TARGET,
    statistics: ["Average", "Maximum"],
    percentiles: true,
    source: "aws",
  },
  lambdaInvocations: {
    namespace: "AWS/Lambda",
    name: "Invocations",
    unit: "Count",
    help: "Worker invocations (batches of job messages).",
    dimensions: LAMBDA,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  lambdaErrors: {
    namespace: "AWS/Lambda",
    name: "Errors",
    unit: "Count",
    help: "Worker invocations that ended in an error.",
    dimensions: LAMBDA,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  lambdaThrottles: {
    namespace: "AWS/Lambda",
    name: "Throttles",
    unit: "Count",
    help: "Worker invocations refused for lack of concurrency.",
    dimensions: LAMBDA,
    statistics: ["Sum"],
    percentiles: false,
    source: "aws",
  },
  lambdaDuration: {
    namespace: "AWS/Lambda",
    name: "Duration",
    unit: "Milliseconds",
    help: "Time the worker spent in one invocation.",
    dimensions: LAMBDA,
    statistics: ["Average", "Maximum"],
    percentiles: true,
    source: "aws",
  },
  lambdaConcurrentExecutions: {
    namespace: "AWS/Lambda",
    name: "ConcurrentExecutions",
    unit: "Count",
    help: "Worker instances running at once.",
    dimensions: LAMBDA,
    statistics: ["Maximum"],
    percentiles: false,
    source: "aws",
  },
  jobsProcessed: {
    namespace: CLOUDWATCH_NAMESPACE,
    name: catalog.jobsProcessed.cloudwatch.name,
    unit: catalog.jobsProcessed.cloudwatch.unit,
    help: catalog.jobsProcessed.help,
    dimensions: EMF_JOB,
    statistics: ["Sum"],
    percentiles: false,
    source: "lambda",
  },
  jobDuration: {
    namespace: CLOUDWATCH_NAMESPACE,
    name: catalog.jobDuration.cloudwatch.name,
    unit: catalog.jobDuration.cloudwatch.unit,
    help: catalog.jobDuration.help,
    dimensions: EMF_JOB,
    statistics: ["Average", "Maximum", "SampleCount"],
    percentiles: true,
    source: "lambda",
  },
  jobQueueWait: {
    namespace: CLOUDWATCH_NAMESPACE,
    name: catalog.jobQueueWait.cloudwatch.name,
    unit: catalog.jobQueueWait.cloudwatch.unit,
    help: catalog.jobQueueWait.help,
    dimensions: ["service"],
    statistics: ["Average", "Maximum", "SampleCount"],
    percentiles: true,
    source: "lambda",
  },
} as const satisfies Record<string, AwsMetricDefinition>;

export type AwsMetricKey = keyof typeof awsMetrics;

export function findAwsMetric(namespace: string, name: string): AwsMetricDefinition | undefined {
  return Object.values(awsMetrics).find(
    (m: AwsMetricDefinition) => m.namespace === namespace && m.name === name,
  );
}

export interface PrometheusSeriesFamily {
  /** The metric family name as declared. */
  readonly name: string;
  readonly type: MetricType;
  /** Every label a query may use on the family's series: declared, target and (histograms) `le`. */
  readonly labels: readonly string[];
  readonly origin: "service" | "runtime" | "kubernetes";
}

/**
 * Every Prometheus metric family a query may reference: the services' own, the runtime defaults
 * and the Kubernetes exporters', with the labels that may appear on each.
 */
export function prometheusFamilies(): PrometheusSeriesFamily[] {
  const families: PrometheusSeriesFamily[] = [];
  // Our own and the runtime's families: their labels, `le` on a histogram, the scrape target's.
  const declared = (m: MetricDefinition | RuntimeMetricDefinition, origin: "service" | "runtime") => ({
    name: m.name,
    type: m.type,
    labels: [...Object.keys(m.labels), ...(m.type === "histogram" ? ["le"] : []), ...TARGET_LABELS],
    origin,
  });
  for (const m of Object.values(catalog) as MetricDefinition[]) families.push(declared(m, "service"));
  for (const m of Object.values(runtimeMetrics) as RuntimeMetricDefinition[])
    families.push(declared(m, "runtime"));
  for (const m of Object.values(kubernetesMetrics) as KubernetesMetricDefinition[]) {
    families.push({
      name: m.name,
      type: m.type,
      labels: [...m.labels, ...TARGET_LABELS],
      origin: "kubernetes",
    });
  }
  return families;
}

/**
 * The family a series name belongs to (`x_bucket`, `x_sum`, `x_count` belong to histogram `x`),
 * or undefined when no catalog entry declares it.
 */
export function familyOfSeries(series: string): PrometheusSeriesFamily | undefined {
  const families = prometheusFamilies();
  const exact = families.find((f) => f.name === series);
  if (exact) return exact;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m ? families.find((f) => f.name === m[1] && f.type === "histogram") : undefined;
}

// Every alarm of one environment, from the telemetry catalog and environments/<env>.yaml.
// On by default: an environment gets all of them; thresholds only tune them.
import type { Environment } from "@content-engine/environments";
import { awsMetrics, catalog, kubernetesMetrics } from "@content-engine/telemetry";
import type { AlarmDefinition, CompositeAlarmDefinition, MetricAlarmDefinition, MetricRef } from "./model.ts";
import { type ResolvedThresholds, resolveThresholds } from "./thresholds.ts";

/**
 * ALB dimensions hold generated ids (`app/<name>/<hash>`) that no file in this repository knows;
 * alarms carry a reference by name that the apply step resolves with the ELBv2 API.
 */
export function loadBalancerRef(name: string): string {
  return `{{alb:${name}}}`;
}
export function targetGroupRef(name: string): string {
  return `{{targetgroup:${name}}}`;
}

function queueName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

/** Burn-rate windows (Google SRE workbook): page on fast burn, where both windows agree. */
export const BURN_WINDOWS = [
  { name: "fast", factor: 14.4, long: { label: "1h", seconds: 3600 }, short: { label: "5m", seconds: 300 } },
  { name: "slow", factor: 6, long: { label: "6h", seconds: 21600 }, short: { label: "30m", seconds: 1800 } },
] as const;

function round(value: number): number {
  return Number(value.toPrecision(6));
}

export function alarmDefinitions(env: Environment): AlarmDefinition[] {
  const t: ResolvedThresholds = resolveThresholds(env);
  const queue = { QueueName: queueName(env.queue.url) };
  const dlq = { QueueName: queueName(env.queue.dlqUrl) };
  const ecs = { ClusterName: env.api.cluster, ServiceName: env.api.service };
  const albName = `content-engine-${env.name}`;
  const alb = { LoadBalancer: loadBalancerRef(albName), TargetGroup: targetGroupRef(`${albName}-api`) };
  const lambda = { FunctionName: env.worker.functionName };
  const k8sNamespace = env.eks?.namespace ?? "content-engine";
  const release = env.eks?.release ?? "content-engine";
  const fullname = release.includes("content-engine") ? release : `${release}-content-engine`;
  const m = (
    metric: MetricRef["metric"],
    dimensions: Record<string, string>,
    stat: string,
  ): Record<string, MetricRef> => ({
    m1: { metric, dimensions, stat },
  });
  const http = catalog.httpRequests.name;
  const jobs = catalog.jobsProcessed.name;

  const alarms: AlarmDefinition[] = [
    {
      kind: "metric",
      id: "queue-age",
      summary: `The oldest job has waited more than ${t.queueAgeSeconds} s in the jobs queue: workers are not keeping up or not running.`,
      runbook: "queue-age",
      pages: true,
      metrics: m(awsMetrics.sqsAgeOfOldestMessage, queue, "Maximum"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.queueAgeSeconds,
      treatMissingData: "notBreaching",
    },
    {
      kind: "metric",
      id: "queue-depth",
      summary: `More than ${t.queueVisibleMessages} jobs are waiting in the jobs queue.`,
      runbook: "queue-depth",
      pages: true,
      metrics: m(awsMetrics.sqsMessagesVisible, queue, "Maximum"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.queueVisibleMessages,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `max(${kubernetesMetrics.kedaScalerMetric.name}{namespace="${k8sNamespace}", scaledObject="${fullname}-worker"}) > ${t.queueVisibleMessages}`,
        for: "5m",
      },
    },
    {
      kind: "metric",
      id: "dlq-not-empty",
      summary: `The dead-letter queue holds more than ${t.dlqVisibleMessages} messages: jobs failed for good.`,
      runbook: "dlq-not-empty",
      pages: true,
      metrics: m(awsMetrics.sqsMessagesVisible, dlq, "Maximum"),
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.dlqVisibleMessages,
      treatMissingData: "notBreaching",
    },
  ];

  if (t.producerStoppedMinutes > 0) {
    const periods = Math.ceil(t.producerStoppedMinutes / 5);
    alarms.push({
      kind: "metric",
      id: "producer-stopped",
      summary: `No job has been sent to the queue for ${periods * 5} minutes: the API is not accepting work.`,
      runbook: "producer-stopped",
      pages: true,
      metrics: m(awsMetrics.sqsMessagesSent, queue, "Sum"),
      period: 300,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparison: "LessThanOrEqualToThreshold",
      threshold: 0,
      // SQS publishes NumberOfMessagesSent only while the queue is active: silence means no sends.
      treatMissingData: "breaching",
    });
  }

  alarms.push(
    {
      kind: "metric",
      id: "api-cpu-high",
      summary: `The API's tasks use more than ${t.apiCpuPercent} % of their CPU.`,
      runbook: "api-cpu-high",
      pages: true,
      metrics: m(awsMetrics.ecsCpu, ecs, "Average"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 4,
      comparison: "GreaterThanThreshold",
      threshold: t.apiCpuPercent,
      treatMissingData: "missing",
    },
    {
      kind: "metric",
      id: "api-memory-high",
      summary: `The API's tasks use more than ${t.apiMemoryPercent} % of their memory.`,
      runbook: "api-memory-high",
      pages: true,
      metrics: m(awsMetrics.ecsMemory, ecs, "Average"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 4,
      comparison: "GreaterThanThreshold",
      threshold: t.apiMemoryPercent,
      treatMissingData: "missing",
    },
  );

  if (env.api.minCount > 0) {
    alarms.push({
      kind: "metric",
      id: "api-tasks-below-min",
      summary: `Fewer than ${env.api.minCount} API tasks are running.`,
      runbook: "api-tasks-below-min",
      pages: true,
      metrics: m(awsMetrics.ecsRunningTasks, ecs, "Minimum"),
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: "LessThanThreshold",
      threshold: env.api.minCount,
      // Container Insights stops reporting a service with no tasks at all.
      treatMissingData: "breaching",
      prometheus: {
        expr: `sum(${kubernetesMetrics.deploymentReplicasAvailable.name}{namespace="${k8sNamespace}", deployment="${fullname}-api"}) < ${env.api.minCount}`,
        for: "3m",
      },
    });
  }

  alarms.push(
    {
      kind: "metric",
      id: "api-5xx",
      summary: `The API answered more than ${t.api5xxErrors} 5xx responses in 5 minutes.`,
      runbook: "api-5xx",
      pages: true,
      metrics: m(awsMetrics.albTarget5xx, alb, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.api5xxErrors,
      treatMissingData: "notBreaching",
      prometheus: { expr: `sum(increase(${http}{status="5xx"}[5m])) > ${t.api5xxErrors}`, for: "0m" },
    },
    {
      kind: "metric",
      id: "api-latency-p99",
      summary: `The API's p99 response time is above ${t.apiP99LatencySeconds} s.`,
      runbook: "api-latency-p99",
      pages: true,
      metrics: m(awsMetrics.albTargetResponseTime, alb, "p99"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.apiP99LatencySeconds,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.99, sum by (le) (rate(${catalog.httpRequestDuration.name}_bucket{route=~"/v1/.*"}[5m]))) > ${t.apiP99LatencySeconds}`,
        for: "5m",
      },
    },
    {
      kind: "metric",
      id: "worker-errors",
      summary: `The worker failed more than ${t.workerErrors} times in 5 minutes.`,
      runbook: "worker-errors",
      pages: true,
      metrics: m(awsMetrics.lambdaErrors, lambda, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.workerErrors,
      treatMissingData: "notBreaching",
      prometheus: { expr: `sum(increase(${jobs}{outcome="failed"}[5m])) > ${t.workerErrors}`, for: "0m" },
    },
    {
      kind: "metric",
      id: "worker-throttles",
      summary: `The worker was throttled more than ${t.lambdaThrottles} times in 5 minutes: jobs wait for concurrency.`,
      runbook: "worker-throttles",
      pages: true,
      metrics: m(awsMetrics.lambdaThrottles, lambda, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.lambdaThrottles,
      treatMissingData: "notBreaching",
    },
    {
      kind: "metric",
      id: "worker-duration-p90",
      summary: `The worker's p90 duration is above ${Math.round(t.lambdaDurationRatio * 100)} % of its ${env.worker.timeout} s timeout.`,
      runbook: "worker-duration-p90",
      pages: true,
      metrics: m(awsMetrics.lambdaDuration, lambda, "p90"),
      period: 300,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: "GreaterThanThreshold",
      threshold: round(t.lambdaDurationRatio * env.worker.timeout * 1000),
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.9, sum by (le) (rate(${catalog.jobDuration.name}_bucket[5m]))) > ${round(t.lambdaDurationRatio * env.worker.timeout)}`,
        for: "15m",
      },
    },
    {
      kind: "metric",
      id: "worker-concurrency",
      summary: `The worker runs at ${Math.round(t.lambdaConcurrencyRatio * 100)} % or more of its maximum concurrency (${env.worker.maxConcurrency}).`,
      runbook: "worker-concurrency",
      pages: true,
      metrics: m(awsMetrics.lambdaConcurrentExecutions, lambda, "Maximum"),
      period: 60,
      evaluationPeriods: 10,
      datapointsToAlarm: 8,
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: round(t.lambdaConcurrencyRatio * env.worker.maxConcurrency),
      treatMissingData: "notBreaching",
    },
  );

  alarms.push(
    ...burnRateAlarms({
      slo: "api-availability",
      what: "API availability",
      objective: t.apiAvailabilitySlo,
      runbook: "api-availability-burn",
      metrics: {
        errors: { metric: awsMetrics.albTarget5xx, dimensions: alb, stat: "Sum" },
        requests: { metric: awsMetrics.albRequests, dimensions: alb, stat: "Sum" },
      },
      expression: "IF(requests > 0, FILL(errors, 0) / requests, 0)",
      label: "5xx ratio",
      promBadRatio: (w) => `sum(rate(${http}{status="5xx"}[${w}])) / sum(rate(${http}[${w}]))`,
    }),
    ...burnRateAlarms({
      slo: "job-freshness",
      what: `Job freshness (start within ${t.jobFreshnessSeconds} s)`,
      objective: t.jobFreshnessSlo,
      runbook: "job-freshness-burn",
      metrics: {
        fresh: {
          metric: awsMetrics.jobQueueWait,
          dimensions: { service: "worker" },
          stat: `PR(:${t.jobFreshnessSeconds})`,
        },
      },
      expression: "(100 - FILL(fresh, 100)) / 100",
      label: "share of stale jobs",
      promBadRatio: (w) =>
        `(1 - sum(rate(${catalog.jobQueueWait.name}_bucket{le="${t.jobFreshnessSeconds}"}[${w}])) / sum(rate(${catalog.jobQueueWait.name}_count[${w}])))`,
    }),
  );

  if (env.platform === "eks") placeOnEks(alarms);

  const unhealthy: CompositeAlarmDefinition = {
    kind: "composite",
    id: "service-unhealthy",
    summary:
      "Something that users notice is wrong (5xx, failing or stale jobs, DLQ, missing API tasks, a fast SLO burn). Deploys and promotions stop while this is in ALARM.",
    runbook: "service-unhealthy",
    pages: false,
    rule: [
      "api-5xx",
      "worker-errors",
      "dlq-not-empty",
      "api-tasks-below-min",
      "api-availability-fast-burn",
      "job-freshness-fast-burn",
    ]
      .filter((id) => alarms.some((a) => a.id === id && a.cloudwatch !== false))
      .map((id) => `ALARM(${id})`)
      .join(" OR "),
  };
  alarms.push(unhealthy);
  return alarms;
}

/**
 * On EKS the API and the worker run as pods: the ECS, ALB and Lambda metrics do not exist, so only
 * the SQS alarms stay in CloudWatch; what Prometheus can see becomes a rule only, the rest goes.
 */
function placeOnEks(alarms: AlarmDefinition[]): void {
  const onSqs = (a: AlarmDefinition) =>
    a.kind === "metric" && Object.values(a.metrics).every((ref) => ref.metric.namespace === "AWS/SQS");
  for (let i = alarms.length - 1; i >= 0; i--) {
    const alarm = alarms[i]!;
    if (onSqs(alarm)) continue;
    if (alarm.prometheus) alarms[i] = { ...alarm, cloudwatch: false };
    else alarms.splice(i, 1);
  }
}

interface BurnRateSpec {
  slo: string;
  what: string;
  objective: number;
  runbook: string;
  metrics: Record<string, MetricRef>;
  expression: string;
  label: string;
  promBadRatio: (window: string) => string;
}

/**
 * Multi-window burn-rate alarms: for each window pair, a (non-paging) alarm per window on the bad
 * ratio, and a paging composite that needs both — the long window proves it matters, the short
 * one that it is still happening.
 */
function burnRateAlarms(spec: BurnRateSpec): AlarmDefinition[] {
  const budget = 1 - spec.objective;
  const out: AlarmDefinition[] = [];
  for (const w of BURN_WINDOWS) {
    const threshold = round(w.factor * budget);
    const windowAlarm = (window: { label: string; seconds: number }): MetricAlarmDefinition => ({
      kind: "metric",
      id: `${spec.slo}-burn-${window.label}`,
      summary: `${spec.what}: the ${window.label} bad ratio burns the ${spec.objective} SLO's budget at ${w.factor}x or more. Part of ${spec.slo}-${w.name}-burn.`,
      runbook: spec.runbook,
      pages: false,
      metrics: spec.metrics,
      expression: { expr: spec.expression, label: spec.label },
      period: window.seconds,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold,
      treatMissingData: "notBreaching",
    });
    const long = windowAlarm(w.long);
    const short = windowAlarm(w.short);
    out.push(long, short, {
      kind: "composite",
      id: `${spec.slo}-${w.name}-burn`,
      summary: `${spec.what} burns its ${spec.objective} SLO error budget at ${w.factor}x over ${w.long.label} and ${w.short.label}${w.name === "fast" ? ": the month's budget is gone in two days" : ": the budget is gone in five days"}.`,
      runbook: spec.runbook,
      pages: true,
      rule: `ALARM(${long.id}) AND ALARM(${short.id})`,
      prometheus: {
        expr: `(${spec.promBadRatio(w.long.label)} > ${threshold}) and (${spec.promBadRatio(w.short.label)} > ${threshold})`,
        for: w.name === "fast" ? "2m" : "15m",
      },
    });
  }
  return out;
}

// Every alarm of one environment, from the telemetry catalog and environments/<env>.yaml.
// On by default: an environment gets all of them; thresholds only tune them.
import { albReference, type Environment, kubernetesNames } from "@content-engine/environments";
import { awsMetrics, catalog, type HTTP_ROUTES, kubernetesMetrics } from "@content-engine/telemetry";
import { burnRateAlarms, round } from "./burn-rate.ts";
import { kubernetesAlerts } from "./kubernetes.ts";
import type { AlarmDefinition, CompositeAlarmDefinition, MetricRef } from "./model.ts";
import { type ResolvedThresholds, resolveThresholds } from "./thresholds.ts";

function queueName(url: string): string {
  return url.slice(url.lastIndexOf("/") + 1);
}

/**
 * Probe and scrape routes: always 2xx, asked by machines; not part of what users get. Typed against
 * the route label's values, so a renamed route fails the type check instead of silently counting.
 */
export const PROBE_ROUTES = ["/health", "/ready", "/metrics"] as const satisfies ReadonlyArray<
  (typeof HTTP_ROUTES)[number]
>;

export function alarmDefinitions(env: Environment): AlarmDefinition[] {
  const t: ResolvedThresholds = resolveThresholds(env);
  const queue = { QueueName: queueName(env.queue.url) };
  const dlq = { QueueName: queueName(env.queue.dlqUrl) };
  const ecs = { ClusterName: env.api.cluster, ServiceName: env.api.service };
  const alb = {
    LoadBalancer: albReference("alb", env.api.loadBalancer),
    TargetGroup: albReference("targetgroup", env.api.targetGroup),
  };
  const lb = { LoadBalancer: alb.LoadBalancer };
  const lambda = { FunctionName: env.worker.functionName };
  const k8s = kubernetesNames(env);
  const m = (
    metric: MetricRef["metric"],
    dimensions: Record<string, string>,
    stat: string,
  ): Record<string, MetricRef> => ({
    m1: { metric, dimensions, stat },
  });
  const http = catalog.httpRequests.name;
  const jobs = catalog.jobsProcessed.name;
  // Every rule selects on the labels the collector adds at scrape time (env, and service where one is meant).
  const inEnv = `env="${env.name}"`;
  const api = `${inEnv}, service="api"`;
  const worker = `${inEnv}, service="worker"`;
  const served = `${api}, route!~"${PROBE_ROUTES.join("|")}"`;
  const pods = `${inEnv}, namespace="${k8s.namespace}"`;

  const alarms: AlarmDefinition[] = [
    {
      kind: "metric",
      id: "queue-age",
      summary: `The oldest job has waited more than ${t.queueAgeSeconds} s in the jobs queue: workers are not keeping up or not running.`,
      runbook: "queue-age",
      severity: "page",
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
      // A backlog alone is capacity to plan; queue-age pages once users wait for it.
      severity: "ticket",
      metrics: m(awsMetrics.sqsMessagesVisible, queue, "Maximum"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.queueVisibleMessages,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `max(${kubernetesMetrics.kedaScalerMetric.name}{${pods}, scaledObject="${k8s.worker}"}) > ${t.queueVisibleMessages}`,
        for: "5m",
      },
    },
    {
      kind: "metric",
      id: "dlq-new-messages",
      summary:
        "New messages reached the dead-letter queue in the last minute: jobs failed for good on a system fault (retries exhausted, a crash, a dependency down).",
      runbook: "dlq-new-messages",
      severity: "page",
      // SQS does not count messages its redrive moves into a DLQ in NumberOfMessagesSent, so growth
      // is read from the visible count: any rise pages, however many old messages already wait.
      // FILL(…, 0): an idle DLQ publishes nothing, and its first message must still rise from 0.
      metrics: { dlq: { metric: awsMetrics.sqsMessagesVisible, dimensions: dlq, stat: "Maximum" } },
      expression: { expr: "DIFF(FILL(dlq, 0))", label: "messages added to the DLQ" },
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    },
    {
      kind: "metric",
      id: "dlq-not-empty",
      summary: `The dead-letter queue holds more than ${t.dlqVisibleMessages} messages: look at them, fix the cause, redrive or delete them.`,
      runbook: "dlq-not-empty",
      // Each arrival already paged (dlq-new-messages); what stays is work for a ticket.
      severity: "ticket",
      metrics: m(awsMetrics.sqsMessagesVisible, dlq, "Maximum"),
      period: 300,
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
      severity: "page",
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
      severity: "ticket",
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
      severity: "ticket",
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
    const replicas = `${kubernetesMetrics.deploymentReplicasAvailable.name}{${pods}, deployment="${k8s.api}"}`;
    alarms.push({
      kind: "metric",
      id: "api-tasks-below-min",
      summary: `Fewer than ${env.api.minCount} API tasks are running.`,
      runbook: "api-tasks-below-min",
      severity: "page",
      metrics: m(awsMetrics.ecsRunningTasks, ecs, "Minimum"),
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: "LessThanThreshold",
      threshold: env.api.minCount,
      // Container Insights stops reporting a service with no tasks at all.
      treatMissingData: "breaching",
      prometheus: {
        // No series at all (the Deployment is gone, or kube-state-metrics is) is not "enough replicas".
        expr: `sum(${replicas}) < ${env.api.minCount} or absent(${replicas})`,
        for: "3m",
      },
    });
  }

  alarms.push(
    {
      kind: "metric",
      id: "api-5xx",
      summary: `The API answered more than ${t.api5xxErrors} 5xx responses in 5 minutes (its own, and the load balancer's 502/503/504).`,
      runbook: "api-5xx",
      severity: "page",
      metrics: {
        target: { metric: awsMetrics.albTarget5xx, dimensions: alb, stat: "Sum" },
        elb: { metric: awsMetrics.albElb5xx, dimensions: lb, stat: "Sum" },
      },
      expression: {
        expr: "FILL(target, 0) + FILL(elb, 0)",
        label: "5xx answered by the API or its load balancer",
      },
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.api5xxErrors,
      treatMissingData: "notBreaching",
      prometheus: { expr: `sum(increase(${http}{${api}, status="5xx"}[5m])) > ${t.api5xxErrors}`, for: "0m" },
    },
    {
      kind: "metric",
      id: "api-latency-p99",
      summary: `The API's p99 response time is above ${t.apiP99LatencySeconds} s.`,
      runbook: "api-latency-p99",
      severity: "page",
      metrics: m(awsMetrics.albTargetResponseTime, alb, "p99"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.apiP99LatencySeconds,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.99, sum by (le) (rate(${catalog.httpRequestDuration.name}_bucket{${api}, route=~"/v1/.*"}[5m]))) > ${t.apiP99LatencySeconds}`,
        for: "5m",
      },
    },
    {
      kind: "metric",
      id: "worker-errors",
      summary: `The worker's Lambda invocations failed more than ${t.workerErrors} times in 5 minutes.`,
      runbook: "worker-errors",
      severity: "page",
      metrics: m(awsMetrics.lambdaErrors, lambda, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.workerErrors,
      treatMissingData: "notBreaching",
    },
    {
      kind: "metric",
      id: "jobs-failed",
      summary: `${t.jobsFailed === 0 ? "A job" : `More than ${t.jobsFailed} jobs`} failed on a system fault in 5 minutes (retries exhausted, a crash, a dependency down), though the worker may have returned normally.`,
      runbook: "jobs-failed",
      severity: "page",
      // The batch handler reports failed jobs as batch item failures, never as a Lambda error: only
      // the worker's own EMF count of outcome=failed sees a version that fails every job.
      metrics: m(awsMetrics.jobsProcessed, { service: "worker", outcome: "failed" }, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.jobsFailed,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `sum(increase(${jobs}{${worker}, outcome="failed"}[5m])) > ${t.jobsFailed}`,
        for: "0m",
      },
    },
    {
      kind: "metric",
      id: "jobs-rejected",
      summary: `More than ${t.jobsRejectedPerHour} documents in an hour were rejected for their content (a client fault: invalid JSON, no text, too complex). No page: look for a client sending them.`,
      runbook: "jobs-rejected",
      severity: "ticket",
      metrics: m(awsMetrics.jobsProcessed, { service: "worker", outcome: "rejected" }, "Sum"),
      period: 3600,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.jobsRejectedPerHour,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `sum(increase(${jobs}{${worker}, outcome="rejected"}[1h])) > ${t.jobsRejectedPerHour}`,
        for: "0m",
      },
    },
    {
      kind: "metric",
      id: "worker-throttles",
      summary: `The worker was throttled more than ${t.lambdaThrottles} times in 5 minutes: jobs wait for concurrency.`,
      runbook: "worker-throttles",
      severity: "ticket",
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
      severity: "ticket",
      metrics: m(awsMetrics.lambdaDuration, lambda, "p90"),
      period: 300,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: "GreaterThanThreshold",
      threshold: round(t.lambdaDurationRatio * env.worker.timeout * 1000),
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.9, sum by (le) (rate(${catalog.jobDuration.name}_bucket{${worker}}[5m]))) > ${round(t.lambdaDurationRatio * env.worker.timeout)}`,
        for: "15m",
      },
    },
    {
      kind: "metric",
      id: "worker-concurrency",
      summary: `The worker runs at ${Math.round(t.lambdaConcurrencyRatio * 100)} % or more of its maximum concurrency (${env.worker.maxConcurrency}).`,
      runbook: "worker-concurrency",
      severity: "ticket",
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
        elb: { metric: awsMetrics.albElb5xx, dimensions: lb, stat: "Sum" },
        requests: { metric: awsMetrics.albRequests, dimensions: alb, stat: "Sum" },
      },
      // The load balancer's own 5xx (no healthy target) never reach the target group's RequestCount:
      // they join the bad and the total alike, which keeps the ratio within 0..1.
      expression:
        "IF(FILL(requests, 0) + FILL(elb, 0) > 0, (FILL(errors, 0) + FILL(elb, 0)) / (FILL(requests, 0) + FILL(elb, 0)), 0)",
      label: "5xx ratio",
      promBadRatio: (w) =>
        `sum(rate(${http}{${served}, status="5xx"}[${w}])) / sum(rate(${http}{${served}}[${w}]))`,
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
        `(1 - sum(rate(${catalog.jobQueueWait.name}_bucket{${worker}, le="${t.jobFreshnessSeconds}"}[${w}])) / sum(rate(${catalog.jobQueueWait.name}_count{${worker}}[${w}])))`,
    }),
  );

  alarms.push(...kubernetesAlerts(env, { pods, api, worker, k8s }));

  if (env.platform === "eks") placeOnEks(alarms);

  const unhealthy: CompositeAlarmDefinition = {
    kind: "composite",
    id: "service-unhealthy",
    summary:
      "Something that users notice is wrong (5xx, failing or stale jobs, new dead letters, missing API tasks, a fast SLO burn). Deploys and promotions stop while this is in ALARM.",
    runbook: "service-unhealthy",
    // A gate, not a notification: each member pages on its own.
    severity: "none",
    rule: [
      "api-5xx",
      "worker-errors",
      "jobs-failed",
      "dlq-new-messages",
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

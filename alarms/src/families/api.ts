// The API: whether it still sends jobs, its tasks' capacity, and what its clients get (5xx, p99).
import { type AwsMetricDefinition, awsMetrics, catalog, kubernetesMetrics } from "@content-engine/telemetry";
import { type AlarmContext, oneMetric } from "../context.ts";
import type { AlarmDefinition, MetricAlarmDefinition } from "../model.ts";

export function apiAlarms(context: AlarmContext): AlarmDefinition[] {
  return [...producerAlarms(context), ...capacityAlarms(context), ...responseAlarms(context)];
}

/** The API's sends to the jobs queue, read from SQS: the one API signal every platform has. */
function producerAlarms({ thresholds: t, dimensions }: AlarmContext): AlarmDefinition[] {
  if (t.producerStoppedMinutes <= 0) return [];
  const periods = Math.ceil(t.producerStoppedMinutes / 5);
  return [
    {
      kind: "metric",
      id: "producer-stopped",
      summary: `No job has been sent to the queue for ${periods * 5} minutes: the API is not accepting work.`,
      runbook: "producer-stopped",
      severity: "page",
      metrics: oneMetric(awsMetrics.sqsMessagesSent, dimensions.queue, "Sum"),
      period: 300,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparison: "LessThanOrEqualToThreshold",
      threshold: 0,
      // SQS publishes NumberOfMessagesSent only while the queue is active: silence means no sends.
      treatMissingData: "breaching",
    },
  ];
}

/** The API's tasks: CPU and memory against their reservation, and enough of them running. */
function capacityAlarms({ env, thresholds: t, dimensions, selectors, k8s }: AlarmContext): AlarmDefinition[] {
  const usage = (
    id: string,
    what: string,
    metric: AwsMetricDefinition,
    percent: number,
  ): MetricAlarmDefinition => ({
    kind: "metric",
    id,
    summary: `The API's tasks use more than ${percent} % of their ${what}.`,
    runbook: id,
    severity: "ticket",
    metrics: oneMetric(metric, dimensions.ecs, "Average"),
    period: 60,
    evaluationPeriods: 5,
    datapointsToAlarm: 4,
    comparison: "GreaterThanThreshold",
    threshold: percent,
    treatMissingData: "missing",
  });
  const alarms: AlarmDefinition[] = [
    usage("api-cpu-high", "CPU", awsMetrics.ecsCpu, t.apiCpuPercent),
    usage("api-memory-high", "memory", awsMetrics.ecsMemory, t.apiMemoryPercent),
  ];
  if (env.api.minCount > 0) {
    const replicas = `${kubernetesMetrics.deploymentReplicasAvailable.name}{${selectors.pods}, deployment="${k8s.api}"}`;
    alarms.push({
      kind: "metric",
      id: "api-tasks-below-min",
      summary: `Fewer than ${env.api.minCount} API tasks are running.`,
      runbook: "api-tasks-below-min",
      severity: "page",
      metrics: oneMetric(awsMetrics.ecsRunningTasks, dimensions.ecs, "Minimum"),
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
  return alarms;
}

/** What clients get: 5xx (the targets' and the load balancer's own) and the p99 response time. */
function responseAlarms({ thresholds: t, dimensions, selectors }: AlarmContext): AlarmDefinition[] {
  return [
    {
      kind: "metric",
      id: "api-5xx",
      summary: `The API answered more than ${t.api5xxErrors} 5xx responses in 5 minutes (its own, and the load balancer's 502/503/504).`,
      runbook: "api-5xx",
      severity: "page",
      metrics: {
        target: { metric: awsMetrics.albTarget5xx, dimensions: dimensions.alb, stat: "Sum" },
        elb: { metric: awsMetrics.albElb5xx, dimensions: dimensions.lb, stat: "Sum" },
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
      prometheus: {
        expr: `sum(increase(${catalog.httpRequests.name}{${selectors.api}, status="5xx"}[5m])) > ${t.api5xxErrors}`,
        for: "0m",
      },
    },
    {
      kind: "metric",
      id: "api-latency-p99",
      summary: `The API's p99 response time is above ${t.apiP99LatencySeconds} s.`,
      runbook: "api-latency-p99",
      severity: "page",
      metrics: oneMetric(awsMetrics.albTargetResponseTime, dimensions.alb, "p99"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.apiP99LatencySeconds,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.99, sum by (le) (rate(${catalog.httpRequestDuration.name}_bucket{${selectors.api}, route=~"/v1/.*"}[5m]))) > ${t.apiP99LatencySeconds}`,
        for: "5m",
      },
    },
  ];
}

// The worker: its Lambda invocations, the outcome of the jobs it handles (system faults page, client
// faults are a ticket), and its capacity against the timeout and the concurrency it may use.
import { awsMetrics, catalog } from "@content-engine/telemetry";
import { type AlarmContext, oneMetric } from "../context.ts";
import type { AlarmDefinition } from "../model.ts";
import { round } from "../thresholds.ts";

export function workerAlarms(context: AlarmContext): AlarmDefinition[] {
  return [...invocationAlarms(context), ...outcomeAlarms(context), ...capacityAlarms(context)];
}

function invocationAlarms({ thresholds: t, dimensions }: AlarmContext): AlarmDefinition[] {
  return [
    {
      kind: "metric",
      id: "worker-errors",
      summary: `The worker's Lambda invocations failed more than ${t.workerErrors} times in 5 minutes.`,
      runbook: "worker-errors",
      severity: "page",
      metrics: oneMetric(awsMetrics.lambdaErrors, dimensions.lambda, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.workerErrors,
      treatMissingData: "notBreaching",
    },
  ];
}

/** The worker's own count of job outcomes (EMF on Lambda, /metrics on EKS): failed pages, rejected does not. */
function outcomeAlarms({ thresholds: t, selectors }: AlarmContext): AlarmDefinition[] {
  const jobs = catalog.jobsProcessed.name;
  return [
    {
      kind: "metric",
      id: "jobs-failed",
      summary: `${t.jobsFailed === 0 ? "A job" : `More than ${t.jobsFailed} jobs`} failed on a system fault in 5 minutes (retries exhausted, a crash, a dependency down), though the worker may have returned normally.`,
      runbook: "jobs-failed",
      severity: "page",
      // The batch handler reports failed jobs as batch item failures, never as a Lambda error: only
      // the worker's own EMF count of outcome=failed sees a version that fails every job.
      metrics: oneMetric(awsMetrics.jobsProcessed, { service: "worker", outcome: "failed" }, "Sum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.jobsFailed,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `sum(increase(${jobs}{${selectors.worker}, outcome="failed"}[5m])) > ${t.jobsFailed}`,
        for: "0m",
      },
    },
    {
      kind: "metric",
      id: "jobs-rejected",
      summary: `More than ${t.jobsRejectedPerHour} documents in an hour were rejected for their content (a client fault: invalid JSON, no text, too complex). No page: look for a client sending them.`,
      runbook: "jobs-rejected",
      severity: "ticket",
      metrics: oneMetric(awsMetrics.jobsProcessed, { service: "worker", outcome: "rejected" }, "Sum"),
      period: 3600,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.jobsRejectedPerHour,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `sum(increase(${jobs}{${selectors.worker}, outcome="rejected"}[1h])) > ${t.jobsRejectedPerHour}`,
        for: "0m",
      },
    },
  ];
}

/** Throttles, duration against the timeout, concurrency against the maximum: trends, a ticket each. */
function capacityAlarms({ env, thresholds: t, dimensions, selectors }: AlarmContext): AlarmDefinition[] {
  return [
    {
      kind: "metric",
      id: "worker-throttles",
      summary: `The worker was throttled more than ${t.lambdaThrottles} times in 5 minutes: jobs wait for concurrency.`,
      runbook: "worker-throttles",
      severity: "ticket",
      metrics: oneMetric(awsMetrics.lambdaThrottles, dimensions.lambda, "Sum"),
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
      metrics: oneMetric(awsMetrics.lambdaDuration, dimensions.lambda, "p90"),
      period: 300,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparison: "GreaterThanThreshold",
      threshold: round(t.lambdaDurationRatio * env.worker.timeout * 1000),
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `histogram_quantile(0.9, sum by (le) (rate(${catalog.jobDuration.name}_bucket{${selectors.worker}}[5m]))) > ${round(t.lambdaDurationRatio * env.worker.timeout)}`,
        for: "15m",
      },
    },
    {
      kind: "metric",
      id: "worker-concurrency",
      summary: `The worker runs at ${Math.round(t.lambdaConcurrencyRatio * 100)} % or more of its maximum concurrency (${env.worker.maxConcurrency}).`,
      runbook: "worker-concurrency",
      severity: "ticket",
      metrics: oneMetric(awsMetrics.lambdaConcurrentExecutions, dimensions.lambda, "Maximum"),
      period: 60,
      evaluationPeriods: 10,
      datapointsToAlarm: 8,
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: round(t.lambdaConcurrencyRatio * env.worker.maxConcurrency),
      treatMissingData: "notBreaching",
    },
  ];
}

// The jobs queue: how long the next job has waited, and how many wait.
import { awsMetrics, kubernetesMetrics } from "@content-engine/telemetry";
import { type AlarmContext, oneMetric } from "../context.ts";
import type { AlarmDefinition } from "../model.ts";

export function queueAlarms({ thresholds: t, dimensions, selectors, k8s }: AlarmContext): AlarmDefinition[] {
  return [
    {
      kind: "metric",
      id: "queue-age",
      summary: `The oldest job has waited more than ${t.queueAgeSeconds} s in the jobs queue: workers are not keeping up or not running.`,
      runbook: "queue-age",
      severity: "page",
      metrics: oneMetric(awsMetrics.sqsAgeOfOldestMessage, dimensions.queue, "Maximum"),
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
      metrics: oneMetric(awsMetrics.sqsMessagesVisible, dimensions.queue, "Maximum"),
      period: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      comparison: "GreaterThanThreshold",
      threshold: t.queueVisibleMessages,
      treatMissingData: "notBreaching",
      prometheus: {
        expr: `max(${kubernetesMetrics.kedaScalerMetric.name}{${selectors.pods}, scaledObject="${k8s.worker}"}) > ${t.queueVisibleMessages}`,
        for: "5m",
      },
    },
  ];
}

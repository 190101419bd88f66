// The dead-letter queue: each new arrival pages (a job failed for good on a system fault); what
// stays there is a ticket.
import { awsMetrics } from "@content-engine/telemetry";
import { type AlarmContext, oneMetric } from "../context.ts";
import type { AlarmDefinition } from "../model.ts";

export function deadLetterAlarms({ thresholds: t, dimensions }: AlarmContext): AlarmDefinition[] {
  return [
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
      metrics: {
        dlq: { metric: awsMetrics.sqsMessagesVisible, dimensions: dimensions.dlq, stat: "Maximum" },
      },
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
      metrics: oneMetric(awsMetrics.sqsMessagesVisible, dimensions.dlq, "Maximum"),
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparison: "GreaterThanThreshold",
      threshold: t.dlqVisibleMessages,
      treatMissingData: "notBreaching",
    },
  ];
}

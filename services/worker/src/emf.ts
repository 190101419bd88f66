import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { catalog } from "@content-engine/telemetry";
import type { JobHandlerDeps } from "./job-handler.ts";

const UNITS = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  Milliseconds: MetricUnit.Milliseconds,
  Bytes: MetricUnit.Bytes,
};

/**
 * CloudWatch EMF for the Lambda worker: the catalog's `cloudwatch` names and units, written as
 * structured log lines that CloudWatch turns into metrics (no PutMetricData calls, no latency).
 */
export function createEmfObserver(
  metrics = new Metrics({ namespace: catalog.jobsProcessed.cloudwatch.namespace, serviceName: "worker" }),
): {
  observe: JobHandlerDeps["observe"];
  flush: () => void;
} {
  const processed = catalog.jobsProcessed.cloudwatch;
  const duration = catalog.jobDuration.cloudwatch;
  const wait = catalog.jobQueueWait.cloudwatch;
  return {
    observe(outcome, durationSeconds, queueWaitSeconds) {
      const single = metrics.singleMetric();
      single.addDimension("outcome", outcome);
      single.addMetric(processed.name, UNITS[processed.unit], 1);
      const timed = metrics.singleMetric();
      timed.addDimension("outcome", outcome);
      timed.addMetric(duration.name, UNITS[duration.unit], durationSeconds);
      if (queueWaitSeconds !== undefined) metrics.addMetric(wait.name, UNITS[wait.unit], queueWaitSeconds);
    },
    flush() {
      metrics.publishStoredMetrics();
    },
  };
}

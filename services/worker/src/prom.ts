import { createCatalogRegistry } from "@content-engine/core";
import { catalog } from "@content-engine/telemetry";
import type { Registry } from "prom-client";
import type { JobHandlerDeps } from "./job-handler.ts";

/** prom-client metrics of the long-poll consumer, from the catalog. */
export function createConsumerMetrics(): { registry: Registry; observe: JobHandlerDeps["observe"] } {
  const { registry, metrics: m } = createCatalogRegistry({
    jobsProcessed: catalog.jobsProcessed,
    jobDuration: catalog.jobDuration,
    jobQueueWait: catalog.jobQueueWait,
  });
  return {
    registry,
    observe(outcome, durationSeconds, queueWaitSeconds) {
      m.jobsProcessed.inc({ outcome });
      m.jobDuration.observe({ outcome }, durationSeconds);
      if (queueWaitSeconds !== undefined) m.jobQueueWait.observe(queueWaitSeconds);
    },
  };
}

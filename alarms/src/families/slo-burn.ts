// The two SLOs, API availability and job freshness, as multi-window burn-rate alarms (burn-rate.ts):
// the fast burn pages, the slow burn is a ticket.
import { awsMetrics, catalog, type HTTP_ROUTES } from "@content-engine/telemetry";
import { burnRateAlarms } from "../burn-rate.ts";
import type { AlarmContext } from "../context.ts";
import type { AlarmDefinition } from "../model.ts";

/**
 * Probe and scrape routes: always 2xx, asked by machines; not part of what users get. Typed against
 * the route label's values, so a renamed route fails the type check instead of silently counting.
 */
export const PROBE_ROUTES = ["/health", "/ready", "/metrics"] as const satisfies ReadonlyArray<
  (typeof HTTP_ROUTES)[number]
>;

export function sloBurnAlarms(context: AlarmContext): AlarmDefinition[] {
  return [...apiAvailabilityBurn(context), ...jobFreshnessBurn(context)];
}

function apiAvailabilityBurn({ thresholds: t, dimensions, selectors }: AlarmContext): AlarmDefinition[] {
  const http = catalog.httpRequests.name;
  const served = `${selectors.api}, route!~"${PROBE_ROUTES.join("|")}"`;
  return burnRateAlarms({
    slo: "api-availability",
    what: "API availability",
    objective: t.apiAvailabilitySlo,
    runbook: "api-availability-burn",
    metrics: {
      errors: { metric: awsMetrics.albTarget5xx, dimensions: dimensions.alb, stat: "Sum" },
      elb: { metric: awsMetrics.albElb5xx, dimensions: dimensions.lb, stat: "Sum" },
      requests: { metric: awsMetrics.albRequests, dimensions: dimensions.alb, stat: "Sum" },
    },
    // The load balancer's own 5xx (no healthy target) never reach the target group's RequestCount:
    // they join the bad and the total alike, which keeps the ratio within 0..1.
    expression:
      "IF(FILL(requests, 0) + FILL(elb, 0) > 0, (FILL(errors, 0) + FILL(elb, 0)) / (FILL(requests, 0) + FILL(elb, 0)), 0)",
    label: "5xx ratio",
    promBadRatio: (w) =>
      `sum(rate(${http}{${served}, status="5xx"}[${w}])) / sum(rate(${http}{${served}}[${w}]))`,
  });
}

function jobFreshnessBurn({ thresholds: t, selectors }: AlarmContext): AlarmDefinition[] {
  const wait = catalog.jobQueueWait.name;
  return burnRateAlarms({
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
      `(1 - sum(rate(${wait}_bucket{${selectors.worker}, le="${t.jobFreshnessSeconds}"}[${w}])) / sum(rate(${wait}_count{${selectors.worker}}[${w}])))`,
  });
}

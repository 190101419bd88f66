// Multi-window, multi-burn-rate SLO alarms (Google SRE workbook, chapter 5): one alarm per window and a
// composite that needs both windows of a pair.
import type { AlarmDefinition, MetricAlarmDefinition, MetricRef } from "./model.ts";
import { round } from "./thresholds.ts";

/** Burn-rate windows (Google SRE workbook): page on fast burn, where both windows agree. */
export const BURN_WINDOWS = [
  { name: "fast", factor: 14.4, long: { label: "1h", seconds: 3600 }, short: { label: "5m", seconds: 300 } },
  { name: "slow", factor: 6, long: { label: "6h", seconds: 21600 }, short: { label: "30m", seconds: 1800 } },
] as const;

export interface BurnRateSpec {
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
export function burnRateAlarms(spec: BurnRateSpec): AlarmDefinition[] {
  const budget = 1 - spec.objective;
  const out: AlarmDefinition[] = [];
  for (const w of BURN_WINDOWS) {
    const threshold = round(w.factor * budget);
    const windowAlarm = (window: { label: string; seconds: number }): MetricAlarmDefinition => ({
      kind: "metric",
      id: `${spec.slo}-burn-${window.label}`,
      summary: `${spec.what}: the ${window.label} bad ratio burns the ${spec.objective} SLO's budget at ${w.factor}x or more. Part of ${spec.slo}-${w.name}-burn.`,
      runbook: spec.runbook,
      severity: "none",
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
      // Google SRE workbook: the fast burn pages, the slow burn is a ticket.
      severity: w.name === "fast" ? "page" : "ticket",
      rule: `ALARM(${long.id}) AND ALARM(${short.id})`,
      prometheus: {
        expr: `(${spec.promBadRatio(w.long.label)} > ${threshold}) and (${spec.promBadRatio(w.short.label)} > ${threshold})`,
        for: w.name === "fast" ? "2m" : "15m",
      },
    });
  }
  return out;
}

// Alarm thresholds of one environment: what environments/<env>.yaml says, with the documented
// defaults for the optional ones, checked against what the alarms can express.
import { type Environment, environmentSource } from "@content-engine/environments";
import { catalog } from "@content-engine/telemetry";

export interface ResolvedThresholds {
  queueAgeSeconds: number;
  queueVisibleMessages: number;
  dlqVisibleMessages: number;
  producerStoppedMinutes: number;
  apiCpuPercent: number;
  apiMemoryPercent: number;
  api5xxErrors: number;
  apiP99LatencySeconds: number;
  workerErrors: number;
  lambdaThrottles: number;
  lambdaDurationRatio: number;
  lambdaConcurrencyRatio: number;
  apiAvailabilitySlo: number;
  jobFreshnessSlo: number;
  jobFreshnessSeconds: number;
  jobsFailed: number;
  jobsRejectedPerHour: number;
}

export const THRESHOLD_DEFAULTS = {
  apiP99LatencySeconds: 2.5,
  lambdaThrottles: 0,
  lambdaConcurrencyRatio: 0.9,
  producerStoppedMinutes: 60,
  apiAvailabilitySlo: 0.999,
  jobFreshnessSlo: 0.99,
  jobFreshnessSeconds: 60,
  jobsFailed: 0,
  jobsRejectedPerHour: 50,
} as const;

/** A threshold derived from a ratio, to 6 significant digits (no `0.30000000000000004` in an alarm). */
export function round(value: number): number {
  return Number(value.toPrecision(6));
}

export class AlarmDefinitionError extends Error {
  override name = "AlarmDefinitionError";
}

export function resolveThresholds(env: Environment): ResolvedThresholds {
  const t = env.alarms.thresholds;
  const resolved: ResolvedThresholds = {
    queueAgeSeconds: t.queueAgeSeconds,
    queueVisibleMessages: t.queueVisibleMessages,
    dlqVisibleMessages: t.dlqVisibleMessages,
    apiCpuPercent: t.apiCpuPercent,
    apiMemoryPercent: t.apiMemoryPercent,
    api5xxErrors: t.api5xxErrors,
    workerErrors: t.workerErrors,
    lambdaDurationRatio: t.lambdaDurationRatio,
    apiP99LatencySeconds: t.apiP99LatencySeconds ?? THRESHOLD_DEFAULTS.apiP99LatencySeconds,
    lambdaThrottles: t.lambdaThrottles ?? THRESHOLD_DEFAULTS.lambdaThrottles,
    lambdaConcurrencyRatio: t.lambdaConcurrencyRatio ?? THRESHOLD_DEFAULTS.lambdaConcurrencyRatio,
    producerStoppedMinutes: t.producerStoppedMinutes ?? THRESHOLD_DEFAULTS.producerStoppedMinutes,
    apiAvailabilitySlo: t.apiAvailabilitySlo ?? THRESHOLD_DEFAULTS.apiAvailabilitySlo,
    jobFreshnessSlo: t.jobFreshnessSlo ?? THRESHOLD_DEFAULTS.jobFreshnessSlo,
    jobFreshnessSeconds: t.jobFreshnessSeconds ?? THRESHOLD_DEFAULTS.jobFreshnessSeconds,
    jobsFailed: t.jobsFailed ?? THRESHOLD_DEFAULTS.jobsFailed,
    jobsRejectedPerHour: t.jobsRejectedPerHour ?? THRESHOLD_DEFAULTS.jobsRejectedPerHour,
  };
  const field = (name: keyof ResolvedThresholds) => `${environmentSource(env)}: alarms.thresholds.${name}`;
  // A single job may legitimately hold the oldest message for a whole worker timeout.
  if (resolved.queueAgeSeconds <= env.worker.timeout) {
    throw new AlarmDefinitionError(
      `${field("queueAgeSeconds")}: ${resolved.queueAgeSeconds} s is not above the worker timeout (${env.worker.timeout} s); one slow job would page`,
    );
  }
  const buckets = catalog.jobQueueWait.buckets as readonly number[];
  if (!buckets.includes(resolved.jobFreshnessSeconds)) {
    throw new AlarmDefinitionError(
      `${field("jobFreshnessSeconds")}: ${resolved.jobFreshnessSeconds} is not a bucket of ${catalog.jobQueueWait.name} (one of ${buckets.join(", ")})`,
    );
  }
  for (const slo of ["apiAvailabilitySlo", "jobFreshnessSlo"] as const) {
    // 14.4x burn of the error budget must stay a ratio below 1, or the fast-burn alarm can never fire.
    if ((1 - resolved[slo]) * 14.4 >= 1) {
      throw new AlarmDefinitionError(
        `${field(slo)}: ${resolved[slo]} leaves an error budget too large for a 14.4x burn-rate alarm (needs > 0.9306)`,
      );
    }
  }
  return resolved;
}

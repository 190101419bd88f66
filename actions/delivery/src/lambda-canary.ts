// The weighted-alias traffic shift of deploy-lambda, as CodeDeploy's Lambda deployment configurations
// do it: a canary (one weighted step) or a linear schedule (equal increments), each step watched
// against the environment's deployment alarms for intervalSeconds, then the full shift. The alias is
// moved back to the previous version if the job is cancelled meanwhile. pointAlias also drops a split
// an unfinished canary left.
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { type LambdaClient, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import {
  type CanarySettings,
  type CanaryType,
  canarySchema,
  type Environment,
  formatIssues,
} from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
import { DeliveryError } from "./errors.ts";
import type { Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

/** What the canary reads of deployLambda's options. */
export interface CanaryOptions {
  env: Environment;
  pollSeconds?: number;
  progressSeconds?: number;
  reporter?: Reporter;
  clock?: Clock;
}

/** A canary setting made concrete: the share of the alias on the new version at each step. */
export interface CanarySchedule {
  type: Exclude<CanaryType, "all-at-once">;
  /** Percent on the new version at each weighted step, ascending; 100% follows the last. */
  weights: number[];
  intervalSeconds: number;
}

/**
 * The steps of a (schema-valid) canary setting; undefined for all-at-once.
 * @example canarySchedule({ type: "linear", percent: 30, intervalSeconds: 60 })
 *   // { type: "linear", weights: [30, 60, 90], intervalSeconds: 60 }
 */
export function canarySchedule(canary: CanarySettings): CanarySchedule | undefined {
  const type = canary.type ?? "canary";
  if (type === "all-at-once") return undefined;
  const percent = canary.percent ?? 10;
  const intervalSeconds = canary.intervalSeconds ?? (canary.minutes ?? 0) * 60;
  const steps = type === "linear" ? (canary.steps ?? Math.floor(99 / percent)) : 1;
  return { type, weights: Array.from({ length: steps }, (_, i) => percent * (i + 1)), intervalSeconds };
}

/** One line for plans and logs: "linear: 30% -> 60% -> 90% -> 100% of live, 60 s per step, …". */
export function describeSchedule(schedule: CanarySchedule, alias: string): string {
  const path = [...schedule.weights, 100].map((w) => `${w}%`).join(" -> ");
  return `${schedule.type}: ${path} of ${alias} on the new version, ${schedule.intervalSeconds} s per step with the deployment alarms watched; any in ALARM moves ${alias} back`;
}

/** Input overrides of the file's worker.canary, as the action and the CLI take them. */
export type CanaryOverride = Partial<Record<keyof CanarySettings, string | number | undefined>>;

/**
 * The file's worker.canary with a run's overrides on top, validated by the same schema.
 * A changed type drops what does not belong to it; an interval in one unit replaces the other.
 */
export function overrideCanary(
  configured: CanarySettings | undefined,
  override: CanaryOverride,
  source: string,
): CanarySettings {
  const given = Object.fromEntries(
    Object.entries(override).filter(([, value]) => value !== undefined && value !== ""),
  ) as CanaryOverride;
  const merged: Record<string, unknown> = { ...configured };
  if (given.type !== undefined && given.type !== (configured?.type ?? "canary")) {
    delete merged.steps;
    if (given.type === "all-at-once")
      for (const key of ["percent", "intervalSeconds", "minutes"]) delete merged[key];
  }
  if (given.intervalSeconds !== undefined) delete merged.minutes;
  if (given.minutes !== undefined) delete merged.intervalSeconds;
  for (const [key, value] of Object.entries(given)) merged[key] = key === "type" ? value : Number(value);
  const parsed = canarySchema.safeParse(merged);
  if (!parsed.success) throw new DeliveryError(formatIssues(source, merged, parsed.error.issues));
  return parsed.data;
}

/** Points the alias at one version, dropping any weighted routing. */
export async function pointAlias(lambda: LambdaClient, env: Environment, version: string) {
  await lambda.send(
    new UpdateAliasCommand({
      FunctionName: env.worker.functionName,
      Name: env.worker.alias,
      FunctionVersion: version,
      RoutingConfig: { AdditionalVersionWeights: {} },
    }),
  );
}

type CanaryResult = { ok: true } | { ok: false; firing: string[]; step: number; percent: number };

/** Walks the schedule's weighted steps; stops at the first step during which a deployment alarm fires. */
export async function runCanary(
  lambda: LambdaClient,
  cloudwatch: CloudWatchClient,
  options: CanaryOptions,
  schedule: CanarySchedule,
  previous: string,
  version: string,
  watch: Stopwatch,
): Promise<CanaryResult> {
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  // A cancelled job (the runner sends SIGINT, then SIGTERM) must not leave the alias split.
  const restoreOnCancel = (signal: NodeJS.Signals) => {
    reporter.warn(`${signal} during the canary: moving ${env.worker.alias} back to version ${previous}`);
    pointAlias(lambda, env, previous)
      .catch((error) => reporter.warn(`could not restore ${env.worker.alias}: ${(error as Error).message}`))
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", restoreOnCancel);
  process.once("SIGTERM", restoreOnCancel);
  try {
    for (const [i, percent] of schedule.weights.entries()) {
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: env.worker.functionName,
          Name: env.worker.alias,
          FunctionVersion: previous,
          RoutingConfig: { AdditionalVersionWeights: { [version]: percent / 100 } },
        }),
      );
      reporter.info(
        `canary step ${i + 1}/${schedule.weights.length}: ${percent}% of ${env.worker.alias} on version ${version} for ${schedule.intervalSeconds} s`,
      );
      const firing = await watchStep(cloudwatch, options, version, schedule.intervalSeconds, watch);
      if (firing) return { ok: false, firing, step: i + 1, percent };
    }
    return { ok: true };
  } finally {
    process.off("SIGINT", restoreOnCancel);
    process.off("SIGTERM", restoreOnCancel);
  }
}

/** The deployment alarms in ALARM during one step, or undefined when all stayed OK for its interval. */
async function watchStep(
  cloudwatch: CloudWatchClient,
  options: CanaryOptions,
  version: string,
  intervalSeconds: number,
  watch: Stopwatch,
): Promise<string[] | undefined> {
  const reporter = options.reporter ?? consoleReporter;
  const names = options.env.alarms.deploymentAlarms;
  const watched = await watch.wait(
    waitFor<string[]>({
      // A step shorter than the poll still lasts its interval, with a last alarm check at its end.
      pollMs: Math.min((options.pollSeconds ?? 15) * 1000, intervalSeconds * 1000),
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: intervalSeconds * 1000,
      reporter,
      clock: options.clock ?? systemClock,
      poll: async () => {
        const firing = await alarmsInAlarm(cloudwatch, { names });
        return firing.length > 0
          ? { done: firing }
          : { progress: `canary ${version}: alarms OK (${names.join(", ")})` };
      },
    }),
  );
  return watched.status === "done" ? watched.value : undefined;
}

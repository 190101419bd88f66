// The weighted-alias canary of deploy-lambda: put a share of the alias on the new version, watch the
// environment's deployment alarms for the canary's minutes, and move the alias back to the previous
// version if the job is cancelled meanwhile. pointAlias also drops a split an unfinished canary left.
import type { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { type LambdaClient, UpdateAliasCommand } from "@aws-sdk/client-lambda";
import type { Environment } from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
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

type CanaryResult = { ok: true } | { ok: false; firing: string[] };

export async function runCanary(
  lambda: LambdaClient,
  cloudwatch: CloudWatchClient,
  options: CanaryOptions,
  canary: { percent: number; minutes: number },
  previous: string,
  version: string,
  watch: Stopwatch,
): Promise<CanaryResult> {
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  await lambda.send(
    new UpdateAliasCommand({
      FunctionName: env.worker.functionName,
      Name: env.worker.alias,
      FunctionVersion: previous,
      RoutingConfig: { AdditionalVersionWeights: { [version]: canary.percent / 100 } },
    }),
  );
  reporter.info(
    `canary: ${canary.percent}% of ${env.worker.alias} on version ${version} for ${canary.minutes} min`,
  );
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
    return await watchCanary(cloudwatch, options, version, canary, watch);
  } finally {
    process.off("SIGINT", restoreOnCancel);
    process.off("SIGTERM", restoreOnCancel);
  }
}

async function watchCanary(
  cloudwatch: CloudWatchClient,
  options: CanaryOptions,
  version: string,
  canary: { percent: number; minutes: number },
  watch: Stopwatch,
): Promise<CanaryResult> {
  const reporter = options.reporter ?? consoleReporter;
  const names = options.env.alarms.deploymentAlarms;
  const watched = await watch.wait(
    waitFor<string[]>({
      pollMs: (options.pollSeconds ?? 15) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: canary.minutes * 60_000,
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
  return watched.status === "done" ? { ok: false, firing: watched.value } : { ok: true };
}

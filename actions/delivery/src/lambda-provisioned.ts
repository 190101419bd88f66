// Provisioned concurrency on the worker alias (worker.provisionedConcurrency): read for plans and
// drift, set after the alias moved, then waited for until Lambda reports it READY.
import {
  GetProvisionedConcurrencyConfigCommand,
  type LambdaClient,
  PutProvisionedConcurrencyConfigCommand,
} from "@aws-sdk/client-lambda";
import type { Environment } from "@content-engine/environments";
import type { Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

/** Longest wait for READY unless timeout-seconds says otherwise (Lambda takes minutes for large counts). */
const PROVISIONING_SECONDS = 600;

interface ProvisionedOptions {
  env: Environment;
  timeoutSeconds?: number;
  pollSeconds?: number;
  progressSeconds?: number;
  reporter?: Reporter;
  clock?: Clock;
}

/** The alias's requested provisioned executions, or undefined when it has none. */
export async function readProvisionedConcurrency(
  lambda: LambdaClient,
  env: Environment,
): Promise<number | undefined> {
  try {
    const config = await lambda.send(
      new GetProvisionedConcurrencyConfigCommand({
        FunctionName: env.worker.functionName,
        Qualifier: env.worker.alias,
      }),
    );
    return config.RequestedProvisionedConcurrentExecutions;
  } catch (error) {
    if ((error as Error).name === "ProvisionedConcurrencyConfigNotFoundException") return undefined;
    throw error;
  }
}

/**
 * Sets worker.provisionedConcurrency on the alias and waits until it is READY.
 * @example const ready = await applyProvisionedConcurrency(lambda, { env }, new Stopwatch());
 *   // { ok: false, reason: "FAILED: not enough unreserved concurrency" } when Lambda refuses it
 */
export async function applyProvisionedConcurrency(
  lambda: LambdaClient,
  options: ProvisionedOptions,
  watch: Stopwatch,
): Promise<{ ok: boolean; reason: string }> {
  const { functionName, alias, provisionedConcurrency } = options.env.worker;
  const reporter = options.reporter ?? consoleReporter;
  await lambda.send(
    new PutProvisionedConcurrencyConfigCommand({
      FunctionName: functionName,
      Qualifier: alias,
      ProvisionedConcurrentExecutions: provisionedConcurrency,
    }),
  );
  reporter.info(`${alias}: ${provisionedConcurrency} provisioned executions requested`);
  const waited = await watch.wait(
    waitFor<{ ok: boolean; reason: string }>({
      pollMs: (options.pollSeconds ?? 5) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: (options.timeoutSeconds ?? PROVISIONING_SECONDS) * 1000,
      reporter,
      clock: options.clock ?? systemClock,
      poll: async () => {
        const config = await lambda.send(
          new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: alias }),
        );
        if (config.Status === "READY") return { done: { ok: true, reason: "" } };
        if (config.Status === "FAILED")
          return { done: { ok: false, reason: `FAILED: ${config.StatusReason ?? "no reason given"}` } };
        return {
          progress: `${alias}: provisioned concurrency ${config.Status} (${config.AvailableProvisionedConcurrentExecutions ?? 0}/${provisionedConcurrency} available)`,
        };
      },
    }),
  );
  if (waited.status === "done") return waited.value;
  return { ok: false, reason: `timed out waiting for READY (${waited.lastProgress})` };
}

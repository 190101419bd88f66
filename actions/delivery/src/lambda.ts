// deploy-lambda: new code from the bundled zip, wait until Lambda applied it, publish a version,
// move the alias (at once, or through a weighted canary guarded by the environment's alarms).
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from "@aws-sdk/client-lambda";
import type { Environment } from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
import { type AwsOptions, createClient } from "./aws.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { finish, type Outcome, type Plan, type PlannedChange, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

export const DEFAULT_WORKER_ZIP = "services/worker/dist/lambda.zip";

export interface DeployLambdaOptions {
  env: Environment;
  zipFile?: string;
  /** Override the environment's canary (`false` shifts at once). */
  canary?: { percent: number; minutes: number } | false;
  aws?: Partial<AwsOptions>;
  timeoutSeconds?: number;
  pollSeconds?: number;
  progressSeconds?: number;
  reporter?: Reporter;
  clock?: Clock;
  lambda?: LambdaClient;
  cloudwatch?: CloudWatchClient;
}

/** Lambda's CodeSha256: base64 of the SHA-256 of the zip bytes. */
export function codeSha256(zip: Uint8Array): string {
  return createHash("sha256").update(zip).digest("base64");
}

function readZip(path: string): Buffer {
  if (!existsSync(path)) {
    throw new DeliveryError(
      `worker bundle ${path} does not exist: run npm run build -w @content-engine/worker first`,
    );
  }
  return readFileSync(path);
}

interface LambdaLive {
  codeSha256?: string;
  memory?: number;
  timeout?: number;
  aliasVersion?: string;
  aliasCodeSha256?: string;
}

async function readLambda(lambda: LambdaClient, env: Environment): Promise<LambdaLive> {
  const { functionName, alias } = env.worker;
  try {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    const live: LambdaLive = {
      codeSha256: config.CodeSha256,
      memory: config.MemorySize,
      timeout: config.Timeout,
    };
    try {
      const current = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
      live.aliasVersion = current.FunctionVersion;
      const versionConfig = await lambda.send(
        new GetFunctionConfigurationCommand({
          FunctionName: functionName,
          Qualifier: current.FunctionVersion,
        }),
      );
      live.aliasCodeSha256 = versionConfig.CodeSha256;
    } catch (error) {
      if ((error as Error).name !== "ResourceNotFoundException") throw error;
    }
    return live;
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") {
      throw new DeliveryError(
        `Lambda function "${functionName}" does not exist (worker.functionName in environments/${env.name}.yaml)`,
      );
    }
    throw explainAwsError(error);
  }
}

function lambdaChanges(live: LambdaLive, env: Environment, sha: string): PlannedChange[] {
  const changes: PlannedChange[] = [];
  if (live.aliasCodeSha256 !== sha) changes.push({ field: "code", from: live.aliasCodeSha256, to: sha });
  if (live.memory !== env.worker.memory)
    changes.push({ field: "memory", from: String(live.memory), to: String(env.worker.memory) });
  if (live.timeout !== env.worker.timeout)
    changes.push({ field: "timeout", from: String(live.timeout), to: String(env.worker.timeout) });
  return changes;
}

function clients(options: DeployLambdaOptions) {
  const aws: AwsOptions = { region: options.env.region, ...options.aws };
  return {
    lambda: options.lambda ?? createClient(LambdaClient, aws),
    cloudwatch: options.cloudwatch ?? createClient(CloudWatchClient, aws),
  };
}

function canaryOf(options: DeployLambdaOptions) {
  return options.canary === false ? undefined : (options.canary ?? options.env.worker.canary);
}

export async function planLambda(options: DeployLambdaOptions): Promise<Plan> {
  const { env } = options;
  const zip = readZip(options.zipFile ?? DEFAULT_WORKER_ZIP);
  const { lambda } = clients(options);
  const live = await readLambda(lambda, env);
  const changes = lambdaChanges(live, env, codeSha256(zip));
  const canary = canaryOf(options);
  return {
    operation: "deploy-lambda",
    target: `${env.worker.functionName}:${env.worker.alias}`,
    noop: changes.length === 0,
    changes,
    steps: changes.length
      ? [
          ...(changes.some((c) => c.field !== "code")
            ? ["UpdateFunctionConfiguration (memory, timeout)"]
            : []),
          "UpdateFunctionCode",
          "PublishVersion",
          canary
            ? `UpdateAlias ${env.worker.alias}: ${canary.percent}% for ${canary.minutes} min, then 100% if alarms stay OK`
            : `UpdateAlias ${env.worker.alias} -> new version`,
        ]
      : [],
    details: [],
  };
}

async function waitForUpdate(
  lambda: LambdaClient,
  functionName: string,
  options: DeployLambdaOptions,
  watch: Stopwatch,
) {
  const result = await watch.wait(
    waitFor<{ ok: boolean; reason: string }>({
      pollMs: (options.pollSeconds ?? 2) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: (options.timeoutSeconds ?? 600) * 1000,
      reporter: options.reporter ?? consoleReporter,
      clock: options.clock,
      poll: async () => {
        const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
        if (config.LastUpdateStatus === "Successful" && config.State !== "Pending")
          return { done: { ok: true, reason: "" } };
        if (config.LastUpdateStatus === "Failed")
          return { done: { ok: false, reason: config.LastUpdateStatusReason ?? "update failed" } };
        return { progress: `${functionName}: state ${config.State}, last update ${config.LastUpdateStatus}` };
      },
    }),
  );
  return result.status === "done"
    ? result.value
    : { ok: false, reason: "timed out waiting for the code update" };
}

/** Moves the worker alias to new code. Outcome: succeeded | unchanged | rolled_back | failed | timed_out. */
export async function deployLambda(options: DeployLambdaOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  const { functionName, alias } = env.worker;
  const target = `${functionName}:${alias}`;
  const zip = readZip(options.zipFile ?? DEFAULT_WORKER_ZIP);
  const sha = codeSha256(zip);
  const { lambda, cloudwatch } = clients(options);
  const live = await readLambda(lambda, env);
  const changes = lambdaChanges(live, env, sha);
  if (changes.length === 0) {
    return finish(watch, {
      operation: "deploy-lambda",
      target,
      status: "unchanged",
      reason: `${target} already runs this code (${sha})`,
      revisions: { previous: live.aliasVersion, current: live.aliasVersion },
      outputs: { version: live.aliasVersion ?? "", "code-sha256": sha },
    });
  }
  for (const change of changes)
    reporter.info(`${change.field}: ${change.from ?? "-"} -> ${change.to ?? "-"}`);

  if (live.memory !== env.worker.memory || live.timeout !== env.worker.timeout) {
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: functionName,
        MemorySize: env.worker.memory,
        Timeout: env.worker.timeout,
      }),
    );
    const configured = await waitForUpdate(lambda, functionName, options, watch);
    if (!configured.ok) return failed(watch, target, live, configured.reason);
  }
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: zip }));
  const updated = await waitForUpdate(lambda, functionName, options, watch);
  if (!updated.ok) return failed(watch, target, live, updated.reason);
  const published = await lambda.send(
    new PublishVersionCommand({ FunctionName: functionName, CodeSha256: sha }),
  );
  const version = published.Version!;
  reporter.info(`published version ${version}`);
  const outputs = { version, "code-sha256": sha };

  const canary = canaryOf(options);
  if (!live.aliasVersion) {
    await lambda.send(
      new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version }),
    );
  } else if (!canary) {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: alias,
        FunctionVersion: version,
        RoutingConfig: {},
      }),
    );
  } else {
    const previous = live.aliasVersion;
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: alias,
        FunctionVersion: previous,
        RoutingConfig: { AdditionalVersionWeights: { [version]: canary.percent / 100 } },
      }),
    );
    reporter.info(`canary: ${canary.percent}% of ${alias} on version ${version} for ${canary.minutes} min`);
    const names = env.alarms.deploymentAlarms;
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
    if (watched.status === "done") {
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: functionName,
          Name: alias,
          FunctionVersion: previous,
          RoutingConfig: {},
        }),
      );
      return finish(watch, {
        operation: "deploy-lambda",
        target,
        status: "rolled_back",
        reason: `alarm ${watched.value.join(", ")} went into ALARM during the canary; ${alias} is back on version ${previous}`,
        revisions: { previous, attempted: version, current: previous },
        diagnostics: watched.value.map((name) => `alarm in ALARM: ${name}`),
        outputs: { ...outputs, version: previous },
      });
    }
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: functionName,
        Name: alias,
        FunctionVersion: version,
        RoutingConfig: {},
      }),
    );
  }
  return finish(watch, {
    operation: "deploy-lambda",
    target,
    status: "succeeded",
    reason: `${alias} points at version ${version}`,
    revisions: { previous: live.aliasVersion, attempted: version, current: version },
    outputs,
  });
}

function failed(watch: Stopwatch, target: string, live: LambdaLive, reason: string): Outcome {
  return finish(watch, {
    operation: "deploy-lambda",
    target,
    status: reason.startsWith("timed out") ? "timed_out" : "failed",
    reason: `${reason}; the alias was not moved`,
    revisions: { previous: live.aliasVersion, current: live.aliasVersion },
  });
}

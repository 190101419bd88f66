// deploy-lambda: new code from the bundled zip, wait until Lambda applied it, publish a version,
// move the alias (at once, or through a weighted canary guarded by the environment's alarms), and
// keep the SQS event source mapping's batch size and concurrency equal to the environment file.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  CreateAliasCommand,
  type EventSourceMappingConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateEventSourceMappingCommand,
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

interface FunctionSettings {
  codeSha256?: string;
  memory?: number;
  timeout?: number;
}

interface LambdaLive {
  /** $LATEST, what UpdateFunction* change. */
  latest: FunctionSettings;
  /** The version behind the alias, what serves. */
  aliasVersion?: string;
  serving: FunctionSettings;
  /** SQS event source mappings that invoke the alias (created by terraform). */
  mappings: EventSourceMappingConfiguration[];
}

async function readSettings(
  lambda: LambdaClient,
  functionName: string,
  qualifier?: string,
): Promise<FunctionSettings> {
  const config = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: qualifier }),
  );
  return { codeSha256: config.CodeSha256, memory: config.MemorySize, timeout: config.Timeout };
}

async function readLambda(lambda: LambdaClient, env: Environment): Promise<LambdaLive> {
  const { functionName, alias } = env.worker;
  try {
    const latest = await readSettings(lambda, functionName);
    let aliasVersion: string | undefined;
    try {
      aliasVersion = (await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias })))
        .FunctionVersion;
    } catch (error) {
      if ((error as Error).name !== "ResourceNotFoundException") throw error;
    }
    const serving = aliasVersion ? await readSettings(lambda, functionName, aliasVersion) : {};
    const mapped = aliasVersion
      ? await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: `${functionName}:${alias}` }))
      : undefined;
    return { latest, aliasVersion, serving, mappings: mapped?.EventSourceMappings ?? [] };
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") {
      throw new DeliveryError(
        `Lambda function "${functionName}" does not exist (worker.functionName in environments/${env.name}.yaml)`,
      );
    }
    throw explainAwsError(error);
  }
}

interface LambdaChanges {
  /** New code or settings: needs a new version behind the alias. */
  version: PlannedChange[];
  mapping: PlannedChange[];
}

function lambdaChanges(live: LambdaLive, env: Environment, sha: string): LambdaChanges {
  const version: PlannedChange[] = [];
  const { serving } = live;
  if (serving.codeSha256 !== sha) version.push({ field: "code", from: serving.codeSha256, to: sha });
  if (serving.memory !== env.worker.memory)
    version.push({ field: "memory", from: String(serving.memory), to: String(env.worker.memory) });
  if (serving.timeout !== env.worker.timeout)
    version.push({ field: "timeout", from: String(serving.timeout), to: String(env.worker.timeout) });
  const mapping: PlannedChange[] = [];
  for (const m of live.mappings) {
    const source = m.EventSourceArn?.split(":").pop();
    if (m.BatchSize !== env.worker.batchSize)
      mapping.push({
        field: `${source} batchSize`,
        from: String(m.BatchSize),
        to: String(env.worker.batchSize),
      });
    if (m.ScalingConfig?.MaximumConcurrency !== env.worker.maxConcurrency) {
      mapping.push({
        field: `${source} maxConcurrency`,
        from: String(m.ScalingConfig?.MaximumConcurrency ?? "unset"),
        to: String(env.worker.maxConcurrency),
      });
    }
  }
  return { version, mapping };
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
  const steps: string[] = [];
  if (live.latest.memory !== env.worker.memory || live.latest.timeout !== env.worker.timeout) {
    steps.push("UpdateFunctionConfiguration (memory, timeout)");
  }
  if (changes.version.length > 0) {
    steps.push("UpdateFunctionCode", "PublishVersion");
    steps.push(
      canary
        ? `UpdateAlias ${env.worker.alias}: ${canary.percent}% for ${canary.minutes} min, then 100% if alarms stay OK`
        : `UpdateAlias ${env.worker.alias} -> new version`,
    );
  }
  if (changes.mapping.length > 0) steps.push("UpdateEventSourceMapping (batch size, maximum concurrency)");
  return {
    operation: "deploy-lambda",
    target: `${env.worker.functionName}:${env.worker.alias}`,
    noop: changes.version.length + changes.mapping.length === 0,
    changes: [...changes.version, ...changes.mapping],
    steps,
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

/** Points the alias at one version, dropping any weighted routing. */
async function pointAlias(lambda: LambdaClient, env: Environment, version: string) {
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

async function runCanary(
  lambda: LambdaClient,
  cloudwatch: CloudWatchClient,
  options: DeployLambdaOptions,
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
  return watched.status === "done" ? { ok: false, firing: watched.value } : { ok: true };
}

async function reconcileMappings(lambda: LambdaClient, env: Environment, live: LambdaLive) {
  for (const mapping of live.mappings) {
    if (
      mapping.BatchSize === env.worker.batchSize &&
      mapping.ScalingConfig?.MaximumConcurrency === env.worker.maxConcurrency
    )
      continue;
    await lambda.send(
      new UpdateEventSourceMappingCommand({
        UUID: mapping.UUID,
        BatchSize: env.worker.batchSize,
        ScalingConfig: { MaximumConcurrency: env.worker.maxConcurrency },
      }),
    );
  }
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
  const previous = live.aliasVersion;
  const changes = lambdaChanges(live, env, sha);
  const base = { operation: "deploy-lambda", target };
  if (changes.version.length + changes.mapping.length === 0) {
    return finish(watch, {
      ...base,
      status: "unchanged",
      reason: `${target} already runs this code (${sha}) with these settings`,
      revisions: { previous, current: previous },
      outputs: { version: previous ?? "", "code-sha256": sha },
    });
  }
  for (const change of [...changes.version, ...changes.mapping]) {
    reporter.info(`${change.field}: ${change.from ?? "-"} -> ${change.to ?? "-"}`);
  }
  const notMoved = (reason: string): Outcome =>
    finish(watch, {
      ...base,
      status: reason.startsWith("timed out") ? "timed_out" : "failed",
      reason: `${reason}; the alias was not moved`,
      revisions: { previous, current: previous },
    });

  let version = previous;
  if (changes.version.length > 0) {
    if (live.latest.memory !== env.worker.memory || live.latest.timeout !== env.worker.timeout) {
      await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: functionName,
          MemorySize: env.worker.memory,
          Timeout: env.worker.timeout,
        }),
      );
      const configured = await waitForUpdate(lambda, functionName, options, watch);
      if (!configured.ok) return notMoved(configured.reason);
    }
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ZipFile: zip }));
    const updated = await waitForUpdate(lambda, functionName, options, watch);
    if (!updated.ok) return notMoved(updated.reason);
    version = (await lambda.send(new PublishVersionCommand({ FunctionName: functionName, CodeSha256: sha })))
      .Version!;
    reporter.info(`published version ${version}`);

    const canary = canaryOf(options);
    if (!previous) {
      await lambda.send(
        new CreateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version }),
      );
    } else if (canary) {
      const result = await runCanary(lambda, cloudwatch, options, canary, previous, version, watch);
      if (!result.ok) {
        await pointAlias(lambda, env, previous);
        return finish(watch, {
          ...base,
          status: "rolled_back",
          reason: `alarm ${result.firing.join(", ")} went into ALARM during the canary; ${alias} is back on version ${previous}`,
          revisions: { previous, attempted: version, current: previous },
          diagnostics: result.firing.map((name) => `alarm in ALARM: ${name}`),
          outputs: { version: previous, "code-sha256": sha },
        });
      }
      await pointAlias(lambda, env, version);
    } else {
      await pointAlias(lambda, env, version);
    }
  }
  await reconcileMappings(lambda, env, live);
  return finish(watch, {
    ...base,
    status: "succeeded",
    reason:
      changes.version.length > 0
        ? `${alias} points at version ${version}`
        : `${alias} stays on version ${version}; the SQS mapping now has batch size ${env.worker.batchSize}, maximum concurrency ${env.worker.maxConcurrency}`,
    revisions: { previous, attempted: version, current: version },
    outputs: { version: version ?? "", "code-sha256": sha },
  });
}

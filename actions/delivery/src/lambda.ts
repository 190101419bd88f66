// deploy-lambda: new code from the bundled zip, wait until Lambda applied it, publish a version,
// move the alias (at once, or through a weighted canary guarded by the environment's alarms), and
// keep the SQS event source mapping's batch size and concurrency equal to the environment file.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  CreateAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateEventSourceMappingCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import {
  type CanarySettings,
  DIGEST_PATTERN,
  type Environment,
  environmentSource,
} from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
import { type AwsOptions, createClient } from "./aws.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { deployGated } from "./gates.ts";
import { canarySchedule, describeSchedule, pointAlias, runCanary } from "./lambda-canary.ts";
import { type LambdaLive, lambdaChanges, readLambda, workerImageUri } from "./lambda-live.ts";
import { applyProvisionedConcurrency } from "./lambda-provisioned.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { pullBlob, registryAccess } from "./registry.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import type { Clock } from "./wait.ts";

export const DEFAULT_WORKER_ZIP = "services/worker/dist/lambda.zip";

/** Longest wait for Lambda to apply a code or configuration update (timeout-seconds). */
export const LAMBDA_TIMEOUT_SECONDS = 600;

export interface DeployLambdaOptions {
  env: Environment;
  /** A local bundle; default the environment's worker.bundle fetched by digest, else DEFAULT_WORKER_ZIP. */
  zipFile?: string;
  /** Registry endpoint override for fetching worker.bundle (see registry.ts). */
  registryEndpoint?: string;
  /** Override the environment's worker.canary (`false` shifts at once); see overrideCanary. */
  canary?: CanarySettings | false;
  aws?: Partial<AwsOptions>;
  timeoutSeconds?: number;
  pollSeconds?: number;
  progressSeconds?: number;
  /** Why deploying inside one of the environment's freeze windows is justified; recorded in the outcome. */
  breakGlass?: string;
  reporter?: Reporter;
  /** Time source of the freeze gate and the canary's waits. */
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

/** The code to deploy: the file given, else the bundle the environment records (fetched by digest), else the default zip. */
async function loadCode(options: DeployLambdaOptions): Promise<Buffer> {
  const { env } = options;
  if (options.zipFile !== undefined || !env.worker.bundle)
    return readZip(options.zipFile ?? DEFAULT_WORKER_ZIP);
  const reporter = options.reporter ?? consoleReporter;
  const zip = await pullBlob(
    env.image.repository,
    env.worker.bundle,
    await registryAccess(env, { ...options, reporter }),
  );
  reporter.info(`worker bundle ${env.worker.bundle} fetched from ${env.image.repository}`);
  return zip;
}

/** What goes into UpdateFunctionCode, and how the live function is compared with it. */
interface WorkerCode {
  /** The zip's CodeSha256, or the image URI. */
  id: string;
  update: { ZipFile: Uint8Array } | { ImageUri: string };
  /** PublishVersion's guard that the version holds this code (zip only). */
  publish: { CodeSha256?: string };
  outputs: Record<string, string>;
}

async function loadWorkerCode(options: DeployLambdaOptions): Promise<WorkerCode> {
  if (options.env.worker.package === "image") {
    const uri = workerImageUri(options.env);
    return { id: uri, update: { ImageUri: uri }, publish: {}, outputs: { "image-uri": uri } };
  }
  const zip = await loadCode(options);
  const sha = codeSha256(zip);
  return { id: sha, update: { ZipFile: zip }, publish: { CodeSha256: sha }, outputs: { "code-sha256": sha } };
}

/**
 * The environment with another worker image to deploy (the worker-image input, --worker-image).
 * @example deployLambda({ env: withWorkerImage(env, "sha256:…"), … })
 */
export function withWorkerImage(env: Environment, digest: string | undefined): Environment {
  if (!digest) return env;
  if (env.worker.package !== "image")
    throw new DeliveryError(
      `a worker image was given, but worker.package in ${environmentSource(env)} is ${env.worker.package}: set package: image (and worker.image) for a container-image function`,
    );
  if (!DIGEST_PATTERN.test(digest))
    throw new DeliveryError(`worker image "${digest}" is not a digest sha256:<64 hex characters>`);
  return { ...env, worker: { ...env.worker, image: digest } };
}

/** Lambda fixes the package type when the function is created: a deploy cannot change it. */
function checkPackage(env: Environment, live: LambdaLive) {
  const wanted = env.worker.package === "image" ? "Image" : "Zip";
  const actual = live.latest.packageType ?? "Zip";
  if (actual !== wanted)
    throw new DeliveryError(
      `worker.package in ${environmentSource(env)} is ${env.worker.package}, but Lambda function "${env.worker.functionName}" is a ${actual} package; Lambda cannot change that on a deploy: recreate the function (terraform) or set worker.package to ${actual.toLowerCase()}`,
    );
}

function clients(options: DeployLambdaOptions) {
  const aws: AwsOptions = { region: options.env.region, ...options.aws };
  return {
    lambda: options.lambda ?? createClient(LambdaClient, aws),
    cloudwatch: options.cloudwatch ?? createClient(CloudWatchClient, aws),
  };
}

function canaryOf(options: DeployLambdaOptions) {
  const canary = options.canary === false ? undefined : (options.canary ?? options.env.worker.canary);
  return canary ? canarySchedule(canary) : undefined;
}

const changeCount = (changes: ReturnType<typeof lambdaChanges>) =>
  changes.version.length + changes.routing.length + changes.mapping.length + changes.provisioned.length;

export async function planLambda(options: DeployLambdaOptions): Promise<Plan> {
  const { env } = options;
  const code = await loadWorkerCode(options);
  const { lambda } = clients(options);
  const live = await readLambda(lambda, env);
  checkPackage(env, live);
  const changes = lambdaChanges(live, env, code.id);
  const canary = canaryOf(options);
  const steps: string[] = [];
  if (live.latest.memory !== env.worker.memory || live.latest.timeout !== env.worker.timeout) {
    steps.push("UpdateFunctionConfiguration (memory, timeout)");
  }
  if (changes.version.length > 0) {
    steps.push(
      env.worker.package === "image" ? `UpdateFunctionCode (ImageUri ${code.id})` : "UpdateFunctionCode",
      "PublishVersion",
    );
    steps.push(
      canary
        ? `UpdateAlias ${env.worker.alias}: ${describeSchedule(canary, env.worker.alias)}`
        : `UpdateAlias ${env.worker.alias} -> new version`,
    );
  }
  if (changes.routing.length > 0)
    steps.push(`UpdateAlias ${env.worker.alias}: drop the unfinished canary's split`);
  if (changes.mapping.length > 0) steps.push("UpdateEventSourceMapping (batch size, maximum concurrency)");
  if (env.worker.provisionedConcurrency && (changes.version.length > 0 || changes.provisioned.length > 0))
    steps.push(
      `PutProvisionedConcurrencyConfig ${env.worker.alias}: ${env.worker.provisionedConcurrency}, then wait until READY`,
    );
  return {
    operation: "deploy-lambda",
    target: `${env.worker.functionName}:${env.worker.alias}`,
    noop: changeCount(changes) === 0,
    changes: [...changes.version, ...changes.routing, ...changes.mapping, ...changes.provisioned],
    steps,
    details: [],
  };
}

/** Lambda applies code and configuration asynchronously: the SDK's waiter, with a progress line now and then. */
async function waitForUpdate(
  lambda: LambdaClient,
  functionName: string,
  options: DeployLambdaOptions,
  watch: Stopwatch,
): Promise<{ ok: boolean; reason: string }> {
  const reporter = options.reporter ?? consoleReporter;
  const poll = options.pollSeconds ?? 2;
  const progressMs = (options.progressSeconds ?? 30) * 1000;
  const progress =
    progressMs > 0
      ? setInterval(() => {
          lambda
            .send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))
            .then((c) =>
              reporter.info(`${functionName}: state ${c.State}, last update ${c.LastUpdateStatus}`),
            )
            .catch(() => undefined);
        }, progressMs)
      : undefined;
  try {
    await watch.wait(
      waitUntilFunctionUpdatedV2(
        {
          client: lambda,
          maxWaitTime: options.timeoutSeconds ?? LAMBDA_TIMEOUT_SECONDS,
          minDelay: poll,
          maxDelay: Math.max(poll, 10),
        },
        { FunctionName: functionName },
      ),
    );
    return { ok: true, reason: "" };
  } catch (error) {
    if ((error as Error).name === "TimeoutError") {
      return { ok: false, reason: "timed out waiting for the code update" };
    }
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    if (config.LastUpdateStatus === "Failed") {
      return { ok: false, reason: config.LastUpdateStatusReason ?? "update failed" };
    }
    throw explainAwsError(error);
  } finally {
    clearInterval(progress);
  }
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
  const { env } = options;
  return deployGated(
    {
      ...options,
      operation: "deploy-lambda",
      target: `${env.worker.functionName}:${env.worker.alias}`,
      // A local zip (zip-file) is the caller's own; the recorded bundle or worker image is what gets verified.
      artifacts:
        env.worker.package === "image"
          ? { image: env.worker.image }
          : options.zipFile === undefined && env.worker.bundle
            ? { bundle: env.worker.bundle }
            : {},
    },
    () => moveAlias(options),
  );
}

async function moveAlias(options: DeployLambdaOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  const { functionName, alias } = env.worker;
  const target = `${functionName}:${alias}`;
  const code = await loadWorkerCode(options);
  const { lambda, cloudwatch } = clients(options);
  const live = await readLambda(lambda, env);
  checkPackage(env, live);
  const previous = live.aliasVersion;
  const changes = lambdaChanges(live, env, code.id);
  const base = { operation: "deploy-lambda", target };
  if (changeCount(changes) === 0) {
    return finish(watch, {
      ...base,
      status: "unchanged",
      reason: `${target} already runs this code (${code.id}) with these settings`,
      revisions: { previous, current: previous },
      outputs: { version: previous ?? "", ...code.outputs },
    });
  }
  for (const change of [...changes.version, ...changes.routing, ...changes.mapping, ...changes.provisioned]) {
    reporter.info(`${change.field}: ${change.from ?? "-"} -> ${change.to ?? "-"}`);
  }
  let canary = canaryOf(options);
  let fixForward: string | undefined;
  if (changes.version.length > 0 && previous && canary) {
    // A canary judged by alarms that already fire would blame the new version for an old fault.
    const firing = await alarmsInAlarm(cloudwatch, { names: env.alarms.deploymentAlarms });
    const glass = options.breakGlass?.trim();
    if (firing.length > 0 && glass) {
      // A fix for the fault that fires them: shifted at once, not judged by alarms already firing.
      fixForward = `break-glass: ${glass} (deployment alarms already in ALARM: ${firing.join(", ")}; the alias moves without a canary)`;
      reporter.warn(fixForward);
      canary = undefined;
    } else if (firing.length > 0) {
      return finish(watch, {
        ...base,
        status: "failed",
        reason: `refused to start the canary: ${firing.join(", ")} ${firing.length > 1 ? "are" : "is"} already in ALARM; nothing was changed (a break-glass reason lets a fix go out)`,
        revisions: { previous, current: previous },
        diagnostics: firing.map((name) => `alarm in ALARM before the deploy: ${name}`),
      });
    }
  }
  if (changes.routing.length > 0) {
    await pointAlias(lambda, env, previous!);
    reporter.info(`${alias}: dropped the split an unfinished canary left (${changes.routing[0]!.from})`);
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
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: functionName, ...code.update }));
    const updated = await waitForUpdate(lambda, functionName, options, watch);
    if (!updated.ok) return notMoved(updated.reason);
    version = (await lambda.send(new PublishVersionCommand({ FunctionName: functionName, ...code.publish })))
      .Version!;
    reporter.info(`published version ${version}`);

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
          diagnostics: [
            ...result.firing.map((name) => `alarm in ALARM: ${name}`),
            `rolled back at ${canary.type} step ${result.step} of ${canary.weights.length} (${result.percent}% on version ${version})`,
          ],
          outputs: { version: previous, ...code.outputs },
        });
      }
      await pointAlias(lambda, env, version);
    } else {
      await pointAlias(lambda, env, version);
    }
  }
  await reconcileMappings(lambda, env, live);
  if (env.worker.provisionedConcurrency && (changes.version.length > 0 || changes.provisioned.length > 0)) {
    // After the shift: provisioned concurrency belongs to the version the alias now points at.
    const ready = await applyProvisionedConcurrency(lambda, options, watch);
    if (!ready.ok)
      return finish(watch, {
        ...base,
        status: ready.reason.startsWith("timed out") ? "timed_out" : "failed",
        reason: `${alias} points at version ${version}, but its provisioned concurrency is not ready: ${ready.reason}`,
        revisions: { previous, attempted: version, current: version },
        outputs: { version: version ?? "", ...code.outputs },
      });
  }
  return finish(watch, {
    ...base,
    status: "succeeded",
    reason:
      changes.version.length > 0
        ? `${alias} points at version ${version}`
        : changes.routing.length > 0
          ? `${alias} serves version ${version} alone again (was ${changes.routing[0]!.from})`
          : changes.provisioned.length > 0 && changes.mapping.length === 0
            ? `${alias} stays on version ${version}; ${env.worker.provisionedConcurrency} provisioned executions are READY`
            : `${alias} stays on version ${version}; the SQS mapping now has batch size ${env.worker.batchSize}, maximum concurrency ${env.worker.maxConcurrency}`,
    revisions: { previous, attempted: version, current: version },
    diagnostics: fixForward ? [fixForward] : [],
    outputs: { version: version ?? "", ...code.outputs },
  });
}

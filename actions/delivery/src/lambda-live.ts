// The worker function as it runs (code, settings, the alias, its split, the SQS mappings) and what
// the environment file would change about it: read-only, shared by planLambda and deployLambda.
import {
  type EventSourceMappingConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
} from "@aws-sdk/client-lambda";
import { type Environment, environmentSource } from "@content-engine/environments";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { readProvisionedConcurrency } from "./lambda-provisioned.ts";
import type { PlannedChange } from "./outcome.ts";

interface FunctionSettings {
  codeSha256?: string;
  memory?: number;
  timeout?: number;
  /** Zip | Image, fixed when the function was created. */
  packageType?: string;
  /** What an Image function runs (repository@digest). */
  imageUri?: string;
}

/** The image a `package: image` worker runs: worker.image from the API's repository, by digest. */
export function workerImageUri(env: Environment): string {
  return `${env.image.repository}@${env.worker.image}`;
}

export interface LambdaLive {
  /** $LATEST, what UpdateFunction* change. */
  latest: FunctionSettings;
  /** The version behind the alias, what serves. */
  aliasVersion?: string;
  /** Weighted routing left on the alias (a canary that never finished), version -> weight. */
  split: Record<string, number>;
  serving: FunctionSettings;
  /** SQS event source mappings that invoke the alias (created by terraform). */
  mappings: EventSourceMappingConfiguration[];
  /** Provisioned executions requested on the alias; read only when the file manages them. */
  provisioned?: number;
}

async function readSettings(
  lambda: LambdaClient,
  functionName: string,
  qualifier?: string,
): Promise<FunctionSettings> {
  const config = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: qualifier }),
  );
  const settings = {
    codeSha256: config.CodeSha256,
    memory: config.MemorySize,
    timeout: config.Timeout,
    packageType: config.PackageType,
  };
  if (config.PackageType !== "Image") return settings;
  // GetFunctionConfiguration does not say which image; GetFunction's Code does.
  const code = await lambda.send(
    new GetFunctionCommand({ FunctionName: functionName, Qualifier: qualifier }),
  );
  return { ...settings, imageUri: code.Code?.ImageUri };
}

export async function readLambda(lambda: LambdaClient, env: Environment): Promise<LambdaLive> {
  const { functionName, alias } = env.worker;
  try {
    const latest = await readSettings(lambda, functionName);
    let aliasVersion: string | undefined;
    let split: Record<string, number> = {};
    try {
      const got = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
      aliasVersion = got.FunctionVersion;
      split = got.RoutingConfig?.AdditionalVersionWeights ?? {};
    } catch (error) {
      if ((error as Error).name !== "ResourceNotFoundException") throw error;
    }
    const serving = aliasVersion ? await readSettings(lambda, functionName, aliasVersion) : {};
    const mapped = aliasVersion
      ? await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: `${functionName}:${alias}` }))
      : undefined;
    const provisioned =
      aliasVersion && env.worker.provisionedConcurrency !== undefined
        ? await readProvisionedConcurrency(lambda, env)
        : undefined;
    return { latest, aliasVersion, split, serving, mappings: mapped?.EventSourceMappings ?? [], provisioned };
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") {
      throw new DeliveryError(
        `Lambda function "${functionName}" does not exist (worker.functionName in ${environmentSource(env)})`,
      );
    }
    throw explainAwsError(error);
  }
}

interface LambdaChanges {
  /** New code or settings: needs a new version behind the alias. */
  version: PlannedChange[];
  /** A split left on the alias by an unfinished canary, to drop. */
  routing: PlannedChange[];
  mapping: PlannedChange[];
  /** worker.provisionedConcurrency differing from the alias's. */
  provisioned: PlannedChange[];
}

const describeSplit = (split: Record<string, number>) =>
  Object.entries(split)
    .map(([version, weight]) => `${Math.round(weight * 100)}% on version ${version}`)
    .join(", ");

/** `code` is the zip's CodeSha256, or the image URI of a `package: image` worker. */
export function lambdaChanges(live: LambdaLive, env: Environment, code: string): LambdaChanges {
  const version: PlannedChange[] = [];
  const { serving } = live;
  if (env.worker.package === "image") {
    if (serving.imageUri !== code) version.push({ field: "image", from: serving.imageUri, to: code });
  } else if (serving.codeSha256 !== code) version.push({ field: "code", from: serving.codeSha256, to: code });
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
  const routing: PlannedChange[] =
    version.length === 0 && Object.keys(live.split).length > 0
      ? [
          {
            field: "alias routing",
            from: describeSplit(live.split),
            to: `100% on version ${live.aliasVersion}`,
          },
        ]
      : [];
  const wanted = env.worker.provisionedConcurrency;
  const provisioned: PlannedChange[] =
    wanted !== undefined && live.provisioned !== wanted
      ? [{ field: "provisioned concurrency", from: String(live.provisioned ?? "none"), to: String(wanted) }]
      : [];
  return { version, routing, mapping, provisioned };
}

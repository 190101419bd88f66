// The worker of an ECS preview: its own Lambda function, created from the base function's
// configuration (role, runtime, handler, memory, timeout, VPC, layers) with the pull request's code,
// its own environment variables (queue, DLQ, key prefix), version + alias `live`, and an SQS event
// source mapping from the preview's queue.
import {
  CreateAliasCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionCommand,
  type EventSourceMappingConfiguration,
  type FunctionConfiguration,
  GetAliasCommand,
  GetFunctionCommand,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  type ListEventSourceMappingsCommandOutput,
  PublishVersionCommand,
  TagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { type Environment, environmentSource, type PreviewNames } from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";
import type { PreviewQueues } from "./preview-resources.ts";

/** What the preview's function runs: a zip's bytes, or an image by URI (worker.package: image). */
export type PreviewWorkerCode = { zip: Uint8Array } | { imageUri: string };

const missing = (error: unknown) => (error as Error)?.name === "ResourceNotFoundException";

export async function getFunction(
  lambda: LambdaClient,
  name: string,
): Promise<FunctionConfiguration | undefined> {
  try {
    return (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

/** The preview function's variables: the base's, with its own queue, DLQ and key prefix. */
function previewVariables(base: FunctionConfiguration, queues: PreviewQueues, names: PreviewNames) {
  return {
    ...(base.Environment?.Variables ?? {}),
    CONTENT_ENGINE_QUEUE_URL: queues.url,
    CONTENT_ENGINE_DLQ_URL: queues.dlqUrl,
    CONTENT_ENGINE_KEY_PREFIX: names.bucketPrefix,
  };
}

async function waitUpdated(lambda: LambdaClient, name: string, maxWaitTime: number) {
  await waitUntilFunctionUpdatedV2(
    { client: lambda, maxWaitTime, minDelay: 1, maxDelay: 5 },
    { FunctionName: name },
  );
}

/**
 * Creates the preview's function (first time) or moves it to new code (after), publishes a version
 * and points alias `live` at it. Answers the version the alias points at.
 */
export async function ensureWorker(
  lambda: LambdaClient,
  base: Environment,
  names: PreviewNames,
  queues: PreviewQueues,
  code: PreviewWorkerCode,
  tags: Record<string, string>,
  timeoutSeconds = 600,
): Promise<{ version: string; created: boolean }> {
  const baseFunction = await getFunction(lambda, base.worker.functionName);
  if (!baseFunction)
    throw new DeliveryError(
      `worker function "${base.worker.functionName}" of ${base.name} does not exist (worker.functionName in ${environmentSource(base)}): a preview's function copies its configuration`,
    );
  const variables = previewVariables(baseFunction, queues, names);
  const live = await getFunction(lambda, names.functionName);
  const codeInput = "zip" in code ? { ZipFile: code.zip } : { ImageUri: code.imageUri };
  let created = false;
  if (!live) {
    const image = "imageUri" in code;
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: names.functionName,
        Role: baseFunction.Role,
        ...(image
          ? { PackageType: "Image" as const }
          : { Runtime: baseFunction.Runtime, Handler: baseFunction.Handler }),
        Code: codeInput,
        MemorySize: baseFunction.MemorySize,
        Timeout: baseFunction.Timeout,
        Architectures: baseFunction.Architectures,
        Layers: baseFunction.Layers?.map((layer) => layer.Arn!).filter(Boolean),
        ...(baseFunction.VpcConfig?.SubnetIds?.length
          ? {
              VpcConfig: {
                SubnetIds: baseFunction.VpcConfig.SubnetIds,
                SecurityGroupIds: baseFunction.VpcConfig.SecurityGroupIds,
              },
            }
          : {}),
        ...(baseFunction.TracingConfig?.Mode
          ? { TracingConfig: { Mode: baseFunction.TracingConfig.Mode } }
          : {}),
        Environment: { Variables: variables },
        Tags: tags,
      }),
    );
    created = true;
    await waitUntilFunctionActiveV2(
      { client: lambda, maxWaitTime: timeoutSeconds, minDelay: 1, maxDelay: 5 },
      { FunctionName: names.functionName },
    );
  } else {
    if (live.FunctionArn) {
      await lambda.send(new TagResourceCommand({ Resource: live.FunctionArn, Tags: tags }));
    }
    const now = live.Environment?.Variables ?? {};
    if (Object.entries(variables).some(([k, v]) => now[k] !== v)) {
      await lambda.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: names.functionName,
          Environment: { Variables: variables },
        }),
      );
      await waitUpdated(lambda, names.functionName, timeoutSeconds);
    }
    await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: names.functionName, ...codeInput }));
    await waitUpdated(lambda, names.functionName, timeoutSeconds);
  }
  const version = (await lambda.send(new PublishVersionCommand({ FunctionName: names.functionName })))
    .Version!;
  const alias = await lambda
    .send(new GetAliasCommand({ FunctionName: names.functionName, Name: names.alias }))
    .catch((error) => {
      if (missing(error)) return undefined;
      throw error;
    });
  if (alias)
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: names.functionName,
        Name: names.alias,
        FunctionVersion: version,
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
  else
    await lambda.send(
      new CreateAliasCommand({
        FunctionName: names.functionName,
        Name: names.alias,
        FunctionVersion: version,
      }),
    );
  return { version, created };
}

/** The event source mappings of the preview's function (any qualifier), or of its queue. */
export async function previewMappings(
  lambda: LambdaClient,
  names: PreviewNames,
  queueArn?: string,
): Promise<EventSourceMappingConfiguration[]> {
  const found = new Map<string, EventSourceMappingConfiguration>();
  const collect = async (input: { FunctionName?: string; EventSourceArn?: string }) => {
    let marker: string | undefined;
    do {
      let page: ListEventSourceMappingsCommandOutput;
      try {
        page = await lambda.send(new ListEventSourceMappingsCommand({ ...input, Marker: marker }));
      } catch (error) {
        if (missing(error)) return;
        throw error;
      }
      for (const mapping of page.EventSourceMappings ?? [])
        if (mapping.UUID && mapping.State !== "Deleting") found.set(mapping.UUID, mapping);
      marker = page.NextMarker;
    } while (marker);
  };
  await collect({ FunctionName: names.functionName });
  await collect({ FunctionName: `${names.functionName}:${names.alias}` });
  // And by the alias's ARN, which ensureMapping maps (listings by name do not always include it).
  const aliasArn = await lambda
    .send(new GetAliasCommand({ FunctionName: names.functionName, Name: names.alias }))
    .then((alias) => alias.AliasArn)
    .catch((error) => {
      if (missing(error)) return undefined;
      throw error;
    });
  if (aliasArn) await collect({ FunctionName: aliasArn });
  if (queueArn) await collect({ EventSourceArn: queueArn });
  // A mapping that names the function by its alias ARN is listed under the unqualified name too in
  // AWS; keep only what belongs to this preview's function or queue.
  return [...found.values()].filter(
    (m) =>
      (queueArn !== undefined && m.EventSourceArn === queueArn) ||
      (m.FunctionArn ?? "").split(":").includes(names.functionName),
  );
}

/** The SQS mapping from the preview's queue to its alias: created once, sized like the base's. */
export async function ensureMapping(
  lambda: LambdaClient,
  base: Environment,
  names: PreviewNames,
  queueArn: string,
  tags: Record<string, string>,
): Promise<string> {
  const [existing] = await previewMappings(lambda, names, queueArn);
  if (existing?.UUID) return existing.UUID;
  // By the alias's ARN, as terraform maps the base's queue: the mapping's FunctionArn is then the alias.
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: names.functionName, Name: names.alias }),
  );
  const created = await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: alias.AliasArn ?? `${names.functionName}:${names.alias}`,
      EventSourceArn: queueArn,
      BatchSize: base.worker.batchSize,
      ScalingConfig: { MaximumConcurrency: 2 },
      Tags: tags,
    }),
  );
  return created.UUID!;
}

/** Deletes the preview's mappings and its function (every version and alias with it). */
export async function deleteWorker(lambda: LambdaClient, names: PreviewNames, queueArn?: string) {
  const deleted: string[] = [];
  for (const mapping of await previewMappings(lambda, names, queueArn)) {
    try {
      await lambda.send(new DeleteEventSourceMappingCommand({ UUID: mapping.UUID }));
      deleted.push(`event source mapping ${mapping.UUID}`);
    } catch (error) {
      if (!missing(error)) throw error;
    }
  }
  try {
    await lambda.send(new DeleteFunctionCommand({ FunctionName: names.functionName }));
    deleted.push(`function ${names.functionName}`);
  } catch (error) {
    if (!missing(error)) throw error;
  }
  return deleted;
}

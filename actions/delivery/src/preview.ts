// Preview environments (issue 20): `pr-<n>` for a pull request labelled `preview`, derived from the
// base environment file (the one with a `previews` block) and living in its account.
//   upPreview     create or update everything the preview runs, idempotently
//   listPreviews  the previews that exist, oldest first (from the tags of their ECS services / releases)
//   downPreview   delete everything, then verifyGone: nothing tagged with the preview is left
//   reapPreviews  destroy the ones over the age or count cap, saying why (for a comment on each PR)
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServicesCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  TagResourceCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  DIGEST_PATTERN,
  type Environment,
  environmentSource,
  PREVIEW_CREATED_AT_TAG,
  PREVIEW_PULL_REQUEST_TAG,
  PREVIEW_TAG,
  type PreviewAwareEnvironment,
  type PreviewNames,
  previewEnvironment,
  previewNames,
  previewNumber,
} from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import type { CommandRunner } from "./command.ts";
import { readRunningService } from "./ecs.ts";
import { rolloutLine } from "./ecs-diagnostics.ts";
import { assertDigest, pickContainer, renderTaskDefinition } from "./ecs-task-definition.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { finish, type Outcome, Stopwatch } from "./outcome.ts";
import { previewRelease } from "./preview-helm.ts";
import {
  baseListener,
  countObjects,
  deleteObjects,
  deleteQueues,
  deleteRules,
  deleteTargetGroup,
  ensureQueues,
  ensureRule,
  ensureTargetGroup,
  existingQueueArn,
  existingQueues,
  findRules,
  findTargetGroup,
  queueTags,
} from "./preview-resources.ts";
import {
  deleteWorker,
  ensureMapping,
  ensureWorker,
  getFunction,
  type PreviewWorkerCode,
  previewMappings,
} from "./preview-worker.ts";
import { pullBlob, registryAccess } from "./registry.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

/**
 * The GitHub deployment of a preview, as the caller records it (deployments.ts): `start` before
 * anything changes, `finish` with the outcome and, on success, the preview URL.
 */
export interface PreviewDeployment {
  start(): Promise<void>;
  finish(state: "success" | "failure" | "inactive", url?: string): Promise<void>;
}

/** What a test or the rehearsal's deliberate break leaves behind on down (never set by a workflow). */
export type PreviewKind =
  | "service"
  | "task-definitions"
  | "rule"
  | "target-group"
  | "worker"
  | "queues"
  | "objects"
  | "release";

export interface PreviewOptions {
  /** The environment file with the `previews` block (dev). */
  base: Environment;
  /** The pull request number. */
  number: number;
  aws?: Partial<AwsOptions>;
  /** Registry endpoint override (the worker bundle and signatures). */
  registryEndpoint?: string;
  reporter?: Reporter;
  clock?: Clock;
  timeoutSeconds?: number;
  pollSeconds?: number;
  /** EKS: an existing kubeconfig, the helm binary and how it is run (see helm.ts). */
  kubeconfig?: string;
  helm?: string;
  run?: CommandRunner;
  /** The GitHub deployment to record (deployments.ts); optional. */
  deployment?: PreviewDeployment;
}

export interface UpPreviewOptions extends PreviewOptions {
  /** The image the pull request built, sha256:… */
  digest: string;
  /** Its tag, for humans. */
  tag?: string;
  /** The worker bundle build-push stored for the pull request (sha256:… in the image repository). */
  workerBundle?: string;
  /** A local worker zip instead of workerBundle (the CLI, tests). */
  zipFile?: Uint8Array;
  /** worker.package: image: the worker image digest; default the API's digest. */
  workerImage?: string;
}

export interface DownPreviewOptions extends PreviewOptions {
  /** Kinds down leaves in place: only tests and the rehearsal's deliberate break use it. */
  skip?: PreviewKind[];
}

/** The base environment a preview derives from: it must carry the `previews` block. */
function previewSettings(base: Environment) {
  const settings = (base as PreviewAwareEnvironment).previews;
  if (!settings)
    throw new DeliveryError(
      `${environmentSource(base)} has no previews block: previews derive from the file that carries previews: {domain, maxCount, maxAgeHours}`,
    );
  return settings;
}

interface Clients {
  ecs: ECSClient;
  elb: ElasticLoadBalancingV2Client;
  lambda: LambdaClient;
  sqs: SQSClient;
  s3: S3Client;
  logs: CloudWatchLogsClient;
}

/** The clients of the base's account and region (overridable all at once for tests). */
export function previewClients(options: Pick<PreviewOptions, "base" | "aws">): Clients {
  const aws: AwsOptions = { region: options.base.region, ...options.aws };
  return {
    ecs: createClient(ECSClient, aws),
    elb: createClient(ElasticLoadBalancingV2Client, aws),
    lambda: createClient(LambdaClient, aws),
    sqs: createClient(SQSClient, aws),
    // moto and emulators serve buckets by path.
    s3: new S3Client({
      region: aws.region,
      maxAttempts: aws.maxAttempts ?? 4,
      ...((aws.endpoint ?? process.env.AWS_ENDPOINT_URL)
        ? { endpoint: aws.endpoint ?? process.env.AWS_ENDPOINT_URL, forcePathStyle: true }
        : {}),
      ...(aws.credentials ? { credentials: aws.credentials } : {}),
    }),
    logs: createClient(CloudWatchLogsClient, aws),
  };
}

const tagRecord = (tags: Array<{ key?: string; value?: string }> | undefined) =>
  Object.fromEntries((tags ?? []).flatMap((t) => (t.key ? [[t.key, t.value ?? ""]] : [])));
const ecsTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/** The preview's ECS service, when one exists that is not INACTIVE. */
async function previewService(
  ecs: ECSClient,
  base: Environment,
  names: PreviewNames,
): Promise<Service | undefined> {
  try {
    const out = await ecs.send(
      new DescribeServicesCommand({
        cluster: base.api.cluster,
        services: [names.service],
        include: ["TAGS"],
      }),
    );
    return out.services?.find((s) => s.status !== "INACTIVE");
  } catch (error) {
    if ((error as Error).name === "ClusterNotFoundException") return undefined;
    throw explainAwsError(error);
  }
}

/** The tags of a service DescribeServices answered with include TAGS. */
const serviceTags = (service: Service): Record<string, string> => tagRecord(service.tags);

/** created-at of a preview that (partly) exists: kept from its first creation (its service, else its queue). */
async function existingCreatedAt(clients: Clients, base: Environment, names: PreviewNames) {
  const service = base.platform === "ecs" ? await previewService(clients.ecs, base, names) : undefined;
  const fromService = service ? serviceTags(service)[PREVIEW_CREATED_AT_TAG] : undefined;
  if (fromService) return fromService;
  // Queues are what up creates first: a preview that half exists has them.
  return (await queueTags(clients.sqs, names))?.[PREVIEW_CREATED_AT_TAG];
}

/** The worker code of the preview: a local zip, the pull request's bundle by digest, or an image. */
async function workerCode(
  options: UpPreviewOptions,
  env: Environment,
  reporter: Reporter,
): Promise<PreviewWorkerCode> {
  if (env.worker.package === "image")
    return { imageUri: `${env.image.repository}@${options.workerImage ?? options.digest}` };
  if (options.zipFile) return { zip: options.zipFile };
  if (!options.workerBundle)
    throw new DeliveryError(
      "a preview's worker needs the pull request's worker bundle (worker-bundle / --worker-bundle sha256:…) or a local zip",
    );
  const zip = await pullBlob(
    env.image.repository,
    options.workerBundle,
    await registryAccess(env, { ...options, reporter }),
  );
  reporter.info(`worker bundle ${options.workerBundle} fetched from ${env.image.repository}`);
  return { zip };
}

/** Waits until the preview's service runs its one task of `taskDefinitionArn` (or gives up). */
async function waitStable(
  ecs: ECSClient,
  env: Environment,
  taskDefinitionArn: string,
  options: PreviewOptions,
  watch: Stopwatch,
): Promise<{ ok: boolean; reason: string }> {
  const result = await watch.wait(
    waitFor<{ ok: boolean; reason: string }>({
      pollMs: (options.pollSeconds ?? 10) * 1000,
      progressMs: 30_000,
      timeoutMs: (options.timeoutSeconds ?? 900) * 1000,
      reporter: options.reporter ?? consoleReporter,
      clock: options.clock,
      poll: async () => {
        const service = (
          await ecs.send(
            new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
          )
        ).services?.[0];
        if (!service) return { done: { ok: false, reason: "the service disappeared" } };
        const ours = service.deployments?.find((d) => d.taskDefinition === taskDefinitionArn);
        if (ours?.rolloutState === "FAILED")
          return { done: { ok: false, reason: ours.rolloutStateReason ?? "the rollout failed" } };
        if (
          service.taskDefinition === taskDefinitionArn &&
          (ours?.rolloutState === "COMPLETED" ||
            (service.deployments?.length === 1 && service.runningCount === service.desiredCount))
        )
          return { done: { ok: true, reason: "" } };
        return { progress: rolloutLine(service) };
      },
    }),
  );
  return result.status === "done"
    ? result.value
    : { ok: false, reason: `not stable within ${options.timeoutSeconds ?? 900}s (${result.lastProgress})` };
}

/** The preview's API: a task definition family of its own rendered from the base's, and its service. */
async function ensureService(
  clients: Clients,
  base: Environment,
  env: Environment,
  names: PreviewNames,
  digest: string,
  queues: { url: string; dlqUrl: string },
  targetGroupArn: string,
  tags: Record<string, string>,
  options: UpPreviewOptions,
  watch: Stopwatch,
): Promise<{ taskDefinitionArn: string; created: boolean; stable: { ok: boolean; reason: string } }> {
  const { ecs } = clients;
  const { service: baseService, runningArn } = await readRunningService(ecs, base);
  const described = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: runningArn, include: ["TAGS"] }),
  );
  const baseTags = (described.tags ?? []).filter((t) => !t.key?.startsWith("content-engine:"));
  const next = renderTaskDefinition(described.taskDefinition!, [...baseTags, ...ecsTags(tags)], env, digest);
  next.family = names.taskFamily;
  const app = pickContainer(next.containerDefinitions ?? [], env);
  const own: Record<string, string> = {
    CONTENT_ENGINE_QUEUE_URL: queues.url,
    CONTENT_ENGINE_DLQ_URL: queues.dlqUrl,
    CONTENT_ENGINE_KEY_PREFIX: names.bucketPrefix,
  };
  app.environment = [
    ...(app.environment ?? []).filter((v) => !v.name || !(v.name in own)),
    ...Object.entries(own).map(([name, value]) => ({ name, value })),
  ].sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
  const registered = await ecs.send(new RegisterTaskDefinitionCommand(next));
  const taskDefinitionArn = registered.taskDefinition!.taskDefinitionArn!;
  options.reporter?.info(`registered ${taskDefinitionArn}`);
  const existing = await previewService(ecs, base, names);
  const deploymentConfiguration = { deploymentCircuitBreaker: { enable: true, rollback: true } };
  if (existing) {
    await ecs.send(
      new UpdateServiceCommand({
        cluster: base.api.cluster,
        service: names.service,
        taskDefinition: taskDefinitionArn,
        desiredCount: 1,
        deploymentConfiguration,
      }),
    );
    if (existing.serviceArn)
      await ecs.send(new TagResourceCommand({ resourceArn: existing.serviceArn, tags: ecsTags(tags) }));
  } else {
    const port =
      baseService.loadBalancers?.[0]?.containerPort ?? app.portMappings?.[0]?.containerPort ?? 8080;
    await ecs.send(
      new CreateServiceCommand({
        cluster: base.api.cluster,
        serviceName: names.service,
        taskDefinition: taskDefinitionArn,
        desiredCount: 1,
        ...(baseService.capacityProviderStrategy?.length
          ? { capacityProviderStrategy: baseService.capacityProviderStrategy }
          : baseService.launchType
            ? { launchType: baseService.launchType }
            : {}),
        ...(baseService.networkConfiguration
          ? { networkConfiguration: baseService.networkConfiguration }
          : {}),
        loadBalancers: [{ targetGroupArn, containerName: app.name, containerPort: port }],
        deploymentConfiguration,
        propagateTags: "SERVICE",
        enableECSManagedTags: true,
        tags: ecsTags(tags),
      }),
    );
  }
  const stable = await waitStable(ecs, env, taskDefinitionArn, options, watch);
  return { taskDefinitionArn, created: !existing, stable };
}

/**
 * Creates or updates preview pr-<number> with the pull request's image (and worker bundle):
 * idempotent, safe to re-run on every push. Outcome outputs: url, environment, created-at.
 */
export async function upPreview(options: UpPreviewOptions): Promise<Outcome> {
  const { base } = options;
  previewSettings(base);
  const n = previewNumber(options.number);
  assertDigest(options.digest);
  if (options.workerBundle && !DIGEST_PATTERN.test(options.workerBundle))
    throw new DeliveryError(
      `worker bundle "${options.workerBundle}" is not a digest sha256:<64 hex characters>`,
    );
  const names = previewNames(base, n);
  const env = previewEnvironment(base, n, {
    digest: options.digest,
    tag: options.tag,
    workerBundle: options.workerBundle,
    workerImage: options.workerImage,
  });
  const reporter = options.reporter ?? consoleReporter;
  await options.deployment?.start();
  // No signature gate: a preview runs the pull request's own build, which the release key never signs
  // (preview.yml builds with sign: false, as the preview role, which cannot use the key). That is what
  // keeps a preview's image from ever passing a deploy's signature check and being promoted.
  reporter.info(
    `${names.name} runs the pull request's unsigned build ${options.digest}: previews are never signed, so this image can never be deployed or promoted`,
  );
  const outcome = await (base.platform === "eks"
    ? previewRelease(options, env, names)
    : upEcs(options, env, names)
  ).catch(async (error) => {
    await options.deployment?.finish("failure").catch(() => undefined);
    throw error;
  });
  const ok = outcome.status === "succeeded" || outcome.status === "unchanged";
  await options.deployment?.finish(ok ? "success" : "failure", ok ? names.url : undefined);
  return outcome;
}

async function upEcs(options: UpPreviewOptions, env: Environment, names: PreviewNames): Promise<Outcome> {
  const watch = new Stopwatch();
  const { base } = options;
  const reporter = options.reporter ?? consoleReporter;
  const clients = previewClients(options);
  const now = new Date((options.clock ?? systemClock).now()).toISOString();
  const createdAt = (await existingCreatedAt(clients, base, names)) ?? now;
  const tags = { ...names.tags, [PREVIEW_CREATED_AT_TAG]: createdAt };
  const steps: string[] = [];
  try {
    const queues = await ensureQueues(clients.sqs, names, tags);
    steps.push(`queues ${names.queue}, ${names.dlq}`);
    const listener = await baseListener(clients.elb, base);
    const targetGroupArn = await ensureTargetGroup(clients.elb, base, names, tags);
    await ensureRule(clients.elb, listener.ListenerArn!, names, targetGroupArn, tags);
    steps.push(`target group ${names.targetGroup} and listener rule host ${names.host}`);
    const code = await workerCode(options, env, reporter);
    const worker = await ensureWorker(
      clients.lambda,
      base,
      names,
      queues,
      code,
      tags,
      options.timeoutSeconds,
    );
    await ensureMapping(clients.lambda, base, names, queues.arn, tags);
    steps.push(
      `function ${names.functionName}:${names.alias} -> version ${worker.version}, mapping from ${names.queue}`,
    );
    const service = await ensureService(
      clients,
      base,
      env,
      names,
      options.digest,
      queues,
      targetGroupArn,
      tags,
      options,
      watch,
    );
    steps.push(`service ${names.service} on ${service.taskDefinitionArn.split("/").pop()}`);
    const created = service.created ? "created" : "updated";
    return finish(watch, {
      operation: "preview-up",
      target: names.name,
      status: service.stable.ok ? "succeeded" : "failed",
      reason: service.stable.ok
        ? `${names.name} ${created}: ${names.url} runs ${options.digest}`
        : `${names.name} ${created}, but its service is not serving: ${service.stable.reason}`,
      revisions: { current: service.taskDefinitionArn },
      diagnostics: steps,
      outputs: {
        url: names.url ?? "",
        environment: names.name,
        "created-at": createdAt,
        "task-definition-arn": service.taskDefinitionArn,
        version: worker.version,
      },
    });
  } catch (error) {
    const explained = explainAwsError(error) as Error;
    if (explained instanceof DeliveryError) throw explained;
    return finish(watch, {
      operation: "preview-up",
      target: names.name,
      status: "failed",
      reason: `${names.name}: ${explained.name}: ${explained.message} (done before: ${steps.join("; ") || "nothing"}; run up again or down)`,
      diagnostics: steps,
      outputs: { environment: names.name },
    });
  }
}

export interface PreviewSummary {
  number: number;
  name: string;
  /** ISO time of the first creation (the created-at tag). */
  createdAt: string;
  url?: string;
}

/** The previews that exist, oldest first: the ECS services of the base cluster (or the Helm releases) tagged as previews. */
export async function listPreviews(
  base: Environment,
  options: Omit<PreviewOptions, "base" | "number"> = {},
): Promise<PreviewSummary[]> {
  if (base.platform === "eks") {
    const { listPreviewReleases } = await import("./preview-helm.ts");
    return listPreviewReleases(base, options);
  }
  const { ecs } = previewClients({ base, aws: options.aws });
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(new ListServicesCommand({ cluster: base.api.cluster, nextToken }));
    arns.push(...(page.serviceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const candidates = arns.filter((arn) => arn.split("/").pop()!.startsWith(`${base.api.service}-pr-`));
  const found: PreviewSummary[] = [];
  for (let i = 0; i < candidates.length; i += 10) {
    const out = await ecs.send(
      new DescribeServicesCommand({
        cluster: base.api.cluster,
        services: candidates.slice(i, i + 10),
        include: ["TAGS"],
      }),
    );
    for (const service of out.services ?? []) {
      if (service.status === "INACTIVE") continue;
      const tags = serviceTags(service);
      const number = Number(tags[PREVIEW_PULL_REQUEST_TAG]);
      if (!tags[PREVIEW_TAG] || !Number.isInteger(number)) continue;
      const names = previewNames(base, number);
      if (names.service !== service.serviceName) continue;
      found.push({ number, name: names.name, createdAt: tags[PREVIEW_CREATED_AT_TAG] ?? "", url: names.url });
    }
  }
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.number - b.number);
}

/** What of preview n is left, one line per resource (empty: nothing). */
export async function verifyGone(
  base: Environment,
  number: number,
  options: Omit<PreviewOptions, "base" | "number"> = {},
): Promise<string[]> {
  const names = previewNames(base, previewNumber(number));
  const clients = previewClients({ base, aws: options.aws });
  const left: string[] = [];
  if (base.platform === "eks") {
    const { releaseLeft } = await import("./preview-helm.ts");
    left.push(...(await releaseLeft(base, names, options)));
  } else {
    const service = await previewService(clients.ecs, base, names);
    if (service) left.push(`ECS service ${base.api.cluster}/${names.service} (${service.status})`);
    const active = await activeTaskDefinitions(clients.ecs, names);
    if (active.length)
      left.push(`task definitions ${active.map((a) => a.split("/").pop()).join(", ")} (ACTIVE)`);
    if (await findTargetGroup(clients.elb, names.targetGroup)) left.push(`target group ${names.targetGroup}`);
    const listener = await baseListener(clients.elb, base).catch(() => undefined);
    if (listener?.ListenerArn) {
      const rules = await findRules(clients.elb, listener.ListenerArn, names);
      if (rules.length) left.push(`listener rule ${rules.map((r) => r.RuleArn).join(", ")}`);
    }
    if (await getFunction(clients.lambda, names.functionName))
      left.push(`Lambda function ${names.functionName}`);
    const mappings = await previewMappings(clients.lambda, names, await existingQueueArn(clients.sqs, names));
    if (mappings.length) left.push(`event source mappings ${mappings.map((m) => m.UUID).join(", ")}`);
  }
  for (const queue of await existingQueues(clients.sqs, names)) left.push(`SQS queue ${queue}`);
  const objects = await countObjects(clients.s3, base.bucket, names.bucketPrefix);
  if (objects > 0) left.push(`${objects} S3 objects under s3://${base.bucket}/${names.bucketPrefix}`);
  return left;
}

async function activeTaskDefinitions(ecs: ECSClient, names: PreviewNames): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: names.taskFamily, status: "ACTIVE", nextToken }),
    );
    // familyPrefix matches pr-1 against pr-12 too: keep the family itself.
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter(
        (arn) => arn.split("/").pop()!.split(":")[0] === names.taskFamily,
      ),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/** Scales the preview's service to 0, deletes it and waits until ECS reports it INACTIVE (or gone). */
async function deleteService(
  clients: Clients,
  base: Environment,
  names: PreviewNames,
  options: PreviewOptions,
  watch: Stopwatch,
) {
  const { ecs } = clients;
  const service = await previewService(ecs, base, names);
  if (!service) return [];
  if (service.status === "ACTIVE") {
    if ((service.desiredCount ?? 0) > 0)
      await ecs.send(
        new UpdateServiceCommand({ cluster: base.api.cluster, service: names.service, desiredCount: 0 }),
      );
    await ecs.send(
      new DeleteServiceCommand({ cluster: base.api.cluster, service: names.service, force: true }),
    );
  }
  const gone = await watch.wait(
    waitFor({
      pollMs: (options.pollSeconds ?? 10) * 1000,
      progressMs: 30_000,
      timeoutMs: (options.timeoutSeconds ?? 900) * 1000,
      reporter: options.reporter ?? consoleReporter,
      clock: options.clock,
      poll: async () => {
        const now = await previewService(ecs, base, names);
        return now
          ? { progress: `${names.service}: ${now.status}, running ${now.runningCount ?? 0}` }
          : { done: true };
      },
    }),
  );
  if (gone.status !== "done") throw new DeliveryError(`${names.service} did not drain: ${gone.lastProgress}`);
  return [`service ${base.api.cluster}/${names.service}`];
}

/**
 * Deletes everything preview n created, in dependency order, then verifies nothing is left (failed,
 * naming each leftover, otherwise). Safe to run twice and on a preview that only half exists.
 */
export async function downPreview(options: DownPreviewOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { base } = options;
  const n = previewNumber(options.number);
  const names = previewNames(base, n);
  const skip = new Set(options.skip ?? []);
  const reporter = options.reporter ?? consoleReporter;
  if (skip.size) reporter.warn(`leaving ${[...skip].join(", ")} of ${names.name} in place (skip)`);
  const clients = previewClients(options);
  const deleted: string[] = [];
  const step = async (kind: PreviewKind, work: () => Promise<string[]>) => {
    if (skip.has(kind)) return;
    try {
      deleted.push(...(await work()));
    } catch (error) {
      throw explainAwsError(error);
    }
  };
  if (base.platform === "eks") {
    const { deleteRelease } = await import("./preview-helm.ts");
    await step("release", () => deleteRelease(base, names, options));
  } else {
    const queueArn = await existingQueueArn(clients.sqs, names);
    await step("service", () => deleteService(clients, base, names, options, watch));
    await step("task-definitions", async () => {
      const active = await activeTaskDefinitions(clients.ecs, names);
      for (const arn of active)
        await clients.ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
      return active.length ? [`${active.length} task definitions of ${names.taskFamily}`] : [];
    });
    await step("rule", () => deleteRules(clients.elb, base, names));
    await step("target-group", () => deleteTargetGroup(clients.elb, names));
    await step("worker", () => deleteWorker(clients.lambda, names, queueArn));
  }
  await step("queues", () => deleteQueues(clients.sqs, names));
  await step("objects", () => deleteObjects(clients.s3, base.bucket, names.bucketPrefix));
  for (const line of deleted) reporter.info(`deleted ${line}`);
  const left = await verifyGone(base, n, options);
  await options.deployment?.finish(left.length ? "failure" : "inactive").catch(() => undefined);
  return finish(watch, {
    operation: "preview-down",
    target: names.name,
    status: left.length ? "failed" : deleted.length ? "succeeded" : "unchanged",
    reason: left.length
      ? `${names.name} is not gone: ${left.join("; ")}`
      : deleted.length
        ? `${names.name} destroyed: nothing tagged ${PREVIEW_TAG}=${names.name} is left`
        : `${names.name} did not exist: nothing to destroy`,
    diagnostics: [...deleted.map((line) => `deleted ${line}`), ...left.map((line) => `left: ${line}`)],
    outputs: { environment: names.name },
  });
}

export interface ReapedPreview extends PreviewSummary {
  why: "age" | "count";
  /** One sentence for the comment on its pull request. */
  reason: string;
  outcome: Outcome;
}

export interface ReapOptions extends Omit<PreviewOptions, "number"> {
  /** Now (default the clock's). */
  now?: Date;
  /** Default: the base's previews.maxCount / maxAgeHours. */
  maxCount?: number;
  maxAgeHours?: number;
  /**
   * The preview about to be created or updated (its pull request number): it is never reaped, and
   * when it does not exist yet, room is made for it under maxCount.
   */
  keep?: number;
}

/**
 * Destroys the previews older than maxAgeHours, and the oldest ones while creating `keep` (when it
 * does not exist yet) would exceed maxCount. Answers each one reaped, with why, for a PR comment.
 */
export async function reapPreviews(options: ReapOptions): Promise<ReapedPreview[]> {
  const { base } = options;
  const settings = previewSettings(base);
  const maxCount = options.maxCount ?? settings.maxCount;
  const maxAgeHours = options.maxAgeHours ?? settings.maxAgeHours;
  if (!(Number.isInteger(maxCount) && maxCount >= 1))
    throw new DeliveryError(`maxCount ${maxCount}: expected a whole number >= 1`);
  if (!(maxAgeHours > 0))
    throw new DeliveryError(`maxAgeHours ${maxAgeHours}: expected a number of hours > 0`);
  const keep = options.keep === undefined ? undefined : previewNumber(options.keep);
  const now = options.now ?? new Date((options.clock ?? systemClock).now());
  const existing = await listPreviews(base, options);
  const chosen: Array<{ preview: PreviewSummary; why: "age" | "count"; reason: string }> = [];
  const remaining: PreviewSummary[] = [];
  for (const preview of existing) {
    const created = Date.parse(preview.createdAt);
    const ageHours = Number.isFinite(created)
      ? (now.getTime() - created) / 3_600_000
      : Number.POSITIVE_INFINITY;
    if (preview.number !== keep && ageHours > maxAgeHours)
      chosen.push({
        preview,
        why: "age",
        reason: `preview ${preview.name} was removed: older than ${maxAgeHours} h (created ${preview.createdAt || "at an unknown time"})`,
      });
    else remaining.push(preview);
  }
  const incoming = keep !== undefined && !remaining.some((p) => p.number === keep) ? 1 : 0;
  let over = remaining.length + incoming - maxCount;
  for (const preview of remaining) {
    if (over <= 0) break;
    if (preview.number === keep) continue;
    chosen.push({
      preview,
      why: "count",
      reason: `preview ${preview.name} was removed: the oldest of ${maxCount}${keep !== undefined ? `, pr-${keep} needed the room` : ""}`,
    });
    over -= 1;
  }
  const reaped: ReapedPreview[] = [];
  for (const { preview, why, reason } of chosen) {
    (options.reporter ?? consoleReporter).info(reason);
    const outcome = await downPreview({ ...options, number: preview.number });
    reaped.push({ ...preview, why, reason, outcome });
  }
  return reaped;
}

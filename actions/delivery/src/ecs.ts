// deploy-ecs: render the next task definition from the family's newest revision, compare it with the
// revision the service runs, register it, roll the service, wait for the rollout, and make sure the
// previous revision serves again if it does not finish.
import { readFileSync } from "node:fs";
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeServicesCommand,
  type DescribeServicesCommandOutput,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
  type Tag,
  type TaskDefinition,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { type Environment, environmentSource } from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
import { type AwsOptions, createClient } from "./aws.ts";
import { collectDiagnostics, primaryDeployment, rolloutLine } from "./ecs-diagnostics.ts";
import { preDeployStep, runPreDeployTasks } from "./ecs-pre-deploy.ts";
import { deregisterRevisions, staleRevisions } from "./ecs-revisions.ts";
import {
  assertDigest,
  containerSettingChanges,
  imageReference,
  pickContainer,
  registrationDifferences,
  renderTaskDefinition,
} from "./ecs-task-definition.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { deployGated } from "./gates.ts";
import { finish, type Outcome, type Plan, type PlannedChange, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

/** How long a rollout may take before it is given up and the previous revision restored (timeout-seconds). */
export const ECS_TIMEOUT_SECONDS = 1800;
/** Seconds between two looks at the rollout (poll-seconds). */
export const ECS_POLL_SECONDS = 10;

export interface DeployEcsOptions {
  env: Environment;
  /** Digest to deploy; defaults to the environment file's image.digest. */
  digest?: string;
  /** Render from this task definition JSON instead of the live one. */
  taskDefinitionFile?: string;
  /** Container that runs the image; default: the one already running env.image.repository, else the first. */
  containerName?: string;
  aws?: Partial<AwsOptions>;
  timeoutSeconds?: number;
  /** Seconds between two looks at the rollout (and at a pre-deploy task); default 10. */
  pollSeconds?: number;
  /** false: answer `started` with the deployment id once UpdateService accepted it, without waiting. */
  wait?: boolean;
  /** Unused task definition revisions kept after a rollout; default: the file's api.keepRevisions. */
  keepRevisions?: number;
  progressSeconds?: number;
  /** Give up on the rollout once this many new tasks failed (don't sit out the timeout). */
  maxFailedTasks?: number;
  /** Start a new deployment even when nothing changed (fresh tasks, e.g. to pick up rotated secrets). */
  forceNewDeployment?: boolean;
  /** Why deploying inside one of the environment's freeze windows is justified; recorded in the outcome. */
  breakGlass?: string;
  /** Registry endpoint override for reading the image's signature (see registry.ts). */
  registryEndpoint?: string;
  reporter?: Reporter;
  /** Time source of the freeze gate and the rollout's waits. */
  clock?: Clock;
  ecs?: ECSClient;
  elb?: ElasticLoadBalancingV2Client;
  cloudwatch?: CloudWatchClient;
  logs?: CloudWatchLogsClient;
}

/** Keeps what autoscaling chose unless it falls outside the environment's min..max. */
export function targetDesiredCount(live: number | undefined, env: Environment): number {
  if (live === undefined) return env.api.desiredCount;
  return Math.min(env.api.maxCount, Math.max(env.api.minCount, live));
}

interface LiveState {
  service: Service;
  /** ARN of the revision the service runs. */
  runningArn: string;
  /** The revision the service runs: what the file is compared with. */
  running: TaskDefinition;
  /** What the next revision is rendered from: the family's newest revision, or the given file. */
  source: TaskDefinition;
  tags: Tag[] | undefined;
  /** The family's newest ACTIVE revision (absent when rendering from a file). */
  newest?: TaskDefinition;
}

const revisionName = (arn: string | undefined) => arn?.split("/").pop() ?? "?";

/** The API service and the ARN of the revision it runs; clear errors for a missing cluster or service. */
export async function readRunningService(
  ecs: ECSClient,
  env: Environment,
): Promise<{ service: Service; runningArn: string }> {
  const { cluster, service: serviceName } = env.api;
  let described: DescribeServicesCommandOutput;
  try {
    described = await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }));
  } catch (error) {
    if ((error as Error).name === "ClusterNotFoundException") {
      throw new DeliveryError(
        `ECS cluster "${cluster}" does not exist (api.cluster in ${environmentSource(env)})`,
      );
    }
    throw explainAwsError(error);
  }
  const service = described.services?.find((s) => s.status !== "INACTIVE");
  // The revision the service runs. ECS keeps service.taskDefinition equal to the PRIMARY deployment's
  // and moves it back on a circuit-breaker rollback; moto never updates deployments[].taskDefinition
  // after CreateService, so the deployment is only the fallback.
  const runningArn = service && (service.taskDefinition ?? primaryDeployment(service)?.taskDefinition);
  if (!service || !runningArn) {
    throw new DeliveryError(
      `ECS service "${serviceName}" does not exist in cluster "${cluster}" (api.service in ${environmentSource(env)})`,
    );
  }
  return { service, runningArn };
}

async function readLive(ecs: ECSClient, env: Environment, file?: string): Promise<LiveState> {
  const { service, runningArn } = await readRunningService(ecs, env);
  const describe = async (taskDefinition: string, tags: boolean) =>
    ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition, ...(tags ? { include: ["TAGS" as const] } : {}) }),
    );
  if (file) {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as TaskDefinition & { tags?: Tag[] };
    const running = (await describe(runningArn, false)).taskDefinition!;
    return { service, runningArn, running, source: parsed, tags: parsed.tags };
  }
  // Rendered from the family's newest ACTIVE revision, not necessarily the one running: terraform
  // registers a revision when the task's shape changes (a sidecar such as the metrics collector,
  // environment, roles) and the service ignores it, so the next deploy is what carries it to the service.
  const family = revisionName(runningArn).split(":")[0]!;
  const { taskDefinition: newest, tags } = await describe(family, true);
  const running =
    newest!.taskDefinitionArn === runningArn ? newest! : (await describe(runningArn, false)).taskDefinition!;
  return { service, runningArn, running, source: newest!, tags, newest };
}

const isNewest = (live: LiveState) =>
  !live.newest?.taskDefinitionArn || live.newest.taskDefinitionArn === live.runningArn;

/** What differs between the revision the service runs and the next one, as the plan and the deploy report it. */
function describeChanges(
  live: LiveState,
  next: RegisterTaskDefinitionCommandInput,
  env: Environment,
  container?: string,
) {
  const runningContainer = pickContainer(live.running.containerDefinitions ?? [], env, container);
  const nextContainer = pickContainer(next.containerDefinitions ?? [], env, container);
  const changes: PlannedChange[] = [];
  const compare = (field: string, from: string | undefined, to: string | undefined) => {
    if (from !== to) changes.push({ field, from, to });
  };
  compare("image", runningContainer.image, nextContainer.image);
  // Each variable, secret (its ARN) and awslogs option of the application container.
  changes.push(...containerSettingChanges(runningContainer, nextContainer));
  for (const name of Object.keys(env.api.containers)) {
    const image = (td: { containerDefinitions?: { name?: string; image?: string }[] }) =>
      td.containerDefinitions?.find((c) => c.name === name)?.image;
    compare(`image (${name})`, image(live.running), image(next));
  }
  compare("cpu", live.running.cpu, next.cpu);
  compare("memory", live.running.memory, next.memory);
  compare(
    "desiredCount",
    String(live.service.desiredCount),
    String(targetDesiredCount(live.service.desiredCount, env)),
  );
  // Anything else of the task's shape: a sidecar, environment, roles (cpu and memory are above).
  const shape = registrationDifferences(live.running, next, env, {
    containerName: container,
    ignoreImage: true,
  }).filter((field) => field !== "cpu" && field !== "memory");
  if (shape.length > 0) {
    const source = live.newest?.taskDefinitionArn
      ? `${revisionName(live.newest.taskDefinitionArn)}${isNewest(live) ? "" : " (newest)"}`
      : "the given task definition";
    changes.push({
      field: "task definition",
      from: revisionName(live.runningArn),
      to: `${source}: ${shape.join(", ")} differ`,
    });
  }
  return changes;
}

/**
 * The newest revision when it already is exactly the next one (a hand rollback left the service on an
 * older revision): the service goes back to it and nothing new is registered.
 */
function reusableRevision(live: LiveState, next: RegisterTaskDefinitionCommandInput, env: Environment) {
  const newest = live.newest;
  if (!newest?.taskDefinitionArn || isNewest(live)) return undefined;
  return registrationDifferences(newest, next, env).length === 0 ? newest.taskDefinitionArn : undefined;
}

/**
 * The service was moved off the file by hand (or a rollback): it runs an older revision than the
 * family's newest, with another image than both the newest and the file.
 */
function driftLine(live: LiveState, env: Environment, image: string, container?: string) {
  if (isNewest(live)) return undefined;
  const ran = pickContainer(live.running.containerDefinitions ?? [], env, container).image;
  const newest = pickContainer(live.newest?.containerDefinitions ?? [], env, container).image;
  if (ran === image || ran === newest) return undefined;
  return `drift: ${env.api.cluster}/${env.api.service} ran ${revisionName(live.runningArn)} (${ran}), not the file's ${image}`;
}

function clients(options: DeployEcsOptions) {
  const aws: AwsOptions = { region: options.env.region, ...options.aws };
  return {
    ecs: options.ecs ?? createClient(ECSClient, aws),
    elb: options.elb ?? createClient(ElasticLoadBalancingV2Client, aws),
    cloudwatch: options.cloudwatch ?? createClient(CloudWatchClient, aws),
    logs: options.logs ?? createClient(CloudWatchLogsClient, aws),
  };
}

/** Dry-run: reads the live service and shows what deployEcs would change. Calls no mutating API. */
export async function planEcs(options: DeployEcsOptions): Promise<Plan> {
  const { env } = options;
  const digest = options.digest ?? env.image.digest;
  assertDigest(digest);
  const { ecs } = clients(options);
  const live = await readLive(ecs, env, options.taskDefinitionFile);
  const next = renderTaskDefinition(live.source, live.tags, env, digest, options.containerName);
  const changes = describeChanges(live, next, env, options.containerName);
  const reuse = reusableRevision(live, next, env);
  const drift = driftLine(live, env, imageReference(env, digest), options.containerName);
  const rolls = changes.length > 0 || options.forceNewDeployment === true;
  const alarms = env.alarms.deploymentAlarms.join(", ") || "none";
  const keep = options.keepRevisions ?? env.api.keepRevisions;
  // After the rollout the running revision is the rollback target and the one registered next serves.
  const serving =
    changes.length === 0
      ? live.runningArn
      : (reuse ?? live.newest?.taskDefinitionArn?.replace(/\d+$/, (n) => String(Number(n) + 1)));
  // A plan reads the family's revisions when it may (promote's read role plans another environment).
  const stale = serving
    ? await staleRevisions(ecs, { serving, previous: live.runningArn, service: live.service, keep }).catch(
        () => [],
      )
    : [];
  return {
    operation: "deploy-ecs",
    target: `${env.api.cluster}/${env.api.service}`,
    noop: !rolls,
    changes,
    steps: rolls
      ? [
          ...(alarms === "none" ? [] : [`refuse if any of ${alarms} is in ALARM`]),
          ...(changes.length === 0
            ? []
            : reuse
              ? [`reuse ${revisionName(reuse)} (already registered with this content)`]
              : [`RegisterTaskDefinition family=${next.family}`]),
          ...env.api.preDeploy.map((task, i, all) => preDeployStep(task, i, all.length, next.family)),
          `UpdateService ${env.api.service}${changes.length === 0 ? ` on ${revisionName(live.runningArn)}` : ""}${options.forceNewDeployment ? " with forceNewDeployment" : ""} (circuit breaker + rollback, alarms: ${alarms})`,
          options.wait === false
            ? "answer started with the deployment id (no wait)"
            : `wait for the rollout (poll every ${options.pollSeconds ?? ECS_POLL_SECONDS}s)`,
          ...(stale.length && options.wait !== false
            ? [
                `DeregisterTaskDefinition ${stale.map(revisionName).join(", ")} (keep the newest ${keep} unused, the serving and the previous revision)`,
              ]
            : []),
        ]
      : [],
    details: [...(drift ? [drift] : []), JSON.stringify(next, null, 2)],
  };
}

type RolloutResult =
  | { kind: "completed" }
  | { kind: "failed"; reason: string }
  | { kind: "timed_out"; reason: string };

async function waitForRollout(
  ecs: ECSClient,
  env: Environment,
  taskDefinitionArn: string,
  options: DeployEcsOptions,
  watch: Stopwatch,
  seenEvents: Set<string>,
  deploymentId: string | undefined,
): Promise<RolloutResult> {
  const reporter = options.reporter ?? consoleReporter;
  const maxFailed = options.maxFailedTasks ?? 3;
  const result = await watch.wait(
    waitFor<RolloutResult>({
      pollMs: (options.pollSeconds ?? ECS_POLL_SECONDS) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: (options.timeoutSeconds ?? ECS_TIMEOUT_SECONDS) * 1000,
      reporter,
      clock: options.clock,
      poll: async () => {
        const out = await ecs.send(
          new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }),
        );
        const service = out.services?.[0];
        if (!service)
          return { done: { kind: "failed", reason: "the service disappeared during the rollout" } };
        for (const event of [...(service.events ?? [])].reverse()) {
          if (event.id && !seenEvents.has(event.id)) {
            seenEvents.add(event.id);
            reporter.info(`  event: ${event.message}`);
          }
        }
        // service.taskDefinition is the revision ECS is converging to: it moves back on a circuit-breaker rollback.
        // Ours by the id UpdateService answered (a forced deployment shares its revision with the old one).
        const ours =
          service.deployments?.find((d) => deploymentId !== undefined && d.id === deploymentId) ??
          service.deployments?.find((d) => d.taskDefinition === taskDefinitionArn);
        if (service.taskDefinition !== taskDefinitionArn || ours?.rolloutState === "FAILED") {
          return {
            done: {
              kind: "failed",
              reason:
                ours?.rolloutStateReason && ours.rolloutState === "FAILED"
                  ? ours.rolloutStateReason
                  : `ECS moved the service to ${service.taskDefinition ?? "another revision"}`,
            },
          };
        }
        if ((ours?.failedTasks ?? 0) >= maxFailed) {
          return { done: { kind: "failed", reason: `${ours?.failedTasks} new tasks failed to start` } };
        }
        // Same rule as the SDK's waitUntilServicesStable, plus ECS's own rollout state when it reports one.
        const stable =
          ours?.rolloutState === "COMPLETED" ||
          (service.deployments?.length === 1 && service.runningCount === service.desiredCount);
        if (stable) return { done: { kind: "completed" } };
        return { progress: rolloutLine(service) };
      },
    }),
  );
  if (result.status === "done") return result.value;
  return {
    kind: "timed_out",
    reason: `the rollout did not finish within ${options.timeoutSeconds ?? ECS_TIMEOUT_SECONDS}s (${result.lastProgress})`,
  };
}

/**
 * Rolls the API service to the digest. Outcome: succeeded | unchanged | started (wait: false) |
 * rolled_back | failed | timed_out. The file's pre-deploy tasks run from the new revision first; one
 * that fails stops the deploy before UpdateService.
 */
export async function deployEcs(options: DeployEcsOptions): Promise<Outcome> {
  const { env } = options;
  return deployGated(
    {
      ...options,
      operation: "deploy-ecs",
      target: `${env.api.cluster}/${env.api.service}`,
      artifacts: { image: options.digest ?? env.image.digest },
    },
    () => rollService(options),
  );
}

async function rollService(options: DeployEcsOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  const digest = options.digest ?? env.image.digest;
  assertDigest(digest);
  const { ecs, elb, cloudwatch, logs } = clients(options);
  const target = `${env.api.cluster}/${env.api.service}`;
  const live = await readLive(ecs, env, options.taskDefinitionFile);
  const previous = live.runningArn;
  const next = renderTaskDefinition(live.source, live.tags, env, digest, options.containerName);
  const changes = describeChanges(live, next, env, options.containerName);
  const image = imageReference(env, digest);
  const force = options.forceNewDeployment === true;
  if (changes.length === 0 && !force) {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "unchanged",
      reason: `${image} already serves ${target}`,
      revisions: { previous, current: previous },
      outputs: { "task-definition-arn": previous, image },
    });
  }
  const drift = driftLine(live, env, image, options.containerName);
  if (drift) reporter.warn(drift);
  for (const change of changes)
    reporter.info(`${change.field}: ${change.from ?? "-"} -> ${change.to ?? "-"}`);

  // A rollout judged by alarms that already fire would be rolled back for an old fault.
  const alarmNames = env.alarms.deploymentAlarms;
  const firing = await alarmsInAlarm(cloudwatch, { names: alarmNames });
  // A fix for the fault that fires them must still go out: with a break-glass reason the rollout
  // starts, judged by the circuit breaker only (alarms already in ALARM would roll it back at once).
  const glass = options.breakGlass?.trim();
  const fixForward =
    firing.length > 0 && glass
      ? `break-glass: ${glass} (deployment alarms already in ALARM: ${firing.join(", ")}; the rollout is judged by the circuit breaker only)`
      : undefined;
  if (fixForward) reporter.warn(fixForward);
  if (firing.length > 0 && !fixForward) {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "failed",
      reason: `refused to start the rollout: ${firing.join(", ")} ${firing.length > 1 ? "are" : "is"} already in ALARM; nothing was changed (a break-glass reason lets a fix go out)`,
      revisions: { previous, current: previous },
      diagnostics: [
        ...(drift ? [drift] : []),
        ...firing.map((name) => `alarm in ALARM before the deploy: ${name}`),
      ],
      outputs: { "task-definition-arn": previous, image },
    });
  }

  let arn = previous;
  if (changes.length > 0) {
    const reuse = reusableRevision(live, next, env);
    if (reuse) {
      arn = reuse;
      reporter.info(`${revisionName(reuse)} already holds this task definition: nothing to register`);
    } else {
      const registered = await ecs.send(new RegisterTaskDefinitionCommand(next));
      arn = registered.taskDefinition!.taskDefinitionArn!;
      reporter.info(`registered ${arn}`);
    }
  }
  const preDeploy = await runPreDeployTasks(ecs, env.api.preDeploy, {
    cluster: env.api.cluster,
    service: live.service,
    taskDefinitionArn: arn,
    container: pickContainer(next.containerDefinitions ?? [], env, options.containerName),
    pollSeconds: options.pollSeconds ?? ECS_POLL_SECONDS,
    reporter,
    clock: options.clock,
    watch,
    logs,
  });
  if (preDeploy.failure) {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "failed",
      reason: `${preDeploy.failure}; the service was not updated: ${revisionName(previous)} still serves`,
      revisions: { previous, attempted: arn, current: previous },
      diagnostics: [...(drift ? [drift] : []), ...preDeploy.lines],
      outputs: { "task-definition-arn": previous, image },
    });
  }
  const startedAt = new Date();
  const seenEvents = new Set((live.service.events ?? []).map((e) => e.id ?? ""));
  const updated = await ecs.send(
    new UpdateServiceCommand({
      cluster: env.api.cluster,
      service: env.api.service,
      taskDefinition: arn,
      desiredCount: changes.some((c) => c.field === "desiredCount")
        ? targetDesiredCount(live.service.desiredCount, env)
        : undefined,
      forceNewDeployment: force || undefined,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames, enable: alarmNames.length > 0 && !fixForward, rollback: true },
      },
    }),
  );
  reporter.info(
    changes.length > 0
      ? `updating ${target} to ${revisionName(arn)}${force ? " (new deployment forced)" : ""}`
      : `forcing a new deployment of ${target} on ${revisionName(arn)}`,
  );
  const deploymentId = updated?.service ? primaryDeployment(updated.service)?.id : undefined;
  const ids: Record<string, string> = deploymentId ? { "deployment-id": deploymentId } : {};
  if (options.wait === false) {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "started",
      reason: `${target} is rolling to ${revisionName(arn)} (${image}) in deployment ${deploymentId ?? "?"}; not waited for (wait: false)`,
      revisions: { previous, attempted: arn, current: arn },
      diagnostics: [...(fixForward ? [fixForward] : []), ...(drift ? [drift] : []), ...preDeploy.lines],
      outputs: { "task-definition-arn": arn, image, ...ids },
    });
  }
  const rollout = await waitForRollout(ecs, env, arn, options, watch, seenEvents, deploymentId);
  if (rollout.kind === "completed") {
    const cleanup = await cleanUpRevisions(ecs, env, { serving: arn, previous, keep: options.keepRevisions });
    const done =
      changes.length > 0
        ? `${target} runs ${image}${force ? " (new deployment forced)" : ""}`
        : `forced a new deployment: ${target} runs ${image} on fresh tasks of ${revisionName(arn)}`;
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "succeeded",
      reason: drift ? `${done}; ${drift}` : done,
      revisions: { previous, attempted: arn, current: arn },
      diagnostics: [
        ...(fixForward ? [fixForward] : []),
        ...(drift ? [drift] : []),
        ...preDeploy.lines,
        ...cleanup,
      ],
      outputs: { "task-definition-arn": arn, image, ...ids },
    });
  }

  reporter.warn(`${rollout.reason}; making sure ${revisionName(previous)} serves`);
  const diagnostics = await collectDiagnostics(ecs, elb, env, startedAt);
  const restored = await restorePrevious(ecs, env, previous, options, watch);
  return finish(watch, {
    operation: "deploy-ecs",
    target,
    status: restored.ok ? "rolled_back" : rollout.kind === "timed_out" ? "timed_out" : "failed",
    reason: `${rollout.reason}; ${restored.message}`,
    revisions: { previous, attempted: arn, current: restored.current },
    diagnostics: [...(drift ? [drift] : []), ...preDeploy.lines, ...diagnostics],
    outputs: { "task-definition-arn": restored.current ?? previous, image, ...ids },
  });
}

/** Deregisters the family's unused revisions beyond the newest `keep`; lines for the outcome, never a failure. */
async function cleanUpRevisions(
  ecs: ECSClient,
  env: Environment,
  options: { serving: string; previous: string; keep?: number },
): Promise<string[]> {
  try {
    // Read now: a deployment still draining references its revision.
    const { service } = await readRunningService(ecs, env);
    const stale = await staleRevisions(ecs, {
      ...options,
      service,
      keep: options.keep ?? env.api.keepRevisions,
    });
    return await deregisterRevisions(ecs, stale);
  } catch (error) {
    return [`revision cleanup skipped: ${(error as Error).message}`];
  }
}

async function restorePrevious(
  ecs: ECSClient,
  env: Environment,
  previous: string,
  options: DeployEcsOptions,
  watch: Stopwatch,
): Promise<{ ok: boolean; current?: string; message: string }> {
  const describe = async () =>
    (await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] })))
      .services?.[0];
  let service = await describe();
  if (service?.taskDefinition !== previous) {
    await ecs.send(
      new UpdateServiceCommand({
        cluster: env.api.cluster,
        service: env.api.service,
        taskDefinition: previous,
      }),
    );
  }
  const settle = await watch.wait(
    waitFor({
      pollMs: (options.pollSeconds ?? ECS_POLL_SECONDS) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: Math.min(300, options.timeoutSeconds ?? 300) * 1000,
      reporter: options.reporter ?? consoleReporter,
      clock: options.clock ?? systemClock,
      poll: async () => {
        service = await describe();
        const primary = primaryDeployment(service ?? {});
        return primary?.taskDefinition === previous && service?.taskDefinition === previous
          ? { done: true }
          : { progress: `restoring ${previous.split("/").pop()}: ${service ? rolloutLine(service) : "?"}` };
      },
    }),
  );
  const current = service?.taskDefinition;
  if (settle.status === "done")
    return { ok: true, current, message: `${previous.split("/").pop()} serves again` };
  return {
    ok: false,
    current,
    message: `could not confirm ${previous.split("/").pop()} serves (now ${current})`,
  };
}

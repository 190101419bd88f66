// deploy-ecs: render the next task definition from the live one, register it, roll the service,
// wait for the rollout, and make sure the previous revision serves again if it does not finish.
import { readFileSync } from "node:fs";
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
import { type AwsOptions, createClient } from "./aws.ts";
import { collectDiagnostics, primaryDeployment, rolloutLine } from "./ecs-diagnostics.ts";
import { assertDigest, imageReference, pickContainer, renderTaskDefinition } from "./ecs-task-definition.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { finish, type Outcome, type Plan, type PlannedChange, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock, waitFor } from "./wait.ts";

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
  pollSeconds?: number;
  progressSeconds?: number;
  /** Give up on the rollout once this many new tasks failed (don't sit out the timeout). */
  maxFailedTasks?: number;
  reporter?: Reporter;
  clock?: Clock;
  ecs?: ECSClient;
  elb?: ElasticLoadBalancingV2Client;
}

/** Keeps what autoscaling chose unless it falls outside the environment's min..max. */
export function targetDesiredCount(live: number | undefined, env: Environment): number {
  if (live === undefined) return env.api.desiredCount;
  return Math.min(env.api.maxCount, Math.max(env.api.minCount, live));
}

interface LiveState {
  service: Service;
  taskDefinition: TaskDefinition;
  tags: Tag[] | undefined;
}

async function readLive(ecs: ECSClient, env: Environment, file?: string): Promise<LiveState> {
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
  if (!service?.taskDefinition) {
    throw new DeliveryError(
      `ECS service "${serviceName}" does not exist in cluster "${cluster}" (api.service in ${environmentSource(env)})`,
    );
  }
  if (file) {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as TaskDefinition & { tags?: Tag[] };
    return { service, taskDefinition: parsed, tags: parsed.tags };
  }
  // The family's newest ACTIVE revision, not necessarily the one running: terraform registers a
  // revision when the task's shape changes (a sidecar such as the metrics collector, environment,
  // roles) and the service ignores it, so the next deploy is what carries it to the service.
  const family = service.taskDefinition.slice(service.taskDefinition.lastIndexOf("/") + 1).split(":")[0]!;
  const td = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: family, include: ["TAGS"] }));
  return { service, taskDefinition: td.taskDefinition!, tags: td.tags };
}

function describeChanges(
  live: LiveState,
  next: RegisterTaskDefinitionCommandInput,
  env: Environment,
  container?: string,
) {
  const liveContainer = pickContainer(live.taskDefinition.containerDefinitions ?? [], env, container);
  const nextContainer = pickContainer(next.containerDefinitions ?? [], env, container);
  const changes: PlannedChange[] = [];
  const compare = (field: string, from: string | undefined, to: string | undefined) => {
    if (from !== to) changes.push({ field, from, to });
  };
  compare("image", liveContainer.image, nextContainer.image);
  compare("cpu", live.taskDefinition.cpu, next.cpu);
  compare("memory", live.taskDefinition.memory, next.memory);
  compare(
    "desiredCount",
    String(live.service.desiredCount),
    String(targetDesiredCount(live.service.desiredCount, env)),
  );
  return changes;
}

function clients(options: DeployEcsOptions) {
  const aws: AwsOptions = { region: options.env.region, ...options.aws };
  return {
    ecs: options.ecs ?? createClient(ECSClient, aws),
    elb: options.elb ?? createClient(ElasticLoadBalancingV2Client, aws),
  };
}

/** Dry-run: reads the live service and shows what deployEcs would change. Calls no mutating API. */
export async function planEcs(options: DeployEcsOptions): Promise<Plan> {
  const { env } = options;
  const digest = options.digest ?? env.image.digest;
  assertDigest(digest);
  const { ecs } = clients(options);
  const live = await readLive(ecs, env, options.taskDefinitionFile);
  const next = renderTaskDefinition(live.taskDefinition, live.tags, env, digest, options.containerName);
  const changes = describeChanges(live, next, env, options.containerName);
  return {
    operation: "deploy-ecs",
    target: `${env.api.cluster}/${env.api.service}`,
    noop: changes.length === 0,
    changes,
    steps: changes.length
      ? [
          `RegisterTaskDefinition family=${next.family}`,
          `UpdateService ${env.api.service} (circuit breaker + rollback, alarms: ${env.alarms.deploymentAlarms.join(", ") || "none"})`,
          "wait for the rollout",
        ]
      : [],
    details: [JSON.stringify(next, null, 2)],
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
): Promise<RolloutResult> {
  const reporter = options.reporter ?? consoleReporter;
  const maxFailed = options.maxFailedTasks ?? 3;
  const result = await watch.wait(
    waitFor<RolloutResult>({
      pollMs: (options.pollSeconds ?? 10) * 1000,
      progressMs: (options.progressSeconds ?? 30) * 1000,
      timeoutMs: (options.timeoutSeconds ?? 1800) * 1000,
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
        const ours = service.deployments?.find((d) => d.taskDefinition === taskDefinitionArn);
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
    reason: `the rollout did not finish within ${options.timeoutSeconds ?? 1800}s (${result.lastProgress})`,
  };
}

/** Rolls the API service to the digest. Outcome: succeeded | unchanged | rolled_back | failed. */
export async function deployEcs(options: DeployEcsOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { env } = options;
  const reporter = options.reporter ?? consoleReporter;
  const digest = options.digest ?? env.image.digest;
  assertDigest(digest);
  const { ecs, elb } = clients(options);
  const target = `${env.api.cluster}/${env.api.service}`;
  const live = await readLive(ecs, env, options.taskDefinitionFile);
  const previous = live.service.taskDefinition!;
  const next = renderTaskDefinition(live.taskDefinition, live.tags, env, digest, options.containerName);
  const changes = describeChanges(live, next, env, options.containerName);
  const image = imageReference(env, digest);
  if (changes.length === 0) {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "unchanged",
      reason: `${image} already serves ${target}`,
      revisions: { previous, current: previous },
      outputs: { "task-definition-arn": previous, image },
    });
  }
  for (const change of changes)
    reporter.info(`${change.field}: ${change.from ?? "-"} -> ${change.to ?? "-"}`);

  const registered = await ecs.send(new RegisterTaskDefinitionCommand(next));
  const arn = registered.taskDefinition!.taskDefinitionArn!;
  reporter.info(`registered ${arn}`);
  const alarmNames = env.alarms.deploymentAlarms;
  const startedAt = new Date();
  const seenEvents = new Set((live.service.events ?? []).map((e) => e.id ?? ""));
  await ecs.send(
    new UpdateServiceCommand({
      cluster: env.api.cluster,
      service: env.api.service,
      taskDefinition: arn,
      desiredCount: changes.some((c) => c.field === "desiredCount")
        ? targetDesiredCount(live.service.desiredCount, env)
        : undefined,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: true, rollback: true },
        alarms: { alarmNames, enable: alarmNames.length > 0, rollback: true },
      },
    }),
  );
  reporter.info(`updating ${target} to ${arn.split("/").pop()}`);
  const rollout = await waitForRollout(ecs, env, arn, options, watch, seenEvents);
  if (rollout.kind === "completed") {
    return finish(watch, {
      operation: "deploy-ecs",
      target,
      status: "succeeded",
      reason: `${target} runs ${image}`,
      revisions: { previous, attempted: arn, current: arn },
      outputs: { "task-definition-arn": arn, image },
    });
  }

  reporter.warn(`${rollout.reason}; making sure ${previous.split("/").pop()} serves`);
  const diagnostics = await collectDiagnostics(ecs, elb, env, startedAt);
  const restored = await restorePrevious(ecs, env, previous, options, watch);
  return finish(watch, {
    operation: "deploy-ecs",
    target,
    status: restored.ok ? "rolled_back" : rollout.kind === "timed_out" ? "timed_out" : "failed",
    reason: `${rollout.reason}; ${restored.message}`,
    revisions: { previous, attempted: arn, current: restored.current },
    diagnostics,
    outputs: { "task-definition-arn": restored.current ?? previous, image },
  });
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
      pollMs: (options.pollSeconds ?? 10) * 1000,
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

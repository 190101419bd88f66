// deploy-ecs's pre-deploy tasks (api.preDeploy): the new revision run as one-off tasks before the
// service moves, e.g. a database migration. Each runs where the service's tasks run (its network
// configuration, launch type or capacity providers), with the application container's command
// overridden; its exit code and the tail of its logs are what the deploy reports.
import { type CloudWatchLogsClient, GetLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  type ContainerDefinition,
  DescribeTasksCommand,
  type ECSClient,
  RunTaskCommand,
  type Service,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { Environment } from "@content-engine/environments";
import type { Stopwatch } from "./outcome.ts";
import type { Reporter } from "./reporter.ts";
import { type Clock, waitFor } from "./wait.ts";

export type PreDeployTask = Environment["api"]["preDeploy"][number];

/** How many log lines of a pre-deploy task the outcome keeps. */
export const PRE_DEPLOY_LOG_LINES = 20;

export interface PreDeployRun {
  cluster: string;
  service: Service;
  taskDefinitionArn: string;
  /** The container whose command is overridden (the application container of the new revision). */
  container: ContainerDefinition;
  pollSeconds: number;
  reporter: Reporter;
  clock?: Clock;
  watch: Stopwatch;
  logs: CloudWatchLogsClient;
}

export interface PreDeployResult {
  /** Why the deploy must stop; absent when every task exited 0. */
  failure?: string;
  /** Per task: its command, exit code and log tail (for the outcome's diagnostics and the summary). */
  lines: string[];
}

/** The step a plan shows for one pre-deploy task. */
export function preDeployStep(task: PreDeployTask, index: number, count: number, family?: string): string {
  return `RunTask ${family ?? "the new revision"} (pre-deploy ${index + 1}/${count}: ${task.command.join(" ")}, timeout ${task.timeoutSeconds}s): a non-zero exit stops the deploy before UpdateService`;
}

/**
 * Runs the environment's pre-deploy tasks one after the other, stopping at the first that fails.
 *
 * @example
 *   const result = await runPreDeployTasks(ecs, env.api.preDeploy, { cluster, service, taskDefinitionArn, ... });
 *   if (result.failure) return failed(result.failure); // the service was not touched
 */
export async function runPreDeployTasks(
  ecs: ECSClient,
  tasks: readonly PreDeployTask[],
  run: PreDeployRun,
): Promise<PreDeployResult> {
  const lines: string[] = [];
  for (const [index, task] of tasks.entries()) {
    const label = `pre-deploy ${index + 1}/${tasks.length} (${task.command.join(" ")})`;
    run.reporter.info(`${label}: starting a task of ${run.taskDefinitionArn.split("/").pop()}`);
    const result = await runOne(ecs, task, run, label);
    lines.push(...result.lines);
    if (result.failure) return { failure: result.failure, lines };
    run.reporter.info(`${label}: exit 0`);
  }
  return { lines };
}

async function runOne(
  ecs: ECSClient,
  task: PreDeployTask,
  run: PreDeployRun,
  label: string,
): Promise<{ failure?: string; lines: string[] }> {
  const { service } = run;
  const started = await ecs.send(
    new RunTaskCommand({
      cluster: run.cluster,
      taskDefinition: run.taskDefinitionArn,
      count: 1,
      startedBy: "content-engine-pre-deploy",
      group: `pre-deploy:${service.serviceName}`,
      // A capacity provider strategy and a launch type exclude each other, as in CreateService.
      ...(service.capacityProviderStrategy?.length
        ? { capacityProviderStrategy: service.capacityProviderStrategy }
        : { launchType: service.launchType }),
      platformVersion: service.platformVersion,
      networkConfiguration: service.networkConfiguration,
      overrides: { containerOverrides: [{ name: run.container.name, command: task.command }] },
    }),
  );
  const taskArn = started.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const why = started.failures?.map((f) => `${f.reason ?? "?"}${f.detail ? ` (${f.detail})` : ""}`);
    const failure = `${label} could not start: ${why?.join("; ") || "RunTask answered no task"}`;
    return { failure, lines: [failure] };
  }
  const taskId = taskArn.split("/").pop()!;
  const waited = await run.watch.wait(
    waitFor<Task>({
      pollMs: run.pollSeconds * 1000,
      progressMs: 30_000,
      timeoutMs: task.timeoutSeconds * 1000,
      reporter: run.reporter,
      clock: run.clock,
      poll: async () => {
        const described = await ecs.send(
          new DescribeTasksCommand({ cluster: run.cluster, tasks: [taskArn] }),
        );
        const current = described.tasks?.[0];
        if (current?.lastStatus === "STOPPED") return { done: current };
        return { progress: `${label}: task ${taskId} ${current?.lastStatus ?? "?"}` };
      },
    }),
  );
  if (waited.status === "timed_out") {
    await ecs.send(
      new StopTaskCommand({
        cluster: run.cluster,
        task: taskArn,
        reason: `content-engine: pre-deploy timeout ${task.timeoutSeconds}s`,
      }),
    );
    const failure = `${label} did not stop within ${task.timeoutSeconds}s (task ${taskId} stopped)`;
    return { failure, lines: [failure, ...(await logTail(run, taskId))] };
  }
  const stopped = waited.value;
  const container = stopped.containers?.find((c) => c.name === run.container.name);
  const exit = container?.exitCode;
  const state = `${label}: task ${taskId} exit ${exit ?? "none"}${stopped.stoppedReason ? ` (${stopped.stoppedReason}${container?.reason ? `; ${container.reason}` : ""})` : ""}`;
  const lines = [state, ...(await logTail(run, taskId))];
  if (exit === 0) return { lines };
  return {
    failure: `${label} ${exit === undefined ? "stopped without an exit code" : `exited ${exit}`}`,
    lines,
  };
}

/** The last lines the task's container wrote, from its awslogs configuration; a line saying why not otherwise. */
async function logTail(run: PreDeployRun, taskId: string): Promise<string[]> {
  const config = run.container.logConfiguration;
  const group = config?.options?.["awslogs-group"];
  const prefix = config?.options?.["awslogs-stream-prefix"];
  if (config?.logDriver !== "awslogs" || !group || !prefix) {
    return [`  logs: ${run.container.name} has no awslogs configuration with a stream prefix`];
  }
  const stream = `${prefix}/${run.container.name}/${taskId}`;
  try {
    const events = await run.logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        limit: PRE_DEPLOY_LOG_LINES,
        startFromHead: false,
      }),
    );
    const messages = (events.events ?? []).map((e) => `  | ${e.message?.trimEnd() ?? ""}`);
    return messages.length
      ? [`  logs (${group} ${stream}):`, ...messages]
      : [`  logs: ${group} ${stream} is empty`];
  } catch (error) {
    return [`  logs: ${group} ${stream} unreadable (${(error as Error).name}: ${(error as Error).message})`];
  }
}

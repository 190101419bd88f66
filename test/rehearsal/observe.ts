// What the checks read: moto (in each environment's own account), the local registry, the bare remote.
// Never the workflows' log lines.
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from "@aws-sdk/client-ecs";
import { GetAliasCommand, GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { bundleCodeSha256 } from "@content-engine/delivery";
import { alarmNamePrefix, type Environment } from "@content-engine/environments";
import { assume, client } from "./world.ts";

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.index.v1+json",
].join(", ");

/** The registry's digest of `repository:tag` or `repository@digest`, or undefined when it has none. */
export async function registryDigest(registry: string, repository: string, reference: string) {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, {
    method: "HEAD",
    headers: { accept: MANIFEST_ACCEPT },
  });
  return response.ok ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

/** The layer digest of the worker bundle artifact stored under `tag`. */
export async function workerBundleDigest(registry: string, repository: string, tag: string) {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: MANIFEST_ACCEPT },
  });
  if (!response.ok) return undefined;
  const manifest = (await response.json()) as { layers?: { digest: string }[] };
  return manifest.layers?.[0]?.digest;
}

/** Lambda's CodeSha256 (base64) of a recorded worker bundle's sha256:<hex> digest. */
export const codeShaOf = (digest: string | undefined) => (digest ? bundleCodeSha256(digest) : undefined);

export interface Live {
  taskDefinitionArn?: string;
  image?: string;
  cpu?: string;
  memory?: string;
  aliasVersion?: string;
  split: Record<string, number>;
  codeSha256?: string;
  alarms: { name: string; state: string }[];
}

/** The API service and the task definition it runs (not the family's newest revision). */
export async function serviceTaskDefinition(ecs: ECSClient, env: Environment) {
  const service = (
    await ecs.send(new DescribeServicesCommand({ cluster: env.api.cluster, services: [env.api.service] }))
  ).services?.[0];
  const taskDefinition = service?.taskDefinition
    ? (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition })))
        .taskDefinition
    : undefined;
  return { service, taskDefinition };
}

/** The worker alias and the configuration of the version it points at (code hash, handler, env…). */
export async function aliasConfiguration(lambda: LambdaClient, env: Environment) {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }),
  );
  const config = await lambda.send(
    new GetFunctionConfigurationCommand({
      FunctionName: env.worker.functionName,
      Qualifier: alias.FunctionVersion,
    }),
  );
  return { alias, config };
}

/** What runs in an environment's account right now. */
export async function observe(endpoint: string, env: Environment): Promise<Live> {
  const credentials = await assume(endpoint, env.deployRoleArn!);
  const ecs = client(ECSClient, endpoint, credentials, env.region);
  const lambda = client(LambdaClient, endpoint, credentials, env.region);
  const cloudwatch = client(CloudWatchClient, endpoint, credentials, env.region);
  const { service, taskDefinition: td } = await serviceTaskDefinition(ecs, env);
  const { alias, config } = await aliasConfiguration(lambda, env);
  const alarms = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: alarmNamePrefix(env) }));
  return {
    taskDefinitionArn: service?.taskDefinition,
    image: td?.containerDefinitions?.find((c) => c.name === "api")?.image,
    cpu: td?.cpu,
    memory: td?.memory,
    aliasVersion: alias.FunctionVersion,
    split: alias.RoutingConfig?.AdditionalVersionWeights ?? {},
    codeSha256: config.CodeSha256,
    alarms: (alarms.MetricAlarms ?? []).map((a) => ({ name: a.AlarmName!, state: a.StateValue! })),
  };
}

export interface Rollout {
  deployments: { status?: string; rolloutState?: string; taskDefinition?: string; failedTasks?: number }[];
  stoppedTasks: { taskDefinition?: string; stoppedReason?: string; exitCodes: (number | undefined)[] }[];
}

/** The API service's deployments and its stopped tasks, as ECS reports them in the environment's account. */
export async function ecsRollout(endpoint: string, env: Environment): Promise<Rollout> {
  const credentials = await assume(endpoint, env.deployRoleArn!);
  const ecs = client(ECSClient, endpoint, credentials, env.region);
  const { cluster, service: serviceName } = env.api;
  const service = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] })))
    .services?.[0];
  const stopped = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: "STOPPED" }));
  const tasks = stopped.taskArns?.length
    ? ((await ecs.send(new DescribeTasksCommand({ cluster, tasks: stopped.taskArns }))).tasks ?? [])
    : [];
  return {
    deployments: (service?.deployments ?? []).map((d) => ({
      status: d.status,
      rolloutState: d.rolloutState,
      taskDefinition: d.taskDefinition,
      failedTasks: d.failedTasks,
    })),
    stoppedTasks: tasks.map((t) => ({
      taskDefinition: t.taskDefinitionArn,
      stoppedReason: t.stoppedReason,
      exitCodes: (t.containers ?? []).map((c) => c.exitCode),
    })),
  };
}

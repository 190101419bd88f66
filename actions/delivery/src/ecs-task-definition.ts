// The next ECS task definition of deploy-ecs: the live (or given) one's registerable fields, the new
// image, environment, secrets and awslogs options on the application container, the environment's cpu and memory.
import type {
  ContainerDefinition,
  RegisterTaskDefinitionCommandInput,
  Tag,
  TaskDefinition,
} from "@aws-sdk/client-ecs";
import { DIGEST_PATTERN, type Environment, environmentSource } from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";
import type { PlannedChange } from "./outcome.ts";

const REGISTERABLE = [
  "family",
  "taskRoleArn",
  "executionRoleArn",
  "networkMode",
  "containerDefinitions",
  "volumes",
  "placementConstraints",
  "requiresCompatibilities",
  "cpu",
  "memory",
  "pidMode",
  "ipcMode",
  "proxyConfiguration",
  "inferenceAccelerators",
  "ephemeralStorage",
  "runtimePlatform",
] as const;

export function imageReference(env: Environment, digest: string): string {
  return `${env.image.repository}@${digest}`;
}

export function assertDigest(digest: string): void {
  if (!DIGEST_PATTERN.test(digest)) {
    throw new DeliveryError(`digest "${digest}" is not an image digest: expected sha256:<64 hex characters>`);
  }
}

export function pickContainer(
  definitions: ContainerDefinition[],
  env: Environment,
  name?: string,
): ContainerDefinition {
  const chosen = name
    ? definitions.find((c) => c.name === name)
    : (definitions.find((c) => c.image?.startsWith(env.image.repository)) ?? definitions[0]);
  if (!chosen) {
    throw new DeliveryError(
      `container "${name ?? "(first)"}" not found in the task definition: expected one of ${definitions.map((c) => c.name).join(", ")}`,
    );
  }
  return chosen;
}

/**
 * The other containers' images the file names (api.containers), set on `containers`. A name the task
 * does not have, or the application container's (its image is image.digest), is an error naming the field.
 */
function setContainerImages(containers: ContainerDefinition[], app: ContainerDefinition, env: Environment) {
  for (const [name, { image }] of Object.entries(env.api.containers)) {
    const field = `api.containers.${name} in ${environmentSource(env)}`;
    if (name === app.name) {
      throw new DeliveryError(
        `${field}: "${name}" is the application container; its image is image.digest (name only the other containers)`,
      );
    }
    const container = containers.find((c) => c.name === name);
    if (!container) {
      throw new DeliveryError(
        `${field}: the task definition has no container "${name}": expected one of ${containers.map((c) => c.name).join(", ")}`,
      );
    }
    container.image = image;
  }
}

/**
 * The file's api.environment, api.secrets and api.logConfiguration on the application container. The
 * file is the truth for the names it gives (one moved from environment to secrets leaves the other
 * list); every other variable of the revision (terraform's) is carried forward.
 */
function setContainerSettings(app: ContainerDefinition, env: Environment) {
  const { environment, secrets, logConfiguration } = env.api;
  const named = { ...environment, ...secrets };
  if (Object.keys(named).length > 0) {
    const carried = <T extends { name?: string }>(list: T[] | undefined) =>
      (list ?? []).filter((entry) => !entry.name || !(entry.name in named));
    const variables = [
      ...carried(app.environment),
      ...Object.entries(environment).map(([name, value]) => ({ name, value })),
    ];
    const references = [
      ...carried(app.secrets),
      ...Object.entries(secrets).map(([name, valueFrom]) => ({ name, valueFrom })),
    ];
    // Sorted by name, so the same file renders the same revision whatever order the revision listed them in.
    const byName = (a: { name?: string }, b: { name?: string }) => (a.name ?? "").localeCompare(b.name ?? "");
    variables.sort(byName);
    references.sort(byName);
    if (variables.length > 0) app.environment = variables;
    else delete app.environment;
    if (references.length > 0) app.secrets = references;
    else delete app.secrets;
  }
  if (logConfiguration) {
    if (app.logConfiguration?.logDriver !== "awslogs") {
      throw new DeliveryError(
        `api.logConfiguration in ${environmentSource(env)}: container "${app.name}" does not log with awslogs (${app.logConfiguration?.logDriver ?? "no log configuration"}); terraform sets the driver and the group, the file only adjusts awslogs options`,
      );
    }
    app.logConfiguration = {
      ...app.logConfiguration,
      options: { ...app.logConfiguration.options, ...logConfiguration.options },
    };
  }
}

/** The next task definition: the live (or file) one with the new images and the environment's sizing. */
export function renderTaskDefinition(
  live: TaskDefinition,
  tags: Tag[] | undefined,
  env: Environment,
  digest: string,
  containerName?: string,
): RegisterTaskDefinitionCommandInput {
  const input: Record<string, unknown> = {};
  for (const key of REGISTERABLE) if (live[key] !== undefined) input[key] = structuredClone(live[key]);
  const containers = (input.containerDefinitions as ContainerDefinition[] | undefined) ?? [];
  const app = pickContainer(containers, env, containerName);
  app.image = imageReference(env, digest);
  setContainerImages(containers, app, env);
  setContainerSettings(app, env);
  input.cpu = String(env.api.cpu);
  input.memory = String(env.api.memory);
  if (tags && tags.length > 0) input.tags = tags;
  return input as unknown as RegisterTaskDefinitionCommandInput;
}

/** Comparable form of a registerable value: keys sorted, empty lists/objects and nulls left out (ECS fills them in). */
function normalised(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalised).filter((item) => item !== undefined);
    return items.length ? items : undefined;
  }
  if (value && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => [key, normalised((value as Record<string, unknown>)[key])] as const)
      .filter(([, item]) => item !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value ?? undefined;
}

/**
 * The registerable fields in which two task definitions differ. `ignoreImage` leaves out the image,
 * environment, secrets and log configuration of the application container and the images of the
 * containers api.containers names (deploy-ecs reports those as their own changes).
 */
export function registrationDifferences(
  from: TaskDefinition | RegisterTaskDefinitionCommandInput,
  to: TaskDefinition | RegisterTaskDefinitionCommandInput,
  env: Environment,
  options: { containerName?: string; ignoreImage?: boolean } = {},
): string[] {
  const comparable = (td: TaskDefinition | RegisterTaskDefinitionCommandInput, key: string) => {
    const value = structuredClone((td as Record<string, unknown>)[key]);
    if (key === "containerDefinitions" && options.ignoreImage && Array.isArray(value) && value.length) {
      const app = pickContainer(value as ContainerDefinition[], env, options.containerName);
      delete app.image;
      // Reported one by one (containerSettingChanges).
      delete app.environment;
      delete app.secrets;
      delete app.logConfiguration;
      // The images the file names for other containers are reported as their own changes too.
      for (const container of value as ContainerDefinition[]) {
        if (container.name && container.name in env.api.containers) delete container.image;
      }
    }
    return JSON.stringify(normalised(value) ?? null);
  };
  return REGISTERABLE.filter((key) => comparable(from, key) !== comparable(to, key));
}

/**
 * Each variable, secret and log setting of the application container that differs between two
 * revisions, as `field`/`from`/`to`. A secret shows its ARN (`valueFrom`), never a value.
 *
 * @example
 * containerSettingChanges(running, next); // [{ field: "environment.FEATURE_X", from: undefined, to: "on" }]
 */
export function containerSettingChanges(from: ContainerDefinition, to: ContainerDefinition): PlannedChange[] {
  const changes: PlannedChange[] = [];
  const compare = (prefix: string, a: Record<string, string>, b: Record<string, string>) => {
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort())
      if (a[name] !== b[name]) changes.push({ field: `${prefix}.${name}`, from: a[name], to: b[name] });
  };
  const variables = (c: ContainerDefinition) =>
    Object.fromEntries((c.environment ?? []).map((e) => [e.name ?? "", e.value ?? ""]));
  const secrets = (c: ContainerDefinition) =>
    Object.fromEntries((c.secrets ?? []).map((e) => [e.name ?? "", e.valueFrom ?? ""]));
  const logging = (c: ContainerDefinition) => ({
    ...(c.logConfiguration?.logDriver ? { logDriver: c.logConfiguration.logDriver } : {}),
    ...c.logConfiguration?.options,
  });
  compare("environment", variables(from), variables(to));
  compare("secrets", secrets(from), secrets(to));
  compare("logConfiguration", logging(from), logging(to));
  return changes;
}

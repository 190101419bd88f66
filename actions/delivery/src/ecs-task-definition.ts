// The next ECS task definition of deploy-ecs: the live (or given) one's registerable fields, the new
// image on the application container, the environment's cpu and memory.
import type {
  ContainerDefinition,
  RegisterTaskDefinitionCommandInput,
  Tag,
  TaskDefinition,
} from "@aws-sdk/client-ecs";
import { DIGEST_PATTERN, type Environment } from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";

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

/** The next task definition: the live (or file) one with the new image and the environment's sizing. */
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
  pickContainer(containers, env, containerName).image = imageReference(env, digest);
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
 * The registerable fields in which two task definitions differ. `ignoreImage` leaves out the image of
 * the application container (deploy-ecs reports that one as its own change).
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
      delete pickContainer(value as ContainerDefinition[], env, options.containerName).image;
    }
    return JSON.stringify(normalised(value) ?? null);
  };
  return REGISTERABLE.filter((key) => comparable(from, key) !== comparable(to, key));
}

// Task definition revisions registered beside deploy-ecs's own: what terraform registers when the
// task's shape changes, or what earlier deploys left behind.
import {
  type ContainerDefinition,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
} from "@aws-sdk/client-ecs";

/** Registers the next revision of `from`'s family with its shape, the containers changed by `edit`; its ARN. */
export async function registerRevisionLike(
  ecs: ECSClient,
  from: string,
  edit: (containers: ContainerDefinition[]) => ContainerDefinition[] = (containers) => containers,
): Promise<string> {
  const td = (await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: from }))).taskDefinition!;
  const registered = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: td.family!,
      cpu: td.cpu,
      memory: td.memory,
      networkMode: td.networkMode,
      requiresCompatibilities: td.requiresCompatibilities,
      executionRoleArn: td.executionRoleArn,
      containerDefinitions: edit(td.containerDefinitions!),
    }),
  );
  return registered.taskDefinition!.taskDefinitionArn!;
}

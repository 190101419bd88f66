// deploy-ecs's revision cleanup: a family's ACTIVE task definition revisions pile up one per deploy;
// after a rollout the newest `keep` unused ones stay and older ones are deregistered. A revision the
// service serves, the rollback target, one any ECS deployment still references, and any newer than
// the serving one (registered by terraform, not yet carried to the service) are never touched.
import {
  DeregisterTaskDefinitionCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
  type Service,
} from "@aws-sdk/client-ecs";

const revisionNumber = (arn: string) => Number(arn.split(":").pop());

/** The family of a task definition ARN (…:task-definition/<family>:<revision>). */
export const familyOf = (arn: string) => arn.split("/").pop()!.split(":")[0]!;

/**
 * The revisions of the serving revision's family to deregister, oldest first.
 *
 * @example
 *   const stale = await staleRevisions(ecs, { serving, previous, service, keep: 10 });
 *   // ["arn:…:task-definition/api:1", "arn:…:task-definition/api:2"]
 */
export async function staleRevisions(
  ecs: ECSClient,
  options: { serving: string; previous: string; service: Service; keep: number },
): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: familyOf(options.serving),
        status: "ACTIVE",
        nextToken,
      }),
    );
    arns.push(
      ...(page.taskDefinitionArns ?? []).filter((arn) => familyOf(arn) === familyOf(options.serving)),
    );
    nextToken = page.nextToken;
  } while (nextToken);
  const protectedArns = new Set([
    options.serving,
    options.previous,
    ...(options.service.deployments ?? []).map((d) => d.taskDefinition ?? ""),
  ]);
  const unused = arns
    .filter((arn) => !protectedArns.has(arn) && revisionNumber(arn) < revisionNumber(options.serving))
    .sort((a, b) => revisionNumber(b) - revisionNumber(a));
  return unused.slice(options.keep).reverse();
}

/** Deregisters the given revisions; one line per revision (a failure is reported, never thrown). */
export async function deregisterRevisions(ecs: ECSClient, arns: readonly string[]): Promise<string[]> {
  if (arns.length === 0) return [];
  const done: string[] = [];
  const failed: string[] = [];
  for (const arn of arns) {
    try {
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
      done.push(arn.split("/").pop()!);
    } catch (error) {
      failed.push(`${arn.split("/").pop()} (${(error as Error).name}: ${(error as Error).message})`);
    }
  }
  return [
    ...(done.length ? [`deregistered old revisions: ${done.join(", ")}`] : []),
    ...(failed.length ? [`could not deregister: ${failed.join("; ")}`] : []),
  ];
}

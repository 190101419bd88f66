// What deploy-ecs reports about a rollout: the one-line state of the service while it rolls, and,
// when it does not finish, the stopped tasks, the service's events and the load balancer's targets.
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  type Service,
} from "@aws-sdk/client-ecs";
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Environment } from "@content-engine/environments";

export function primaryDeployment(service: Service) {
  return service.deployments?.find((d) => d.status === "PRIMARY");
}

export function rolloutLine(service: Service): string {
  const primary = primaryDeployment(service);
  const revision = primary?.taskDefinition?.split("/").pop() ?? "?";
  return `${service.serviceName}: ${primary?.rolloutState ?? "?"} ${revision}, running ${service.runningCount ?? 0}/${service.desiredCount ?? 0}, pending ${service.pendingCount ?? 0}, deployments ${service.deployments?.length ?? 0}, failed tasks ${primary?.failedTasks ?? 0}`;
}

export async function collectDiagnostics(
  ecs: ECSClient,
  elb: ElasticLoadBalancingV2Client,
  env: Environment,
  since: Date,
) {
  const lines: string[] = [];
  const { cluster, service: serviceName } = env.api;
  try {
    const stopped = await ecs.send(new ListTasksCommand({ cluster, serviceName, desiredStatus: "STOPPED" }));
    const arns = (stopped.taskArns ?? []).slice(0, 10);
    if (arns.length) {
      const tasks = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
      for (const task of tasks.tasks ?? []) {
        const containers = (task.containers ?? [])
          .filter((c) => c.reason || c.exitCode !== undefined)
          .map((c) => `${c.name}: ${c.reason ?? ""} exit ${c.exitCode ?? "?"}`.trim());
        lines.push(
          `stopped task ${task.taskArn?.split("/").pop()} (${task.taskDefinitionArn?.split("/").pop()}): ${task.stoppedReason ?? "no reason"}${containers.length ? `; ${containers.join("; ")}` : ""}`,
        );
      }
    } else lines.push("stopped tasks: none");
    const described = await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] }));
    const service = described.services?.[0];
    if (service) {
      lines.push(`service now: ${rolloutLine(service)}`);
      const events = (service.events ?? []).filter((e) => !e.createdAt || e.createdAt >= since).slice(0, 5);
      for (const event of events) lines.push(`event: ${event.message}`);
      if (events.length === 0) lines.push("service events: none since the deploy started");
      for (const lb of service.loadBalancers ?? []) {
        if (!lb.targetGroupArn) continue;
        const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.targetGroupArn }));
        for (const target of health.TargetHealthDescriptions ?? []) {
          lines.push(
            `target ${target.Target?.Id}:${target.Target?.Port} ${target.TargetHealth?.State}${target.TargetHealth?.Description ? ` (${target.TargetHealth.Description})` : ""}`,
          );
        }
      }
    }
  } catch (error) {
    lines.push(`diagnostics incomplete: ${(error as Error).message}`);
  }
  return lines;
}

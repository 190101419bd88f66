// Names other folders need from what terraform and the Helm chart create, produced in one place.
// terraform's names are recorded in the environment file (its outputs); the chart's follow from the
// release by the chart's own `content-engine.fullname` rule, restated here once and pinned to
// `helm template` by test/infra/names.test.ts.
import type { Environment } from "./schema.ts";

/** The alarm-name prefix of an environment (explicit or `content-engine-<name>-`). */
export function alarmNamePrefix(env: Environment): string {
  return env.alarms.namePrefix ?? `content-engine-${env.name}-`;
}

/** The name of one generated alarm (its id under the environment's prefix). */
export function alarmName(env: Environment, id: string): string {
  return `${alarmNamePrefix(env)}${id}`;
}

/** The CloudWatch dashboard of an environment (beside its alarms, under the same prefix). */
export function cloudWatchDashboardName(env: Environment): string {
  return alarmName(env, "overview");
}

/** The Prometheus rule group the generated alerting rules of an environment live in. */
export function ruleGroupName(env: Environment): string {
  return `content-engine-${env.name}`;
}

/** The API's task definition family (terraform's ecs-service module: `<cluster>-api`). */
export function apiTaskFamily(env: Environment): string {
  return `${env.api.cluster}-api`;
}

/** The SQS queue names (CloudWatch's QueueName dimension) of the environment's jobs queue and DLQ. */
export function queueNames(env: Environment): { jobs: string; dlq: string } {
  const last = (url: string) => url.slice(url.lastIndexOf("/") + 1);
  return { jobs: last(env.queue.url), dlq: last(env.queue.dlqUrl) };
}

/** The chart's name (helm/content-engine/Chart.yaml). */
export const CHART_NAME = "content-engine";

/** Helm's `content-engine.fullname`: the release, or `<release>-content-engine`, cut to 63 characters. */
export function helmFullname(release: string): string {
  const name = release.includes(CHART_NAME) ? release : `${release}-${CHART_NAME}`;
  return name.slice(0, 63).replace(/-+$/, "");
}

/**
 * The API's load balancer and target group names, as terraform created them (its outputs
 * load_balancer_name and target_group_name, recorded in the environment file): CloudWatch's ALB
 * dimensions are ids derived from these names, which dashboards and alarms look up.
 */
export function loadBalancerNames(env: Environment): { loadBalancer: string; targetGroup: string } {
  return { loadBalancer: env.api.loadBalancer, targetGroup: env.api.targetGroup };
}

/**
 * ALB dimension values hold generated ids (`app/<name>/<hash>`, `targetgroup/<name>/<hash>`) that no
 * file in this repository knows. Generated alarms and the CloudWatch dashboard carry a reference by
 * name instead, which the apply step (observability-apply) resolves with the ELBv2 API.
 */
export type AlbReferenceKind = "alb" | "targetgroup";
export function albReference(kind: AlbReferenceKind, name: string): string {
  return `{{${kind}:${name}}}`;
}
/** Every reference in a text: `{{alb:<name>}}` or `{{targetgroup:<name>}}`. */
export const ALB_REFERENCE = /\{\{(alb|targetgroup):([^}]+)\}\}/g;

export interface KubernetesNames {
  namespace: string;
  /** The API Deployment. */
  api: string;
  /** The worker Deployment, and its KEDA ScaledObject. */
  worker: string;
  /** The HPA KEDA makes for the worker's ScaledObject. */
  hpa: string;
}

/** What the chart names the workloads of this environment's release (`eks.release` in `eks.namespace`). */
export function kubernetesNames(env: Environment): KubernetesNames {
  const fullname = helmFullname(env.eks?.release ?? CHART_NAME);
  return {
    namespace: env.eks?.namespace ?? CHART_NAME,
    api: `${fullname}-api`,
    worker: `${fullname}-worker`,
    hpa: `keda-hpa-${fullname}-worker`,
  };
}

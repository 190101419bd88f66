// What every alarm family reads of one environment, worked out once: its thresholds, the CloudWatch
// dimensions of what it runs, and the PromQL label matchers of its series.
import {
  albReference,
  type Environment,
  type KubernetesNames,
  kubernetesNames,
  loadBalancerNames,
  queueNames,
} from "@content-engine/environments";
import type { AwsMetricDefinition } from "@content-engine/telemetry";
import type { MetricRef } from "./model.ts";
import { type ResolvedThresholds, resolveThresholds } from "./thresholds.ts";

export interface AlarmContext {
  env: Environment;
  thresholds: ResolvedThresholds;
  /** CloudWatch dimensions, by what they name. */
  dimensions: {
    queue: { QueueName: string };
    dlq: { QueueName: string };
    ecs: { ClusterName: string; ServiceName: string };
    /** The API's target group behind its load balancer (both `{{…}}` references, see names.ts). */
    alb: { LoadBalancer: string; TargetGroup: string };
    /** The load balancer alone (its own 5xx). */
    lb: { LoadBalancer: string };
    lambda: { FunctionName: string };
  };
  /**
   * Label matchers on the labels the collector adds at scrape time: `env` on every rule, and
   * `service` where one service's own series are meant; `pods` for the cluster's exporters.
   */
  selectors: { env: string; api: string; worker: string; pods: string };
  k8s: KubernetesNames;
}

export function alarmContext(env: Environment): AlarmContext {
  const queues = queueNames(env);
  const names = loadBalancerNames(env);
  const k8s = kubernetesNames(env);
  const alb = {
    LoadBalancer: albReference("alb", names.loadBalancer),
    TargetGroup: albReference("targetgroup", names.targetGroup),
  };
  const inEnv = `env="${env.name}"`;
  return {
    env,
    thresholds: resolveThresholds(env),
    dimensions: {
      queue: { QueueName: queues.jobs },
      dlq: { QueueName: queues.dlq },
      ecs: { ClusterName: env.api.cluster, ServiceName: env.api.service },
      alb,
      lb: { LoadBalancer: alb.LoadBalancer },
      lambda: { FunctionName: env.worker.functionName },
    },
    selectors: {
      env: inEnv,
      api: `${inEnv}, service="api"`,
      worker: `${inEnv}, service="worker"`,
      pods: `${inEnv}, namespace="${k8s.namespace}"`,
    },
    k8s,
  };
}

/** The `metrics` of an alarm on one metric (CloudWatch names it `m1`). */
export function oneMetric(
  metric: AwsMetricDefinition,
  dimensions: Record<string, string>,
  stat: string,
): Record<string, MetricRef> {
  return { m1: { metric, dimensions, stat } };
}

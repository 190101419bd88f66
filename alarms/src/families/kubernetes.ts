// Alerts only a cluster can raise: pods against their limits, restarts and OOM kills, replicas below
// their minimum, scrape targets that are down or gone. Prometheus rules, never CloudWatch alarms.
import { kubernetesMetrics } from "@content-engine/telemetry";
import type { AlarmContext } from "../context.ts";
import type { AlarmDefinition, PrometheusAlertDefinition } from "../model.ts";

/**
 * What only a cluster shows: pods against their limits, restarts and OOM kills, replicas below the
 * minimum, and scrape targets that vanished. Prometheus rules only (no CloudWatch metric exists).
 */
export function kubernetesAlerts({ env, selectors: s, k8s }: AlarmContext): AlarmDefinition[] {
  const k = kubernetesMetrics;
  const containers = `${s.pods}, container=~"api|worker"`;
  const rule = (
    id: string,
    summary: string,
    severity: AlarmDefinition["severity"],
    expr: string,
    forDuration: string,
  ): PrometheusAlertDefinition => ({
    kind: "prometheus",
    id,
    summary,
    runbook: id,
    severity,
    cloudwatch: false,
    prometheus: { expr, for: forDuration },
  });
  const limit = (resource: string) =>
    `max by (pod, container) (${k.containerResourceLimits.name}{${containers}, resource="${resource}"})`;
  const out: AlarmDefinition[] = [
    rule(
      "pod-cpu-near-limit",
      "A pod's container has used more than 90 % of its CPU limit for 15 minutes: it is being throttled.",
      "ticket",
      `sum by (pod, container) (rate(${k.containerCpu.name}{${containers}}[5m])) / ${limit("cpu")} > 0.9`,
      "15m",
    ),
    rule(
      "pod-memory-near-limit",
      "A pod's container uses more than 90 % of its memory limit: the next spike is an OOM kill.",
      "ticket",
      `max by (pod, container) (${k.containerMemory.name}{${containers}}) / ${limit("memory")} > 0.9`,
      "10m",
    ),
    rule(
      "pod-restarts",
      "A container restarted more than 3 times in 15 minutes: it is crash-looping.",
      "page",
      `sum by (pod, container) (increase(${k.containerRestarts.name}{${containers}}[15m])) > 3`,
      "0m",
    ),
    rule(
      "pod-oom-killed",
      "A container was OOM-killed and restarted in the last 15 minutes: raise its memory limit or find the leak.",
      "ticket",
      `max by (pod, container) (${k.containerLastTerminatedReason.name}{${containers}, reason="OOMKilled"}) > 0 and on (pod, container) sum by (pod, container) (increase(${k.containerRestarts.name}{${containers}}[15m])) > 0`,
      "0m",
    ),
    rule(
      "api-scrape-down",
      "Prometheus cannot scrape the API (a target answers no /metrics, or none is left): every API alert is blind.",
      "page",
      `up{${s.api}} == 0 or absent(up{${s.api}})`,
      "5m",
    ),
  ];
  const minWorkers = env.worker.keda?.minReplicas ?? 0;
  out.push(
    rule(
      "worker-scrape-down",
      minWorkers > 0
        ? "Prometheus cannot scrape the worker (a target answers no /metrics, or none is left): every worker alert is blind."
        : "Prometheus cannot scrape a running worker pod: the worker alerts are blind to it.",
      "page",
      // KEDA may scale the worker to zero: no target is then expected, only a failing one is wrong.
      minWorkers > 0 ? `up{${s.worker}} == 0 or absent(up{${s.worker}})` : `up{${s.worker}} == 0`,
      "5m",
    ),
  );
  if (minWorkers > 0) {
    const replicas = `${k.deploymentReplicasAvailable.name}{${s.pods}, deployment="${k8s.worker}"}`;
    out.push(
      rule(
        "worker-replicas-below-min",
        `Fewer than ${minWorkers} worker replicas are available.`,
        "page",
        `sum(${replicas}) < ${minWorkers} or absent(${replicas})`,
        "5m",
      ),
    );
  }
  return out;
}

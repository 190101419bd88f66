// The values a deploy-helm release gets: the chart's contract filled from the environment file, plus
// the environment's generated Prometheus alerting rules, written to a values file for helm.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Environment, environmentSource } from "@content-engine/environments";
import { parse, stringify } from "yaml";
import { DeliveryError } from "./errors.ts";

/**
 * The repository this library ships in, found from this module rather than the working directory:
 * src/helm-values.ts and every action's bundled dist/index.js both sit three folders below the root.
 */
const REPOSITORY_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DEFAULT_CHART = join(REPOSITORY_ROOT, "helm", "content-engine");

/** The generated Prometheus alerting rules of an environment (alarms/, npm run generate). */
export function generatedRulesFile(envName: string): string {
  return join(REPOSITORY_ROOT, "alarms", "generated", envName, "prometheus-rules.yaml");
}

export function eksOf(env: Environment) {
  if (!env.eks) throw new DeliveryError(`${environmentSource(env)} has no eks block: expected eks.cluster`);
  return env.eks;
}

/** The chart values for an environment (the chart's contract: image, api, worker.keda, config, serviceAccounts). */
export function helmValues(env: Environment, digest: string, processor: "local" | "bedrock" = "local") {
  const eks = eksOf(env);
  const keda = env.worker.keda;
  return {
    image: { repository: env.image.repository, digest, tag: env.image.tag },
    api: {
      replicaCount: env.api.desiredCount,
      resources: {
        requests: { cpu: `${env.api.cpu}m`, memory: `${env.api.memory}Mi` },
        // Limits equal the requests, as a Fargate task's size is both; a CPU request above the
        // chart's default limit (1) is refused by the API server.
        limits: { cpu: `${env.api.cpu}m`, memory: `${env.api.memory}Mi` },
      },
      autoscaling: {
        enabled: env.api.maxCount > env.api.minCount,
        minReplicas: Math.max(1, env.api.minCount),
        maxReplicas: env.api.maxCount,
        targetCPUUtilizationPercentage: env.alarms.thresholds.apiCpuPercent,
      },
    },
    worker: {
      keda: {
        enabled: Boolean(keda),
        queueLength: keda?.queueLength ?? 5,
        minReplicaCount: keda?.minReplicas ?? 0,
        maxReplicaCount: keda?.maxReplicas ?? 1,
      },
    },
    config: {
      region: env.region,
      bucket: env.bucket,
      queueUrl: env.queue.url,
      // The worker's dead-letter handler marks the jobs that land here failed.
      dlqUrl: env.queue.dlqUrl,
      processor,
    },
    serviceAccounts: {
      api: { roleArn: eks.apiRoleArn ?? "" },
      worker: { roleArn: eks.workerRoleArn ?? "" },
    },
  };
}

/**
 * The rule groups of a generated prometheus-rules.yaml (alarms/), for the chart's
 * monitoring.prometheusRule.additionalGroups; none when the default file does not exist.
 */
export function generatedRuleGroups(env: Environment, file?: string): unknown[] {
  const path = file ?? generatedRulesFile(env.name);
  if (!existsSync(path)) {
    if (file) throw new DeliveryError(`prometheus rules file ${file} does not exist`);
    return [];
  }
  const groups = (parse(readFileSync(path, "utf8")) as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups))
    throw new DeliveryError(`${path}: expected a 'groups' list of Prometheus rule groups`);
  return groups;
}

/** Everything the release gets: the environment's values plus the generated alerting rules. */
export function releaseValues(
  env: Environment,
  digest: string,
  processor: "local" | "bedrock" = "local",
  prometheusRules?: string,
) {
  return {
    ...helmValues(env, digest, processor),
    monitoring: {
      // The env label the chart's ServiceMonitors add to every series the dashboards read.
      environment: env.name,
      prometheusRule: { additionalGroups: generatedRuleGroups(env, prometheusRules) },
    },
  };
}

export function writeValues(values: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "helm-values-")), "values.yaml");
  writeFileSync(file, stringify(values));
  return file;
}

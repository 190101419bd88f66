// The values a deploy-helm release gets: the chart's contract filled from the environment file, plus
// the environment's generated Prometheus alerting rules, plus the user's values files and --set pairs
// (eks.valuesFiles / eks.set, the run's values-files / set), merged here into one values file for helm.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Environment, environmentSource, HELM_VALUE_KEY } from "@content-engine/environments";
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
      // A preview's keys live under its own prefix (previews/pr-<n>/), as its ECS task's and worker's do.
      ...(env.bucketPrefix ? { keyPrefix: env.bucketPrefix } : {}),
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

/** One source of values, named as a message should name it ("eks.set of environments/dev.yaml"). */
export interface ValuesLayer {
  source: string;
  values: Record<string, unknown>;
}

/** What a run adds over the environment file: `values-files` (paths) and `set` (`a.b=v` pairs). */
export interface RunValues {
  valuesFiles?: string[];
  set?: string[];
}

type ValueTree = Record<string, unknown>;
const isTree = (value: unknown): value is ValueTree =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A values file as one layer; a missing or non-mapping file is refused, naming where it was listed. */
export function valuesFileLayer(path: string, listedIn: string, root = "."): ValuesLayer {
  const file = resolve(root, path);
  if (!existsSync(file)) throw new DeliveryError(`${listedIn}: values file ${path} does not exist (${file})`);
  let values: unknown;
  try {
    values = parse(readFileSync(file, "utf8")) ?? {};
  } catch (error) {
    throw new DeliveryError(`${listedIn}: values file ${path} is not YAML: ${(error as Error).message}`);
  }
  if (!isTree(values)) throw new DeliveryError(`${listedIn}: values file ${path} is not a mapping of values`);
  return { source: `${listedIn} ${path}`, values };
}

/** Dotted paths to a tree, as helm --set reads them (no list indexes, no escapes). */
export function setLayer(pairs: Record<string, unknown>, source: string): ValuesLayer {
  const values: ValueTree = {};
  for (const [key, value] of Object.entries(pairs)) {
    if (!HELM_VALUE_KEY.test(key)) {
      throw new DeliveryError(
        `${source}: "${key}" is not a value path: expected dotted segments of letters, digits, _ and - (e.g. podAnnotations.team)`,
      );
    }
    const segments = key.split(".");
    let node = values;
    for (const segment of segments.slice(0, -1)) {
      if (!isTree(node[segment])) node[segment] = {};
      node = node[segment] as ValueTree;
    }
    node[segments.at(-1)!] = value;
  }
  return { source, values };
}

/**
 * The run's `set` lines (`a.b=v`) as pairs. Values are typed as helm --set types them: true/false are
 * booleans, integers numbers, everything else a string.
 */
export function parseSetLines(lines: readonly string[], source: string): Record<string, unknown> {
  const pairs: Record<string, unknown> = {};
  for (const line of lines.map((l) => l.trim()).filter(Boolean)) {
    const equals = line.indexOf("=");
    if (equals <= 0) throw new DeliveryError(`${source}: "${line}" is not a key=value pair`);
    const raw = line.slice(equals + 1);
    pairs[line.slice(0, equals).trim()] =
      raw === "true" ? true : raw === "false" ? false : /^-?(0|[1-9]\d{0,14})$/.test(raw) ? Number(raw) : raw;
  }
  return pairs;
}

/** The leaf paths of a tree (a list is one leaf, as helm replaces lists whole). */
export function leafPaths(tree: ValueTree, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    isTree(value) && Object.keys(value).length ? leafPaths(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

/** Helm's merge: mappings merge key by key, anything else (lists included) replaces. */
export function mergeValues(layers: readonly ValueTree[]): ValueTree {
  const merged: ValueTree = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      merged[key] =
        isTree(value) && isTree(merged[key]) ? mergeValues([merged[key] as ValueTree, value]) : value;
    }
  }
  return merged;
}

/**
 * Everything the release gets, lowest precedence first: the chart's values.yaml (helm's own) <
 * eks.valuesFiles < eks.set < the run's values-files < the run's set < what deploy-helm computes from
 * the environment file (digest, sizes, queue, roles, alert rules). The computed values are not
 * overridable: a layer that sets one of them (image.digest, api.replicaCount, …) is refused, so the
 * file stays the one place they change.
 */
export function layeredValues(
  env: Environment,
  computed: ValueTree,
  run: RunValues = {},
  repositoryRoot = process.env.GITHUB_WORKSPACE ?? process.cwd(),
): { values: ValueTree; layers: ValuesLayer[] } {
  const eks = eksOf(env);
  const file = environmentSource(env);
  const layers = [
    ...eks.valuesFiles.map((path) => valuesFileLayer(path, `eks.valuesFiles of ${file}`, repositoryRoot)),
    ...(Object.keys(eks.set).length ? [setLayer(eks.set, `eks.set of ${file}`)] : []),
    ...(run.valuesFiles ?? []).map((path) => valuesFileLayer(path, "values-files", repositoryRoot)),
    ...(run.set?.length ? [setLayer(parseSetLines(run.set, "set"), "set")] : []),
  ];
  const owned = leafPaths(computed);
  for (const layer of layers) {
    for (const path of leafPaths(layer.values)) {
      const clash = owned.find(
        (own) => own === path || own.startsWith(`${path}.`) || path.startsWith(`${own}.`),
      );
      if (clash) {
        throw new DeliveryError(
          `${layer.source} sets ${path}, which deploy-helm computes from ${file} (${clash}): change the environment file (or the digest input) instead`,
        );
      }
    }
  }
  return { values: mergeValues([...layers.map((layer) => layer.values), computed]), layers };
}

/** The user's layers as plan rows: each value path and the layer that wins it. */
export function userValuePaths(
  layers: readonly ValuesLayer[],
): { path: string; value: unknown; source: string }[] {
  const rows = new Map<string, { path: string; value: unknown; source: string }>();
  for (const layer of layers) {
    for (const path of leafPaths(layer.values)) {
      rows.set(path, { path, value: valueAt(layer.values, path), source: layer.source });
    }
  }
  return [...rows.values()];
}

/** The value at a dotted path of a tree; undefined where the path does not exist. */
export function valueAt(tree: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (isTree(node) ? node[key] : undefined), tree);
}

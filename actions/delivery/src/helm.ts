// deploy-helm: values from the environment file, `helm upgrade --install` with rollback on failure,
// recovery of releases stuck in pending-* by a cancelled run, and `helm template` as the plan.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { DIGEST_PATTERN, type Environment } from "@content-engine/environments";
import { createTwoFilesPatch } from "diff";
import { parse, stringify } from "yaml";
import type { AwsOptions } from "./aws.ts";
import { type CommandRunner, runChecked, runCommand } from "./command.ts";
import { writeKubeconfig } from "./eks.ts";
import { DeliveryError } from "./errors.ts";
import { kubeAccessFromConfig, recentEvents } from "./kube.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

export interface DeployHelmOptions {
  env: Environment;
  digest?: string;
  /** Chart directory; default helm/content-engine. */
  chart?: string;
  timeoutSeconds?: number;
  /** Path of the helm binary; default `helm` on PATH. */
  helm?: string;
  /** Existing kubeconfig; default: generated from DescribeCluster + an STS token. */
  kubeconfig?: string;
  /** Plan only: render without contacting a cluster (no diff against the live release). */
  offline?: boolean;
  processor?: "local" | "bedrock";
  /** Kubernetes version offline renders assume (helm's own default is far older than EKS). */
  kubeVersion?: string;
  /**
   * Generated Prometheus alerting rules to ship in the chart's PrometheusRule; default
   * alarms/generated/<env>/prometheus-rules.yaml when that file exists.
   */
  prometheusRules?: string;
  aws?: Partial<AwsOptions>;
  reporter?: Reporter;
  run?: CommandRunner;
}

export const DEFAULT_CHART = "helm/content-engine";
export const DEFAULT_KUBE_VERSION = "1.31.0";

function eksOf(env: Environment) {
  if (!env.eks)
    throw new DeliveryError(`environments/${env.name}.yaml has no eks block: expected eks.cluster`);
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
        limits: { memory: `${env.api.memory}Mi` },
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
    config: { region: env.region, bucket: env.bucket, queueUrl: env.queue.url, processor },
    serviceAccounts: {
      api: { roleArn: eks.apiRoleArn ?? "" },
      worker: { roleArn: eks.workerRoleArn ?? "" },
    },
  };
}

export interface HelmUpgradeArgs {
  release: string;
  chart: string;
  namespace: string;
  valuesFile: string;
  timeoutSeconds: number;
  kubeconfig?: string;
  helmMajor: number;
}

/** The exact argv of the upgrade: Helm 4 rolls back with --rollback-on-failure, Helm 3 with --atomic. */
export function helmUpgradeArgs(options: HelmUpgradeArgs): string[] {
  return [
    "upgrade",
    "--install",
    options.release,
    options.chart,
    "--namespace",
    options.namespace,
    "--create-namespace",
    "--values",
    options.valuesFile,
    options.helmMajor >= 4 ? "--rollback-on-failure" : "--atomic",
    "--wait",
    "--timeout",
    `${options.timeoutSeconds}s`,
    "--history-max",
    "20",
    ...(options.kubeconfig ? ["--kubeconfig", options.kubeconfig] : []),
  ];
}

export async function helmMajorVersion(run: CommandRunner, helm: string): Promise<number> {
  const { stdout } = await runChecked(run, helm, ["version", "--short"]);
  const major = Number(stdout.trim().match(/^v(\d+)\./)?.[1]);
  if (!major) throw new Error(`cannot read the helm version from "${stdout.trim()}"`);
  return major;
}

interface ReleaseStatus {
  status: string;
  revision: number;
}

async function releaseStatus(
  run: CommandRunner,
  helm: string,
  base: string[],
): Promise<ReleaseStatus | undefined> {
  const result = await run(helm, ["status", ...base, "--output", "json"]);
  if (result.code !== 0) {
    if (/not found/i.test(result.stderr)) return undefined;
    throw new Error(`helm status failed: ${result.stderr.trim()}`);
  }
  const parsed = JSON.parse(result.stdout) as { version: number; info: { status: string } };
  return { status: parsed.info.status, revision: parsed.version };
}

/**
 * A cancelled run can leave the release in pending-install/-upgrade/-rollback, which blocks every later
 * upgrade ("another operation is in progress"). Roll back to the last good revision, or uninstall a
 * release that never installed. Returns what it did, for the log.
 */
export async function recoverPendingRelease(
  run: CommandRunner,
  helm: string,
  release: string,
  namespace: string,
  kubeconfig?: string,
): Promise<string | undefined> {
  const base = [release, "--namespace", namespace, ...(kubeconfig ? ["--kubeconfig", kubeconfig] : [])];
  const current = await releaseStatus(run, helm, base);
  if (!current?.status.startsWith("pending-")) return undefined;
  const history = JSON.parse(
    (await runChecked(run, helm, ["history", ...base, "--output", "json"])).stdout,
  ) as {
    revision: number;
    status: string;
  }[];
  const good = history
    .filter((entry) => entry.status === "deployed" || entry.status === "superseded")
    .sort((a, b) => b.revision - a.revision)[0];
  if (current.status === "pending-install" || !good) {
    await runChecked(run, helm, ["uninstall", ...base, "--wait"]);
    return `release ${release} was stuck in ${current.status} at revision ${current.revision}: uninstalled it`;
  }
  await runChecked(run, helm, ["rollback", ...base, String(good.revision), "--wait"]);
  return `release ${release} was stuck in ${current.status} at revision ${current.revision}: rolled back to revision ${good.revision}`;
}

/**
 * The rule groups of a generated prometheus-rules.yaml (alarms/), for the chart's
 * monitoring.prometheusRule.additionalGroups; none when the default file does not exist.
 */
export function generatedRuleGroups(env: Environment, file?: string): unknown[] {
  const path = file ?? join("alarms", "generated", env.name, "prometheus-rules.yaml");
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

function writeValues(values: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "helm-values-")), "values.yaml");
  writeFileSync(file, stringify(values));
  return file;
}

function prepare(options: DeployHelmOptions) {
  const { env } = options;
  const digest = options.digest ?? env.image.digest;
  if (!DIGEST_PATTERN.test(digest)) {
    throw new DeliveryError(`digest "${digest}" is not an image digest: expected sha256:<64 hex characters>`);
  }
  const eks = eksOf(env);
  const values = releaseValues(env, digest, options.processor, options.prometheusRules);
  return {
    digest,
    eks,
    values,
    helm: options.helm ?? "helm",
    run: options.run ?? runCommand,
    chart: options.chart ?? DEFAULT_CHART,
    reporter: options.reporter ?? consoleReporter,
    aws: { region: env.region, ...options.aws } as AwsOptions,
  };
}

/** Dry-run: lint and render the chart with the environment's values; diff against the live release when online. */
export async function planHelm(options: DeployHelmOptions): Promise<Plan> {
  const { eks, values, helm, run, chart, aws, digest } = prepare(options);
  const valuesFile = writeValues(values);
  const kubeVersion = ["--kube-version", options.kubeVersion ?? DEFAULT_KUBE_VERSION];
  await runChecked(run, helm, ["lint", chart, "--values", valuesFile, ...kubeVersion]);
  const rendered = (
    await runChecked(run, helm, [
      "template",
      eks.release,
      chart,
      "--namespace",
      eks.namespace,
      "--values",
      valuesFile,
      ...kubeVersion,
    ])
  ).stdout;
  let live = "";
  if (!options.offline) {
    const kubeconfig =
      options.kubeconfig ?? (await writeKubeconfig(aws, eks.cluster, eks.namespace, options.env.name)).path;
    const manifest = await run(helm, [
      "get",
      "manifest",
      eks.release,
      "--namespace",
      eks.namespace,
      "--kubeconfig",
      kubeconfig,
    ]);
    if (manifest.code === 0) live = manifest.stdout;
  }
  const patch = createTwoFilesPatch("live", "rendered", live, rendered, "", "", { context: 3 });
  return {
    operation: "deploy-helm",
    target: `${eks.cluster}/${eks.namespace}/${eks.release}`,
    noop: live === rendered,
    changes: [{ field: "image.digest", from: undefined, to: digest }],
    steps: [
      `helm ${helmUpgradeArgs({ release: eks.release, chart, namespace: eks.namespace, valuesFile: "<values>", timeoutSeconds: options.timeoutSeconds ?? 600, helmMajor: 3 }).join(" ")}`,
    ],
    details: [options.offline ? rendered : patch],
  };
}

async function namespaceEvents(kubeconfig: string, namespace: string): Promise<string[]> {
  try {
    const access = kubeAccessFromConfig(kubeconfig);
    if (!access) return ["events: the kubeconfig has no bearer token to read them with"];
    const events = await recentEvents(access, namespace);
    return events.length ? events.map((line) => `event: ${line}`) : [`events: none in ${namespace}`];
  } catch (error) {
    return [`events: could not read them (${(error as Error).message})`];
  }
}

/** helm upgrade --install with rollback on failure. Outcome: succeeded | unchanged | rolled_back | failed. */
export async function deployHelm(options: DeployHelmOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const { eks, values, helm, run, chart, aws, reporter, digest } = prepare(options);
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const kubeconfig =
    options.kubeconfig ?? (await writeKubeconfig(aws, eks.cluster, eks.namespace, options.env.name)).path;
  const base = [eks.release, "--namespace", eks.namespace, "--kubeconfig", kubeconfig];
  const helmMajor = await helmMajorVersion(run, helm);

  const recovered = await recoverPendingRelease(run, helm, eks.release, eks.namespace, kubeconfig);
  if (recovered) reporter.warn(recovered);
  const before = await releaseStatus(run, helm, base);
  if (before?.status === "deployed") {
    const live = await run(helm, ["get", "values", ...base, "--output", "json"]);
    // Compare as data: helm prints keys sorted, we build them in chart order.
    if (live.code === 0 && isDeepStrictEqual(JSON.parse(live.stdout), JSON.parse(JSON.stringify(values)))) {
      return finish(watch, {
        operation: "deploy-helm",
        target,
        status: "unchanged",
        reason: `revision ${before.revision} already runs these values`,
        revisions: { previous: String(before.revision), current: String(before.revision) },
        outputs: { revision: String(before.revision), digest },
      });
    }
  }
  const timeoutSeconds = options.timeoutSeconds ?? 600;
  const args = helmUpgradeArgs({
    release: eks.release,
    chart,
    namespace: eks.namespace,
    valuesFile: writeValues(values),
    timeoutSeconds,
    kubeconfig,
    helmMajor,
  });
  reporter.info(`helm ${args.join(" ")}`);
  const upgrade = await watch.wait(run(helm, args, { onLine: (line) => reporter.info(line) }));
  const after = await releaseStatus(run, helm, base);
  const revisions = {
    previous: before ? String(before.revision) : undefined,
    current: after ? String(after.revision) : undefined,
  };
  if (upgrade.code === 0) {
    return finish(watch, {
      operation: "deploy-helm",
      target,
      status: "succeeded",
      reason: `release ${eks.release} revision ${after?.revision} runs ${digest}`,
      revisions: { ...revisions, attempted: revisions.current },
      outputs: { revision: revisions.current ?? "", digest },
    });
  }
  const diagnostics = [
    `helm upgrade: ${(upgrade.stderr || upgrade.stdout).trim().split("\n").slice(-5).join(" | ")}`,
  ];
  const status = await run(helm, ["status", ...base, "--show-resources"]);
  diagnostics.push(...status.stdout.trim().split("\n").slice(0, 40));
  const history = await run(helm, ["history", ...base, "--max", "5"]);
  diagnostics.push(...history.stdout.trim().split("\n"));
  diagnostics.push(...(await namespaceEvents(kubeconfig, eks.namespace)));
  const rolledBack = Boolean(before) && after?.status === "deployed";
  return finish(watch, {
    operation: "deploy-helm",
    target,
    status: rolledBack
      ? "rolled_back"
      : /timed out|context deadline/i.test(upgrade.stderr)
        ? "timed_out"
        : "failed",
    reason: rolledBack
      ? `upgrade failed; helm rolled back and revision ${after?.revision} (the previous values) serves`
      : `upgrade failed: ${upgrade.stderr.trim().split("\n").pop() ?? `exit ${upgrade.code}`}`,
    revisions,
    diagnostics,
    outputs: { revision: revisions.current ?? "", digest },
  });
}

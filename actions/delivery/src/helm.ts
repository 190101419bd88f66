// deploy-helm: values from the environment file, `helm upgrade --install` with rollback on failure,
// recovery of releases stuck in pending-* by a cancelled run. The plan is `helm upgrade --dry-run=server`
// against the cluster plus a server-side dry-run apply of every object (or `helm template` offline).
import { isDeepStrictEqual } from "node:util";
import { DIGEST_PATTERN, type Environment, environmentSource } from "@content-engine/environments";
import { createTwoFilesPatch } from "diff";
import { parse } from "yaml";
import type { AwsOptions } from "./aws.ts";
import { type CommandRunner, runChecked, runCommand } from "./command.ts";
import { DeliveryError } from "./errors.ts";
import { deployGated } from "./gates.ts";
import { type ResolvedChart, resolveChart } from "./helm-chart.ts";
import { HELM_TIMEOUT_SECONDS, recoverPendingRelease, releaseChart, releaseStatus } from "./helm-release.ts";
import {
  eksOf,
  layeredValues,
  type RunValues,
  releaseValues,
  userValuePaths,
  type ValuesLayer,
  valueAt,
  writeValues,
} from "./helm-values.ts";
import { connectCluster } from "./kube-connection.ts";
import { rolloutDiagnostics } from "./kube-diagnostics.ts";
import { admitOnServer } from "./kube-dry-run.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import type { Clock } from "./wait.ts";

export { HELM_TIMEOUT_SECONDS };

export interface DeployHelmOptions {
  env: Environment;
  digest?: string;
  /** Chart directory; default eks.chart of the environment file (see helm-chart.ts), else this repository's helm/content-engine. */
  chart?: string;
  timeoutSeconds?: number;
  /** Path of the helm binary; default `helm` on PATH. */
  helm?: string;
  /**
   * Existing kubeconfig (any cluster: a local one from `npm run cluster`, a bastion's); default:
   * generated from DescribeCluster + an STS token.
   */
  kubeconfig?: string;
  /** Plan only: render without contacting a cluster (no diff against the live release). */
  offline?: boolean;
  processor?: "local" | "bedrock";
  /**
   * The run's values over the environment file's (eks.valuesFiles, eks.set): `valuesFiles` paths and
   * `set` lines (`a.b=v`). Precedence: see layeredValues in helm-values.ts.
   */
  values?: RunValues;
  /** Where eks.valuesFiles and values.valuesFiles are relative to; default GITHUB_WORKSPACE, else the working directory. */
  repositoryRoot?: string;
  /** Kubernetes version offline renders assume (helm's own default is far older than EKS). */
  kubeVersion?: string;
  /**
   * Generated Prometheus alerting rules to ship in the chart's PrometheusRule; default
   * this repository's alarms/generated/<env>/prometheus-rules.yaml when that file exists.
   */
  prometheusRules?: string;
  aws?: Partial<AwsOptions>;
  /** Why deploying inside one of the environment's freeze windows is justified; recorded in the outcome. */
  breakGlass?: string;
  /** Registry endpoint override for reading the image's signature (see registry.ts). */
  registryEndpoint?: string;
  reporter?: Reporter;
  /** Time source of the freeze gate. */
  clock?: Clock;
  run?: CommandRunner;
}

export const DEFAULT_KUBE_VERSION = "1.31.0";

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

/** The options with their defaults resolved once; also what connectCluster takes (env, kubeconfig, aws, reporter). */
function prepare(options: DeployHelmOptions) {
  const { env } = options;
  const digest = options.digest ?? env.image.digest;
  if (!DIGEST_PATTERN.test(digest)) {
    throw new DeliveryError(`digest "${digest}" is not an image digest: expected sha256:<64 hex characters>`);
  }
  const eks = eksOf(env);
  const { values, layers } = layeredValues(
    env,
    releaseValues(env, digest, options.processor, options.prometheusRules),
    options.values,
    options.repositoryRoot,
  );
  return {
    env,
    kubeconfig: options.kubeconfig,
    digest,
    eks,
    values,
    layers,
    helm: options.helm ?? "helm",
    run: options.run ?? runCommand,
    reporter: options.reporter ?? consoleReporter,
    aws: { region: env.region, ...options.aws } as AwsOptions,
  };
}

/** How every helm command after the connection names the release and the cluster. */
function releaseArgs(eks: { release: string; namespace: string }, kubeconfig: string): string[] {
  return [eks.release, "--namespace", eks.namespace, "--kubeconfig", kubeconfig];
}

/** The live release's manifest; "" when the release does not exist yet. */
async function liveManifest(run: CommandRunner, helm: string, base: string[]): Promise<string> {
  const manifest = await run(helm, ["get", "manifest", ...base]);
  // helm get prints the stored manifest plus a newline; normalise both sides of the diff alike.
  if (manifest.code === 0) return `${manifest.stdout.trimEnd()}\n`;
  if (/release: not found/i.test(manifest.stderr)) return "";
  throw new DeliveryError(`helm get manifest failed: ${manifest.stderr.trim().split("\n").pop()}`);
}

/**
 * Dry-run. Offline: lint and `helm template`. Online: `helm upgrade --dry-run=server` renders with the
 * cluster's capabilities, every object goes through a server-side dry-run apply (schemas, CRDs,
 * admission), and the result is diffed against the live release. An unreachable cluster fails.
 */
export async function planHelm(options: DeployHelmOptions): Promise<Plan> {
  const prepared = prepare(options);
  const { eks, values, layers, helm, run, digest } = prepared;
  const resolved = await resolveChart({ ...options, helm, run });
  const chart = resolved.path;
  const valuesFile = writeValues(values);
  // The steps show the flags of the helm that would run them (--atomic or --rollback-on-failure).
  const helmMajor = await helmMajorVersion(run, helm);
  const kubeVersion = ["--kube-version", options.kubeVersion ?? DEFAULT_KUBE_VERSION];
  await runChecked(run, helm, ["lint", chart, "--values", valuesFile, ...kubeVersion]);
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const steps = [
    `helm ${helmUpgradeArgs({ release: eks.release, chart, namespace: eks.namespace, valuesFile: "<values>", timeoutSeconds: options.timeoutSeconds ?? HELM_TIMEOUT_SECONDS, helmMajor }).join(" ")}`,
  ];
  const precedence = valuesPrecedence(layers, prepared.env);
  const release = [eks.release, chart, "--namespace", eks.namespace, "--values", valuesFile];
  if (options.offline) {
    const rendered = await runChecked(run, helm, ["template", ...release, ...kubeVersion]);
    const changes = [
      { field: "image.digest", from: undefined, to: digest },
      ...chartChange(resolved, undefined),
      ...userChanges(layers, {}),
    ];
    return {
      operation: "deploy-helm",
      target,
      noop: false,
      changes,
      steps,
      details: [precedence, rendered.stdout],
    };
  }
  const { kubeconfig, access } = await connectCluster(prepared);
  const base = releaseArgs(eks, kubeconfig);
  const live = await liveManifest(run, helm, base);
  const liveValues = live ? await releaseValuesJson(run, helm, base) : {};
  const dryRun = await run(helm, [
    "upgrade",
    "--install",
    ...release,
    "--dry-run=server",
    "--output",
    "json",
    "--kubeconfig",
    kubeconfig,
  ]);
  if (dryRun.code !== 0)
    throw new DeliveryError(
      `helm upgrade --dry-run=server failed: ${dryRun.stderr.trim().split("\n").pop()}`,
    );
  const rendered = `${((JSON.parse(dryRun.stdout) as { manifest?: string }).manifest ?? "").trimEnd()}\n`;
  const admission = access
    ? await admitOnServer(access, rendered, eks.namespace)
    : "server-side dry-run skipped: the kubeconfig has no bearer token to send the objects with";
  const patch = createTwoFilesPatch("live", "planned", live, rendered, "", "", { context: 3 });
  const previous = live.match(/image: "?[^"\s]+@(sha256:[a-f0-9]{64})/)?.[1];
  return {
    operation: "deploy-helm",
    target,
    noop: live === rendered,
    changes: [
      { field: "image.digest", from: previous, to: digest },
      ...chartChange(resolved, live ? await releaseChart(run, helm, base) : undefined),
      ...userChanges(layers, liveValues).filter((change) => change.from !== change.to),
    ],
    steps,
    details: [precedence, admission, patch],
  };
}

/** A plan row for a chart from a registry: what is pulled and the digest it was verified by. */
function chartChange(chart: ResolvedChart, live: string | undefined) {
  return chart.digest ? [{ field: "chart", from: live, to: `${chart.source} (${chart.digest})` }] : [];
}

/** The user-supplied values of the live release (`helm get values`): what deploy-helm gave it. */
async function releaseValuesJson(run: CommandRunner, helm: string, base: string[]) {
  const live = await runChecked(run, helm, ["get", "values", ...base, "--output", "json"]);
  return (JSON.parse(live.stdout) ?? {}) as Record<string, unknown>;
}

/** One plan row per value a values file or a set pair gives, from the live release's value. */
function userChanges(layers: readonly ValuesLayer[], live: Record<string, unknown>) {
  const show = (value: unknown) =>
    value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);
  return userValuePaths(layers).map((row) => ({
    field: `${row.path} (${row.source})`,
    from: show(valueAt(live, row.path)),
    to: show(row.value),
  }));
}

/** The plan's account of where the values come from, lowest precedence first. */
function valuesPrecedence(layers: readonly ValuesLayer[], env: Environment): string {
  return [
    "values, lowest precedence first:",
    "1. the chart's values.yaml",
    ...layers.map((layer, i) => `${i + 2}. ${layer.source}`),
    `${layers.length + 2}. deploy-helm's values from ${environmentSource(env)} (image, api, worker.keda, config, serviceAccounts, monitoring): not overridable`,
  ].join("\n");
}

/** name-version of a chart, as helm status names the release's chart (a new chart version is a change). */
async function chartName(run: CommandRunner, helm: string, chart: string): Promise<string> {
  const shown = parse((await runChecked(run, helm, ["show", "chart", chart])).stdout) as {
    name: string;
    version: string;
  };
  return `${shown.name}-${shown.version}`;
}

/** helm upgrade --install with rollback on failure. Outcome: succeeded | unchanged | rolled_back | failed. */
export async function deployHelm(options: DeployHelmOptions): Promise<Outcome> {
  const prepared = prepare(options);
  const { eks, reporter } = prepared;
  return deployGated(
    {
      ...options,
      reporter,
      operation: "deploy-helm",
      target: `${eks.cluster}/${eks.namespace}/${eks.release}`,
      // One image runs the API and the consumer (the worker's code is in it).
      artifacts: { image: prepared.digest },
    },
    () => upgradeRelease(options, prepared),
  );
}

async function upgradeRelease(
  options: DeployHelmOptions,
  prepared: ReturnType<typeof prepare>,
): Promise<Outcome> {
  const watch = new Stopwatch();
  const { eks, values, helm, run, reporter, digest } = prepared;
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const { kubeconfig, access } = await connectCluster(prepared);
  const resolved = await resolveChart({ ...options, helm, run });
  const chart = resolved.path;
  if (resolved.digest) reporter.info(`chart ${resolved.source}: pulled and verified ${resolved.digest}`);
  const base = releaseArgs(eks, kubeconfig);
  const helmMajor = await helmMajorVersion(run, helm);

  const recovered = await recoverPendingRelease(run, helm, eks.release, eks.namespace, kubeconfig);
  if (recovered) reporter.warn(recovered);
  const before = await releaseStatus(run, helm, base);
  if (
    before?.status === "deployed" &&
    (await releaseChart(run, helm, base)) === (await chartName(run, helm, chart))
  ) {
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
  const timeoutSeconds = options.timeoutSeconds ?? HELM_TIMEOUT_SECONDS;
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
  const upgradeStarted = new Date();
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
  const failing = await rolloutDiagnostics(access, eks.namespace, upgradeStarted);
  const diagnostics = [
    `helm upgrade: ${(upgrade.stderr || upgrade.stdout).trim().split("\n").slice(-5).join(" | ")}`,
    ...failing.lines,
  ];
  const status = await run(helm, ["status", ...base, "--show-resources"]);
  diagnostics.push(...status.stdout.trim().split("\n").slice(0, 40));
  const history = await run(helm, ["history", ...base, "--max", "5"]);
  diagnostics.push(...history.stdout.trim().split("\n"));
  const rolledBack = Boolean(before) && after?.status === "deployed";
  const culprits = failing.pods.length
    ? `; failing pods: ${failing.pods.map((pod) => pod.name).join(", ")}`
    : "";
  return finish(watch, {
    operation: "deploy-helm",
    target,
    status: rolledBack
      ? "rolled_back"
      : /timed out|context deadline/i.test(upgrade.stderr)
        ? "timed_out"
        : "failed",
    reason: rolledBack
      ? `upgrade failed; helm rolled back and revision ${after?.revision} (the previous values) serves${culprits}`
      : `upgrade failed: ${upgrade.stderr.trim().split("\n").pop() ?? `exit ${upgrade.code}`}${culprits}`,
    revisions,
    diagnostics,
    outputs: { revision: revisions.current ?? "", digest },
  });
}

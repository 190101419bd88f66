// deploy-helm: values from the environment file, `helm upgrade --install` with rollback on failure,
// recovery of releases stuck in pending-* by a cancelled run. The plan is `helm upgrade --dry-run=server`
// against the cluster plus a server-side dry-run apply of every object (or `helm template` offline).
import { isDeepStrictEqual } from "node:util";
import { DIGEST_PATTERN, type Environment } from "@content-engine/environments";
import { createTwoFilesPatch } from "diff";
import { parseAllDocuments } from "yaml";
import type { AwsOptions } from "./aws.ts";
import { type CommandRunner, runChecked, runCommand } from "./command.ts";
import { writeKubeconfig } from "./eks.ts";
import { DeliveryError } from "./errors.ts";
import { freezeGated } from "./freeze.ts";
import { recoverPendingRelease, releaseStatus } from "./helm-release.ts";
import { DEFAULT_CHART, eksOf, releaseValues, writeValues } from "./helm-values.ts";
import {
  dryRunApply,
  type FailingPod,
  failingPods,
  getJson,
  type KubeAccess,
  KubeApiError,
  type KubeObject,
  kubeAccessFromConfig,
  recentEvents,
  serverVersion,
} from "./kube.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { type Clock, systemClock } from "./wait.ts";

export interface DeployHelmOptions {
  env: Environment;
  digest?: string;
  /** Chart directory; default this repository's helm/content-engine. */
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

function clusterHint(envName: string, kubeconfig?: string) {
  return kubeconfig ? `the kubeconfig ${kubeconfig}` : `eks.cluster in environments/${envName}.yaml`;
}

/**
 * Fails with one clear sentence when the API server does not answer or refuses the credentials,
 * before helm would print a stack of retries (or, for `helm get`, nothing at all).
 */
async function reachCluster(kubeconfig: string, given: string | undefined, envName: string) {
  const access = kubeAccessFromConfig(kubeconfig);
  if (!access) return { access: undefined, version: undefined };
  try {
    return { access, version: await serverVersion(access) };
  } catch (error) {
    const reason =
      error instanceof KubeApiError && (error.status === 401 || error.status === 403)
        ? `it refused the credentials (${error.status})`
        : (error as Error).message;
    throw new DeliveryError(
      `cannot reach the Kubernetes API server ${access.server}: ${reason} (check ${clusterHint(envName, given)})`,
    );
  }
}

/** The live release's manifest; "" when the release does not exist yet. */
async function liveManifest(run: CommandRunner, helm: string, base: string[]): Promise<string> {
  const manifest = await run(helm, ["get", "manifest", ...base]);
  // helm get prints the stored manifest plus a newline; normalise both sides of the diff alike.
  if (manifest.code === 0) return `${manifest.stdout.trimEnd()}\n`;
  if (/release: not found/i.test(manifest.stderr)) return "";
  throw new DeliveryError(`helm get manifest failed: ${manifest.stderr.trim().split("\n").pop()}`);
}

/** Server-side admission of every rendered object; a refused object fails the plan. */
async function admitOnServer(access: KubeAccess, manifest: string, namespace: string): Promise<string> {
  const objects = parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((doc): doc is KubeObject => Boolean(doc?.kind));
  try {
    await getJson(access, `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404)
      return `server-side dry-run skipped: namespace ${namespace} does not exist yet (the first install creates it)`;
    throw error;
  }
  const refused = await dryRunApply(access, objects, namespace);
  if (refused.length)
    throw new DeliveryError(
      `the API server refused ${refused.length} of ${objects.length} objects (server-side dry-run):\n${refused.map((line) => `- ${line}`).join("\n")}`,
    );
  const kinds = [...new Set(objects.map((o) => o.kind))].sort().join(", ");
  return `server-side dry-run: the API server accepted all ${objects.length} objects (${kinds})`;
}

/**
 * Dry-run. Offline: lint and `helm template`. Online: `helm upgrade --dry-run=server` renders with the
 * cluster's capabilities, every object goes through a server-side dry-run apply (schemas, CRDs,
 * admission), and the result is diffed against the live release. An unreachable cluster fails.
 */
export async function planHelm(options: DeployHelmOptions): Promise<Plan> {
  const { eks, values, helm, run, chart, aws, reporter, digest } = prepare(options);
  const valuesFile = writeValues(values);
  const kubeVersion = ["--kube-version", options.kubeVersion ?? DEFAULT_KUBE_VERSION];
  await runChecked(run, helm, ["lint", chart, "--values", valuesFile, ...kubeVersion]);
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const steps = [
    `helm ${helmUpgradeArgs({ release: eks.release, chart, namespace: eks.namespace, valuesFile: "<values>", timeoutSeconds: options.timeoutSeconds ?? 600, helmMajor: 3 }).join(" ")}`,
  ];
  const changes = [{ field: "image.digest", from: undefined, to: digest }];
  const release = [eks.release, chart, "--namespace", eks.namespace, "--values", valuesFile];
  if (options.offline) {
    const rendered = await runChecked(run, helm, ["template", ...release, ...kubeVersion]);
    return { operation: "deploy-helm", target, noop: false, changes, steps, details: [rendered.stdout] };
  }
  const kubeconfig =
    options.kubeconfig ??
    (await writeKubeconfig(aws, eks.cluster, eks.namespace, options.env.name, reporter)).path;
  const { access } = await reachCluster(kubeconfig, options.kubeconfig, options.env.name);
  const base = [eks.release, "--namespace", eks.namespace, "--kubeconfig", kubeconfig];
  const live = await liveManifest(run, helm, base);
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
    changes: [{ field: "image.digest", from: previous, to: digest }],
    steps,
    details: [admission, patch],
  };
}

/**
 * Why the rollout failed, read from the API: the pods that reported Warning events since the upgrade
 * began, with their events (they outlive pods that --atomic already deleted); else the namespace's
 * newest events.
 */
async function rolloutDiagnostics(
  access: KubeAccess | undefined,
  namespace: string,
  since: Date,
): Promise<{ pods: FailingPod[]; lines: string[] }> {
  if (!access) return { pods: [], lines: ["events: the kubeconfig has no bearer token to read them with"] };
  try {
    const pods = await failingPods(access, namespace, since);
    if (pods.length)
      return {
        pods,
        lines: pods.flatMap((pod) => [
          `failing pod ${pod.name} (${pod.state}):`,
          ...pod.events.map((line) => `  event: ${line}`),
        ]),
      };
    const events = await recentEvents(access, namespace);
    return {
      pods,
      lines: events.length ? events.map((line) => `event: ${line}`) : [`events: none in ${namespace}`],
    };
  } catch (error) {
    return { pods: [], lines: [`events: could not read them (${(error as Error).message})`] };
  }
}

/** helm upgrade --install with rollback on failure. Outcome: succeeded | unchanged | rolled_back | failed. */
export async function deployHelm(options: DeployHelmOptions): Promise<Outcome> {
  const prepared = prepare(options);
  const { eks, reporter } = prepared;
  return freezeGated(
    {
      operation: "deploy-helm",
      target: `${eks.cluster}/${eks.namespace}/${eks.release}`,
      env: options.env,
      now: new Date((options.clock ?? systemClock).now()),
      breakGlass: options.breakGlass,
      reporter,
    },
    () => upgradeRelease(options, prepared),
  );
}

async function upgradeRelease(
  options: DeployHelmOptions,
  prepared: ReturnType<typeof prepare>,
): Promise<Outcome> {
  const watch = new Stopwatch();
  const { eks, values, helm, run, chart, aws, reporter, digest } = prepared;
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const kubeconfig =
    options.kubeconfig ??
    (await writeKubeconfig(aws, eks.cluster, eks.namespace, options.env.name, reporter)).path;
  const { access } = await reachCluster(kubeconfig, options.kubeconfig, options.env.name);
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

// The state of a helm release: its status and revision, the recovery of a release a cancelled run left
// in pending-install/-upgrade/-rollback, and the user's `helm rollback` / `helm uninstall` of an
// environment's release (content-engine helm rollback|uninstall), each planned before it runs.
import { type Environment, environmentSource } from "@content-engine/environments";
import { parseAllDocuments } from "yaml";
import type { AwsOptions } from "./aws.ts";
import { type CommandRunner, runChecked, runCommand } from "./command.ts";
import { DeliveryError } from "./errors.ts";
import { eksOf, leafPaths, valueAt } from "./helm-values.ts";
import { connectCluster } from "./kube-connection.ts";
import { rolloutDiagnostics } from "./kube-diagnostics.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

/** helm --timeout (timeout-seconds); under 840 s, the EKS token's life. */
export const HELM_TIMEOUT_SECONDS = 600;

export interface ReleaseStatus {
  status: string;
  revision: number;
}

export async function releaseStatus(
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

/** The serving revision's chart as name-version (content-engine-0.1.0), as its labels name it. */
export async function releaseChart(run: CommandRunner, helm: string, base: string[]): Promise<string> {
  const metadata = JSON.parse(
    (await runChecked(run, helm, ["get", "metadata", ...base, "--output", "json"])).stdout,
  ) as { chart: string; version: string };
  return `${metadata.chart}-${metadata.version}`;
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

export interface HelmReleaseOptions {
  env: Environment;
  /** rollback: the revision to return to; default the newest one before the one serving. */
  revision?: number;
  /** An existing kubeconfig; default generated from DescribeCluster + an STS token. */
  kubeconfig?: string;
  helm?: string;
  timeoutSeconds?: number;
  aws?: Partial<AwsOptions>;
  reporter?: Reporter;
  run?: CommandRunner;
}

interface HistoryEntry {
  revision: number;
  status: string;
  updated: string;
  description: string;
}

/** The environment's release as it is now: connection, history, and what the serving revision runs. */
async function inspectRelease(options: HelmReleaseOptions, operation: string) {
  const { env } = options;
  if (env.platform !== "eks") {
    throw new DeliveryError(
      `${environmentSource(env)}: platform is ${env.platform}, and helm ${operation} acts only on platform: eks environments`,
    );
  }
  const eks = eksOf(env);
  const helm = options.helm ?? "helm";
  const run = options.run ?? runCommand;
  const reporter = options.reporter ?? consoleReporter;
  const { kubeconfig, access } = await connectCluster({
    env,
    kubeconfig: options.kubeconfig,
    aws: { region: env.region, ...options.aws } as AwsOptions,
    reporter,
  });
  const base = [eks.release, "--namespace", eks.namespace, "--kubeconfig", kubeconfig];
  const target = `${eks.cluster}/${eks.namespace}/${eks.release}`;
  const current = await releaseStatus(run, helm, base);
  if (!current) {
    throw new DeliveryError(
      `release ${eks.release} does not exist in namespace ${eks.namespace} of ${eks.cluster}: nothing to ${operation === "rollback" ? "roll back" : operation}`,
    );
  }
  const history = JSON.parse(
    (await runChecked(run, helm, ["history", ...base, "--output", "json"])).stdout,
  ) as HistoryEntry[];
  const valuesOf = async (revision: number) => {
    const values = await runChecked(run, helm, [
      "get",
      "values",
      ...base,
      "--revision",
      String(revision),
      "--output",
      "json",
    ]);
    return (JSON.parse(values.stdout) ?? {}) as Record<string, unknown>;
  };
  return { eks, helm, run, reporter, kubeconfig, access, base, target, current, history, valuesOf };
}

/**
 * What `helm rollback` would return to: the revision (default: the newest good one before the serving
 * one) and its digest. Contacts the cluster, changes nothing.
 *
 * @example
 * const plan = await planHelmRollback({ env: loadEnvironment("dev"), kubeconfig });
 * plan.changes; // [{ field: "revision", from: "3", to: "2" }, { field: "image.digest", … }]
 */
export async function planHelmRollback(options: HelmReleaseOptions): Promise<Plan> {
  return (await rollbackTarget(options)).plan;
}

async function rollbackTarget(options: HelmReleaseOptions) {
  const release = await inspectRelease(options, "rollback");
  const { eks, current, history, target } = release;
  const candidates = history.filter(
    (entry) =>
      entry.revision !== current.revision && (entry.status === "superseded" || entry.status === "deployed"),
  );
  const to = options.revision
    ? history.find((entry) => entry.revision === options.revision)
    : candidates
        .filter((entry) => entry.revision < current.revision)
        .sort((a, b) => b.revision - a.revision)[0];
  if (!to) {
    throw new DeliveryError(
      options.revision
        ? `release ${eks.release} has no revision ${options.revision} (helm keeps: ${history.map((e) => e.revision).join(", ")})`
        : `release ${eks.release} has no earlier good revision than ${current.revision} to roll back to`,
    );
  }
  if (to.revision === current.revision) {
    throw new DeliveryError(
      `revision ${to.revision} of ${eks.release} is the one serving: nothing to roll back`,
    );
  }
  const timeout = `${options.timeoutSeconds ?? HELM_TIMEOUT_SECONDS}s`;
  const args = [
    "rollback",
    eks.release,
    String(to.revision),
    "--namespace",
    eks.namespace,
    "--wait",
    "--timeout",
    timeout,
  ];
  // What returns: the digest, and every value that differs between the two revisions.
  const [now, then] = [await release.valuesOf(current.revision), await release.valuesOf(to.revision)];
  const show = (value: unknown) =>
    value === undefined ? undefined : typeof value === "string" ? value : JSON.stringify(value);
  const paths = [...new Set([...leafPaths(now), ...leafPaths(then)])].filter(
    (path) => path !== "image.digest",
  );
  const plan: Plan = {
    operation: "helm-rollback",
    target,
    noop: false,
    changes: [
      { field: "revision", from: String(current.revision), to: String(to.revision) },
      {
        field: "image.digest",
        from: show(valueAt(now, "image.digest")),
        to: show(valueAt(then, "image.digest")),
      },
      ...paths
        .map((path) => ({ field: path, from: show(valueAt(now, path)), to: show(valueAt(then, path)) }))
        .filter((change) => change.from !== change.to),
    ],
    steps: [`helm ${args.join(" ")}`],
    details: [
      `revision ${to.revision} (${to.status}, ${to.updated}): ${to.description}; helm records the rollback as revision ${Math.max(...history.map((e) => e.revision)) + 1}`,
    ],
  };
  return { plan, release, to, args };
}

/** helm rollback of the environment's release, after its plan (handed to onPlan before anything changes). */
export async function rollbackHelm(
  options: HelmReleaseOptions,
  onPlan?: (plan: Plan) => void,
): Promise<Outcome> {
  const watch = new Stopwatch();
  const { plan, release, to, args } = await rollbackTarget(options);
  onPlan?.(plan);
  const { eks, helm, run, base, target, current, kubeconfig, access } = release;
  // The planned step, as printed, against the connected cluster.
  const started = new Date();
  const result = await watch.wait(run(helm, [...args, "--kubeconfig", kubeconfig]));
  const after = await releaseStatus(run, helm, base);
  const revisions = {
    previous: String(current.revision),
    current: after ? String(after.revision) : undefined,
  };
  if (result.code !== 0) {
    // Why: the pods that warned since the rollback began (or the namespace's newest events), as a
    // failed deploy-helm says it.
    const failing = await rolloutDiagnostics(access, eks.namespace, started);
    const culprits = failing.pods.length
      ? `; failing pods: ${failing.pods.map((pod) => pod.name).join(", ")}`
      : "";
    return finish(watch, {
      operation: "helm-rollback",
      target,
      status: /timed out|context deadline/i.test(result.stderr) ? "timed_out" : "failed",
      reason: `helm rollback to revision ${to.revision} failed: ${result.stderr.trim().split("\n").pop()}${culprits}`,
      revisions,
      diagnostics: [
        `helm rollback: ${(result.stderr || result.stdout).trim().split("\n").slice(-5).join(" | ")}`,
        ...failing.lines,
      ],
    });
  }
  return finish(watch, {
    operation: "helm-rollback",
    target,
    status: "succeeded",
    reason: `release ${eks.release} rolled back to revision ${to.revision} (now revision ${after?.revision}, ${plan.changes[1]?.to})`,
    revisions,
    outputs: { revision: revisions.current ?? "" },
  });
}

/** The objects of the serving revision, as "Kind name" lines. */
function manifestObjects(manifest: string): string[] {
  return parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((object) => object?.kind)
    .map((object) => `${object!.kind} ${object!.metadata?.name}`);
}

/** What `helm uninstall` would remove: the release, its revision and digest, every object it owns. */
export async function planHelmUninstall(options: HelmReleaseOptions): Promise<Plan> {
  return (await uninstallTarget(options)).plan;
}

async function uninstallTarget(options: HelmReleaseOptions) {
  const release = await inspectRelease(options, "uninstall");
  const { eks, current, base, target, run, helm } = release;
  const manifest = await runChecked(run, helm, ["get", "manifest", ...base]);
  const objects = manifestObjects(manifest.stdout);
  const plan: Plan = {
    operation: "helm-uninstall",
    target,
    noop: false,
    changes: [
      {
        field: "release",
        from: `${eks.release} revision ${current.revision} (${current.status})`,
        to: undefined,
      },
      {
        field: "image.digest",
        from: valueAt(await release.valuesOf(current.revision), "image.digest") as string | undefined,
        to: undefined,
      },
    ],
    steps: [`helm uninstall ${eks.release} --namespace ${eks.namespace} --wait`],
    details: [`removes ${objects.length} objects and the release history:\n${objects.join("\n")}`],
  };
  return { plan, release, objects };
}

/** helm uninstall of the environment's release, after its plan. */
export async function uninstallHelm(
  options: HelmReleaseOptions,
  onPlan?: (plan: Plan) => void,
): Promise<Outcome> {
  const watch = new Stopwatch();
  const { plan, release, objects } = await uninstallTarget(options);
  onPlan?.(plan);
  const { eks, helm, run, base, target, current } = release;
  const result = await watch.wait(run(helm, ["uninstall", ...base, "--wait"]));
  const revisions = { previous: String(current.revision) };
  if (result.code !== 0) {
    return finish(watch, {
      operation: "helm-uninstall",
      target,
      status: "failed",
      reason: `helm uninstall failed: ${result.stderr.trim().split("\n").pop()}`,
      revisions,
    });
  }
  return finish(watch, {
    operation: "helm-uninstall",
    target,
    status: "succeeded",
    reason: `release ${eks.release} (revision ${current.revision}) uninstalled: ${objects.length} objects removed`,
    revisions,
  });
}

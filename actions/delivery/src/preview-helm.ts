// The EKS side of a preview: its own queues, and the chart released by deploy-helm's own code with the
// preview's derived environment (release eks.release in namespace <eks.namespace>-pr-<n>, KEDA 0..2).
// Down uninstalls the release and deletes the namespace; the queues carry the preview's tags
// (created-at included), which is where listPreviews reads a release's age from.

import { SQSClient } from "@aws-sdk/client-sqs";
import {
  type Environment,
  PREVIEW_CREATED_AT_TAG,
  type PreviewNames,
  previewNames,
} from "@content-engine/environments";
import type { AwsOptions } from "./aws.ts";
import { createClient } from "./aws.ts";
import { runCommand } from "./command.ts";
import { deployHelm } from "./helm.ts";
import { KubeApiError, kubeRequest } from "./kube.ts";
import { connectCluster } from "./kube-connection.ts";
import type { Outcome } from "./outcome.ts";
import type { PreviewOptions, PreviewSummary, UpPreviewOptions } from "./preview.ts";
import { ensureQueues, queueTags } from "./preview-resources.ts";
import { consoleReporter } from "./reporter.ts";
import { systemClock } from "./wait.ts";

type Options = Omit<PreviewOptions, "base" | "number">;

function sqsOf(base: Environment, options: Options) {
  return createClient(SQSClient, { region: base.region, ...options.aws } as AwsOptions);
}

/** Queues, then helm upgrade --install of the derived environment (same gates as deploy-helm). */
export async function previewRelease(
  options: UpPreviewOptions,
  env: Environment,
  names: PreviewNames,
): Promise<Outcome> {
  const sqs = sqsOf(options.base, options);
  const now = new Date((options.clock ?? systemClock).now()).toISOString();
  const createdAt = (await queueTags(sqs, names))?.[PREVIEW_CREATED_AT_TAG] ?? now;
  const queues = await ensureQueues(sqs, names, { ...names.tags, [PREVIEW_CREATED_AT_TAG]: createdAt });
  const outcome = await deployHelm({
    env: { ...env, queue: { url: queues.url, dlqUrl: queues.dlqUrl } },
    digest: options.digest,
    kubeconfig: options.kubeconfig,
    helm: options.helm,
    aws: options.aws,
    registryEndpoint: options.registryEndpoint,
    reporter: options.reporter,
    clock: options.clock,
    timeoutSeconds: options.timeoutSeconds,
    run: options.run,
  });
  return {
    ...outcome,
    operation: "preview-up",
    target: names.name,
    outputs: { ...outcome.outputs, url: names.url ?? "", environment: names.name, "created-at": createdAt },
  };
}

async function connection(base: Environment, names: PreviewNames, options: Options) {
  const env = { ...base, eks: { ...base.eks!, namespace: names.namespace } };
  return connectCluster({
    env,
    kubeconfig: options.kubeconfig,
    aws: { region: base.region, ...options.aws } as AwsOptions,
    reporter: options.reporter ?? consoleReporter,
  });
}

async function namespaceExists(access: Awaited<ReturnType<typeof connection>>["access"], namespace: string) {
  if (!access) return false;
  try {
    await kubeRequest(access, "GET", `/api/v1/namespaces/${namespace}`);
    return true;
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return false;
    throw error;
  }
}

/** The preview releases: namespaces <eks.namespace>-pr-<n> holding eks.release, oldest first. */
export async function listPreviewReleases(base: Environment, options: Options): Promise<PreviewSummary[]> {
  const run = options.run ?? runCommand;
  const { kubeconfig } = await connection(base, previewNames(base, 1), options);
  const listed = await run(options.helm ?? "helm", [
    "list",
    "--all-namespaces",
    "--all",
    "--output",
    "json",
    "--kubeconfig",
    kubeconfig,
  ]);
  if (listed.code !== 0) throw new Error(`helm list failed: ${listed.stderr.trim()}`);
  const releases = JSON.parse(listed.stdout || "[]") as Array<{
    name: string;
    namespace: string;
    updated?: string;
  }>;
  const prefix = `${base.eks?.namespace ?? "content-engine"}-pr-`;
  const sqs = sqsOf(base, options);
  const found: PreviewSummary[] = [];
  for (const release of releases) {
    if (!release.namespace.startsWith(prefix)) continue;
    const number = Number(release.namespace.slice(prefix.length));
    if (!Number.isInteger(number) || number < 1) continue;
    const names = previewNames(base, number);
    if (names.namespace !== release.namespace || names.release !== release.name) continue;
    const createdAt = (await queueTags(sqs, names))?.[PREVIEW_CREATED_AT_TAG] ?? release.updated ?? "";
    found.push({ number, name: names.name, createdAt, url: names.url });
  }
  return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.number - b.number);
}

/** helm uninstall (when installed) and the namespace deleted, waited for. */
export async function deleteRelease(
  base: Environment,
  names: PreviewNames,
  options: Options,
): Promise<string[]> {
  const run = options.run ?? runCommand;
  const helm = options.helm ?? "helm";
  const { kubeconfig, access } = await connection(base, names, options);
  const deleted: string[] = [];
  const args = [names.release, "--namespace", names.namespace, "--kubeconfig", kubeconfig];
  const status = await run(helm, ["status", ...args]);
  if (status.code === 0) {
    const out = await run(helm, ["uninstall", ...args, "--wait"]);
    if (out.code !== 0 && !/not found/i.test(out.stderr))
      throw new Error(`helm uninstall ${names.release} -n ${names.namespace} failed: ${out.stderr.trim()}`);
    deleted.push(`Helm release ${names.namespace}/${names.release}`);
  }
  if (access && (await namespaceExists(access, names.namespace))) {
    await kubeRequest(access, "DELETE", `/api/v1/namespaces/${names.namespace}`).catch((error) => {
      if (!(error instanceof KubeApiError && error.status === 404)) throw error;
    });
    const deadline = Date.now() + (options.timeoutSeconds ?? 600) * 1000;
    while ((await namespaceExists(access, names.namespace)) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, (options.pollSeconds ?? 5) * 1000));
    deleted.push(`namespace ${names.namespace}`);
  }
  return deleted;
}

/** What of the preview's release is left: the release, the namespace. */
export async function releaseLeft(
  base: Environment,
  names: PreviewNames,
  options: Options,
): Promise<string[]> {
  const run = options.run ?? runCommand;
  const { kubeconfig, access } = await connection(base, names, options);
  const left: string[] = [];
  const status = await run(options.helm ?? "helm", [
    "status",
    names.release,
    "--namespace",
    names.namespace,
    "--kubeconfig",
    kubeconfig,
  ]);
  if (status.code === 0) left.push(`Helm release ${names.namespace}/${names.release}`);
  if (await namespaceExists(access, names.namespace)) left.push(`namespace ${names.namespace}`);
  return left;
}

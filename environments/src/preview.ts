// Preview environments (issue 20): a pull request with the `preview` label runs as `pr-<number>`,
// derived from the one environment file that carries a `previews` block (normally dev) and living in
// its account, cluster and bucket. Every name a preview gives AWS or Kubernetes is made here, once.
import { EnvironmentError } from "./errors.ts";
import { apiTaskFamily } from "./names.ts";
import type { Environment } from "./schema.ts";

/** The highest pull request number a preview takes (keeps every derived name inside AWS's limits). */
export const MAX_PREVIEW_NUMBER = 99_999_999;
/** `pr-<n>`: reserved for previews, never the name of an environment file. */
export const PREVIEW_NAME_PATTERN = /^pr-([1-9]\d{0,7})$/;

/** Tags every resource a preview creates carries (what listPreviews and verifyGone look for). */
export const PREVIEW_TAG = "content-engine:preview";
export const PREVIEW_PULL_REQUEST_TAG = "content-engine:pull-request";
export const PREVIEW_CREATED_AT_TAG = "content-engine:created-at";

/** The `previews` block of the base environment file (schema.ts): where previews are reachable and their cap. */
export interface PreviewSettings {
  /** Preview URL https://pr-<n>.<domain>: an ALB host-header rule; *.<domain> points at the base's ALB. */
  domain: string;
  /** Creating one more preview than this reaps the oldest. */
  maxCount: number;
  /** The scheduled reaper destroys previews older than this. */
  maxAgeHours: number;
}

/** An environment as previews read it: the base's `previews` block and a preview's `bucketPrefix`. */
export type PreviewAwareEnvironment = Environment & {
  previews?: PreviewSettings;
  bucketPrefix?: string;
};

/**
 * A pull request number as a preview takes it (a CLI argument, an action input): a whole number
 * 1..99999999. Anything else is an EnvironmentError naming what was given.
 */
export function previewNumber(value: unknown): number {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : "";
  const n = /^[1-9]\d*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PREVIEW_NUMBER) {
    const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
    throw new EnvironmentError(
      `pull request number ${shown}: expected a whole number from 1 to ${MAX_PREVIEW_NUMBER}`,
    );
  }
  return n;
}

/** `pr-<n>` for pull request n. */
export function previewName(n: number): string {
  return `pr-${previewNumber(n)}`;
}

/** Whether a name is a preview's (`pr-<n>`), which environment files may not use. */
export function isPreviewName(name: string): boolean {
  return PREVIEW_NAME_PATTERN.test(name);
}

/** The pull request number of a preview name `pr-<n>`; an EnvironmentError for anything else. */
export function parsePreviewName(name: string): number {
  const match = PREVIEW_NAME_PATTERN.exec(name);
  if (!match)
    throw new EnvironmentError(
      `"${name}" is not a preview name: expected pr-<pull request number>, e.g. pr-12`,
    );
  return previewNumber(match[1]);
}

/** Every name of preview n of a base environment: what up creates, down deletes and verifyGone checks. */
export interface PreviewNames {
  number: number;
  /** `pr-<n>` */
  name: string;
  /** ECS service in the base's cluster. */
  service: string;
  /** Task definition family of the preview's API (its own, from the base's revisions). */
  taskFamily: string;
  /** ALB target group (≤ 32 characters). */
  targetGroup: string;
  /** The host the listener rule matches, and the preview URL. */
  host?: string;
  url?: string;
  /** The worker Lambda function (its own, from the base function's configuration). */
  functionName: string;
  alias: string;
  /** SQS queue names. */
  queue: string;
  dlq: string;
  /** Every S3 key of the preview is under this prefix of the base bucket. */
  bucketPrefix: string;
  /** Kubernetes namespace of the preview's Helm release (EKS). */
  namespace: string;
  release: string;
  /** The tags of a preview's resources, without created-at. */
  tags: Record<string, string>;
}

/** The names of preview n of `base` (a base without a `previews` block has no host or URL). */
export function previewNames(base: Environment, n: number): PreviewNames {
  const name = previewName(n);
  const suffix = `-${name}`;
  const domain = (base as PreviewAwareEnvironment).previews?.domain;
  const namespace = base.eks?.namespace ?? "content-engine";
  return {
    number: n,
    name,
    service: `${base.api.service}${suffix}`,
    taskFamily: `${apiTaskFamily(base)}${suffix}`,
    targetGroup: `content-engine${suffix}`,
    ...(domain ? { host: `${name}.${domain}`, url: `https://${name}.${domain}` } : {}),
    functionName: `${base.worker.functionName}${suffix}`,
    alias: "live",
    queue: `content-engine${suffix}-jobs`,
    dlq: `content-engine${suffix}-jobs-dlq`,
    bucketPrefix: `previews/${name}/`,
    namespace: `${namespace}${suffix}`,
    release: base.eks?.release ?? "content-engine",
    tags: { [PREVIEW_TAG]: name, [PREVIEW_PULL_REQUEST_TAG]: String(n) },
  };
}

/** The queue URL of `queue` beside the base's own queue (same account, region and endpoint). */
function siblingQueueUrl(baseUrl: string, queue: string): string {
  const url = new URL(baseUrl);
  url.pathname = url.pathname.replace(/[^/]+$/, queue);
  return url.toString();
}

/**
 * The environment of preview n, derived from the base file (the one with a `previews` block): its own
 * ECS service (one task) behind its own target group on the base's load balancer, its own worker
 * function (alias live) or, on EKS, its own Helm release in its own namespace (KEDA 0..2), its own
 * queues, and the base bucket under `previews/pr-<n>/`. No deployment alarms, no promotion or freeze
 * windows, no drift reconcile. `artifacts` sets what the pull request built (image digest and tag,
 * worker bundle or image); otherwise the base's.
 */
export function previewEnvironment(
  base: Environment,
  n: number,
  artifacts: { digest?: string; tag?: string; workerBundle?: string; workerImage?: string } = {},
): Environment {
  const aware = base as PreviewAwareEnvironment;
  const names = previewNames(base, n);
  if (isPreviewName(base.name))
    throw new EnvironmentError(`${base.name} is a preview: previews derive from the base environment`);
  if (!aware.previews)
    throw new EnvironmentError(
      `environment ${base.name} has no previews block (previews: {domain, maxCount, maxAgeHours}): previews derive from the file that carries it`,
    );
  const keda = base.worker.keda;
  const derived: PreviewAwareEnvironment = {
    ...base,
    name: names.name as Environment["name"],
    image: {
      ...base.image,
      ...(artifacts.digest ? { digest: artifacts.digest } : {}),
      ...(artifacts.tag ? { tag: artifacts.tag } : {}),
    },
    api: {
      ...base.api,
      service: names.service,
      targetGroup: names.targetGroup,
      desiredCount: 1,
      minCount: 1,
      maxCount: 1,
      preDeploy: [],
    },
    worker: {
      ...base.worker,
      functionName: names.functionName,
      alias: names.alias,
      maxConcurrency: 2,
      canary: undefined,
      provisionedConcurrency: undefined,
      ...(artifacts.workerBundle ? { bundle: artifacts.workerBundle } : {}),
      ...(artifacts.workerImage ? { image: artifacts.workerImage } : {}),
      ...(keda ? { keda: { queueLength: keda.queueLength, minReplicas: 0, maxReplicas: 2 } } : {}),
    },
    ...(base.eks ? { eks: { ...base.eks, namespace: names.namespace, release: names.release } } : {}),
    queue: {
      url: siblingQueueUrl(base.queue.url, names.queue),
      dlqUrl: siblingQueueUrl(base.queue.dlqUrl, names.dlq),
    },
    bucketPrefix: names.bucketPrefix,
    alarms: { ...base.alarms, namePrefix: undefined, deploymentAlarms: [] },
    promotion: { ...base.promotion, freezeWindows: [] },
    drift: { ...base.drift, reconcile: false },
    previews: undefined,
  };
  delete derived.previews;
  delete (derived.promotion as { from?: string }).from;
  delete derived.alarms.namePrefix;
  delete derived.worker.canary;
  delete derived.worker.provisionedConcurrency;
  return derived as Environment;
}

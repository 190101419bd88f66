// One way from an environment to a reachable Kubernetes API server, for everything that runs helm
// against the cluster (plan and deploy): the kubeconfig given, or one written from DescribeCluster and
// an STS token; then GET /version, so an unreachable server or refused credentials fail with one
// sentence before helm prints a stack of retries (or, for `helm get`, nothing at all).
import { type Environment, environmentSource } from "@content-engine/environments";
import type { AwsOptions } from "./aws.ts";
import { writeKubeconfig } from "./eks.ts";
import { DeliveryError } from "./errors.ts";
import { eksOf } from "./helm-values.ts";
import { type KubeAccess, KubeApiError, kubeAccessFromConfig, serverVersion } from "./kube.ts";
import type { Reporter } from "./reporter.ts";

export interface ClusterConnectionOptions {
  env: Environment;
  /** An existing kubeconfig (any cluster); default: generated for the environment's EKS cluster. */
  kubeconfig?: string;
  aws: AwsOptions;
  /** Marks the generated token secret before anything can print it. */
  reporter: Reporter;
}

export interface ClusterConnection {
  /** The kubeconfig helm gets with --kubeconfig. */
  kubeconfig: string;
  /**
   * Server, CA and bearer token of its current context, for our own API calls (dry-run, diagnostics);
   * undefined when it authenticates another way (client certificate, exec plugin): then only helm talks
   * to the cluster, and nothing proves it reachable first.
   */
  access?: KubeAccess;
  /** The API server's gitVersion, when `access` read it. */
  version?: string;
}

/**
 * The cluster the environment deploys to, proven to answer and to accept the credentials.
 *
 * @example
 * const { kubeconfig, access } = await connectCluster({ env, aws, reporter, kubeconfig: input.kubeconfig });
 * await run("helm", ["status", release, "--kubeconfig", kubeconfig]);
 */
export async function connectCluster(options: ClusterConnectionOptions): Promise<ClusterConnection> {
  const { env } = options;
  const eks = eksOf(env);
  const kubeconfig =
    options.kubeconfig ??
    (await writeKubeconfig(options.aws, eks.cluster, eks.namespace, environmentSource(env), options.reporter))
      .path;
  const access = kubeAccessFromConfig(kubeconfig);
  if (!access) return { kubeconfig };
  try {
    return { kubeconfig, access, version: await serverVersion(access) };
  } catch (error) {
    const reason =
      error instanceof KubeApiError && (error.status === 401 || error.status === 403)
        ? `it refused the credentials (${error.status})`
        : (error as Error).message;
    const check = options.kubeconfig
      ? `the kubeconfig ${options.kubeconfig}`
      : `eks.cluster in ${environmentSource(env)}`;
    throw new DeliveryError(
      `cannot reach the Kubernetes API server ${access.server}: ${reason} (check ${check})`,
    );
  }
}

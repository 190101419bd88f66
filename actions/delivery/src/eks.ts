// EKS access without the aws CLI: DescribeCluster for the endpoint and CA, and a bearer token that is
// a presigned STS GetCallerIdentity URL bound to the cluster name (what `aws eks get-token` produces).
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@aws-sdk/types";
import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { stringify } from "yaml";
import { type AwsOptions, createClient } from "./aws.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import type { Reporter } from "./reporter.ts";

export const EKS_TOKEN_PREFIX = "k8s-aws-v1.";

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signingDate?: Date;
}

/** `k8s-aws-v1.` + base64url(presigned https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity…), 60 s. */
export async function eksToken(options: EksTokenOptions): Promise<string> {
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: "sts",
    region: options.region,
    credentials: options.credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const request = new HttpRequest({
    method: "GET",
    protocol: "https:",
    hostname,
    path: "/",
    query: { Action: "GetCallerIdentity", Version: "2011-06-15" },
    headers: { host: hostname, "x-k8s-aws-id": options.clusterName },
  });
  const signed = await signer.presign(request, { expiresIn: 60, signingDate: options.signingDate });
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(signed.query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) if (item !== null) query.append(key, item);
  }
  const url = `https://${hostname}/?${query.toString()}`;
  return `${EKS_TOKEN_PREFIX}${Buffer.from(url).toString("base64url")}`;
}

export interface EksCluster {
  name: string;
  endpoint: string;
  certificateAuthority: string;
}

/** `source`: the environment file that names the cluster, for messages (environmentSource(env)). */
export async function describeEksCluster(aws: AwsOptions, name: string, source: string): Promise<EksCluster> {
  const eks = createClient(EKSClient, aws);
  try {
    const out = await eks.send(new DescribeClusterCommand({ name }));
    const cluster = out.cluster;
    if (!cluster?.endpoint || !cluster.certificateAuthority?.data) {
      throw new DeliveryError(
        `EKS cluster "${name}" has no endpoint yet (status ${cluster?.status ?? "unknown"})`,
      );
    }
    return { name, endpoint: cluster.endpoint, certificateAuthority: cluster.certificateAuthority.data };
  } catch (error) {
    if ((error as Error).name === "ResourceNotFoundException") {
      throw new DeliveryError(`EKS cluster "${name}" does not exist (eks.cluster in ${source})`);
    }
    throw explainAwsError(error);
  }
}

/** Credentials the same way every client resolves them (explicit, env, OIDC web identity, profile). */
export async function resolveCredentials(aws: AwsOptions): Promise<AwsCredentialIdentity> {
  const sts = createClient(STSClient, aws);
  try {
    return await sts.config.credentials();
  } catch (error) {
    throw explainAwsError(error);
  }
}

export function renderKubeconfig(cluster: EksCluster, token: string, namespace: string): string {
  const name = cluster.name;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name,
        cluster: { server: cluster.endpoint, "certificate-authority-data": cluster.certificateAuthority },
      },
    ],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace } }],
    "current-context": name,
  });
}

/**
 * Writes a kubeconfig (mode 0600) for the cluster and returns its path. The token (a presigned STS
 * URL: a bearer credential for a minute) is marked secret through `reporter` before anything can print it.
 */
export async function writeKubeconfig(
  aws: AwsOptions,
  clusterName: string,
  namespace: string,
  /** The environment file that names the cluster, for messages (environmentSource(env)). */
  source: string,
  reporter: Reporter,
) {
  const cluster = await describeEksCluster(aws, clusterName, source);
  const token = await eksToken({
    clusterName,
    region: aws.region,
    credentials: await resolveCredentials(aws),
  });
  reporter.secret(token);
  const path = join(mkdtempSync(join(tmpdir(), "kubeconfig-")), "config");
  writeFileSync(path, renderKubeconfig(cluster, token, namespace), { mode: 0o600 });
  chmodSync(path, 0o600);
  return { path, token, cluster };
}

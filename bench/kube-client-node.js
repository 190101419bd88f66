// deploy-helm's Kubernetes client with @kubernetes/client-node doing what a client library is for: the
// kubeconfig, its credentials, and the typed call every run makes first (GET /version, VersionApi).
// bench/kube-client.ts puts this file in place of actions/delivery/src/kube.ts in a scratch copy of the
// delivery library, with our own client beside it as kube-ours.ts: client-node has no generic request,
// so discovery, the dry-run apply, events and pods keep going through ours. This is the least an
// action would bundle of client-node; its typed clients for those calls are measured on their own.
// Plain JavaScript, not type-checked: client-node is not a dependency of this repository.
import { ApiException, KubeConfig, VersionApi } from "@kubernetes/client-node";
import { KubeApiError } from "./kube-ours.ts";

export * from "./kube-ours.ts";

const configs = new WeakMap();

/** Server, CA and token of the current context, read by client-node; undefined without a token. */
export function kubeAccessFromConfig(file) {
  const config = new KubeConfig();
  config.loadFromFile(file);
  const cluster = config.getCurrentCluster();
  const token = config.getCurrentUser()?.token;
  if (!cluster?.server || !token) return undefined;
  const access = { server: cluster.server, certificateAuthority: cluster.caData, token };
  configs.set(access, config);
  return access;
}

/** GET /version through client-node's VersionApi; its ApiException becomes our KubeApiError. */
export async function serverVersion(access) {
  try {
    return (await configs.get(access).makeApiClient(VersionApi).getCode()).gitVersion;
  } catch (error) {
    if (error instanceof ApiException) throw new KubeApiError("GET", "/version", error.code, error.message);
    throw error;
  }
}

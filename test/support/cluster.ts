// One local Kubernetes control plane per test file: `const cluster = useCluster()` starts it
// (test/support/cluster-control-plane.ts) before the file's tests and stops it after.
import { afterAll, beforeAll } from "vitest";
import { type Cluster, type ClusterOptions, startCluster } from "./cluster-control-plane.ts";

export * from "./cluster-control-plane.ts";

/** Read the fields inside tests or hooks, not at module load. */
export function useCluster(options: ClusterOptions = {}): Cluster {
  let cluster: Cluster | undefined;
  const get = () => {
    if (!cluster) throw new Error("the cluster is not started yet: use it inside a test or hook");
    return cluster;
  };
  beforeAll(async () => {
    cluster = await startCluster(options);
  }, 180_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get kubeconfig() {
      return get().kubeconfig;
    },
    get server() {
      return get().server;
    },
    get access() {
      return get().access;
    },
    get dir() {
      return get().dir;
    },
    get pids() {
      return get().pids;
    },
    get readyMs() {
      return get().readyMs;
    },
    log: (component, lines) => get().log(component, lines),
    stop: () => cluster?.stop() ?? Promise.resolve(),
  };
}

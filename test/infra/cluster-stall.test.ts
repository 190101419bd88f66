// The local control plane on a loaded machine: kwok (the fake kubelet) stalls, as it does when the
// machine's two cores are busy, for longer than the node lifecycle controller's default grace (50 s).
// Without the longer grace of test/support/cluster-control-plane.ts the node turned NotReady, its pods
// were marked NotReady, and kwok's pod-ready Stage (pods without an IP only) never readied them again:
// every later `helm --wait` on those Deployments timed out (a CI run lost 600 s and two tests to it).
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { getJson, kubeRequest } from "../../actions/delivery/src/kube.ts";
import { NODE_NAME, until, useCluster } from "../support/cluster.ts";

const cluster = useCluster();

type Conditions = { status?: { conditions?: { type: string; status: string }[] } };
const ready = (object: Conditions) => object.status?.conditions?.find((c) => c.type === "Ready")?.status;

describe("the local control plane when kwok stalls", { timeout: 180_000 }, () => {
  it("keeps the node and its pods Ready through a 65 s stall (past the default 50 s grace)", async () => {
    const { access } = cluster;
    await kubeRequest(access, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "stall" } },
    });
    await kubeRequest(access, "POST", "/apis/apps/v1/namespaces/stall/deployments", {
      body: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "app" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "app" } },
          template: {
            metadata: { labels: { app: "app" } },
            spec: { containers: [{ name: "app", image: "registry.example/app:1" }] },
          },
        },
      },
    });
    const state = async () => {
      const node = await getJson<Conditions>(access, `/api/v1/nodes/${NODE_NAME}`);
      const pods = await getJson<{ items: Conditions[] }>(access, "/api/v1/namespaces/stall/pods");
      return { node: ready(node), pods: pods.items.map(ready) };
    };
    const allReady = { node: "True", pods: ["True", "True"] };
    await until(
      "the pods did not turn Ready",
      async () => (JSON.stringify(await state()) === JSON.stringify(allReady) ? true : undefined),
      60_000,
    );

    process.kill(cluster.pids.kwok!, "SIGSTOP");
    try {
      // The controller checks every 5 s: 65 s is past the default grace with a margin.
      await sleep(65_000);
      expect(await state()).toEqual(allReady);
    } finally {
      process.kill(cluster.pids.kwok!, "SIGCONT");
    }
    await sleep(5_000);
    expect(await state()).toEqual(allReady);
  });
});

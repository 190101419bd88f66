// A preview of an EKS base, up and down for real: the real helm and chart against the local Kubernetes
// control plane (test/support/cluster.ts), the preview's queues in moto. What a reviewer gets is a
// release of its own in <namespace>-pr-<n> whose pods read the preview's queue and key prefix.
import { type Environment, previewNames } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { toolPath } from "../../../scripts/tools.ts";
import { useCluster } from "../../../test/support/cluster.ts";
import { awsFor, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { getJson } from "../src/kube.ts";
import { downPreview, listPreviews, upPreview, verifyGone } from "../src/preview.ts";
import { memoryReporter } from "../src/reporter.ts";

const cluster = useCluster();
const moto = useMoto();
const base: Environment = testEnvironment([
  [["platform"], "eks"],
  [["eks", "namespace"], "review"],
]);
const names = previewNames(base, 7);

interface Deployment {
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
  status: { availableReplicas?: number };
}

describe("a preview of an EKS base on a local control plane", { timeout: 180_000 }, () => {
  it("up releases the chart in <namespace>-pr-<n> with the preview's queue and key prefix; down leaves nothing", async () => {
    const options = {
      base,
      number: 7,
      aws: awsFor(moto.endpoint),
      kubeconfig: cluster.kubeconfig,
      helm: toolPath("helm"),
      // 120 s: the rollout's deadline, not a timing.
      timeoutSeconds: 120,
      reporter: memoryReporter(),
    };
    const image = digest("d");
    const up = await upPreview({ ...options, digest: image });
    expect(up.status, `${up.reason}\n${up.diagnostics.join("\n")}`).toBe("succeeded");
    expect(names.namespace).toBe("review-pr-7");

    // Read back from the API server: both workloads run the pull request's image, Available.
    const ns = names.namespace;
    for (const name of ["content-engine-api", "content-engine-worker"]) {
      const live = await getJson<Deployment>(
        cluster.access,
        `/apis/apps/v1/namespaces/${ns}/deployments/${name}`,
      );
      expect(live.spec.template.spec.containers[0]!.image).toBe(`${base.image.repository}@${image}`);
      if (live.spec.replicas > 0) expect(live.status.availableReplicas).toBe(live.spec.replicas);
    }
    const maps = await getJson<{ items: { data?: Record<string, string> }[] }>(
      cluster.access,
      `/api/v1/namespaces/${ns}/configmaps`,
    );
    const config = maps.items.find((m) => m.data?.CONTENT_ENGINE_BUCKET)!.data!;
    expect(config.CONTENT_ENGINE_KEY_PREFIX).toBe("previews/pr-7/");
    expect(config.CONTENT_ENGINE_BUCKET).toBe(base.bucket);
    expect(config.CONTENT_ENGINE_QUEUE_URL).toMatch(/\/content-engine-pr-7-jobs$/);
    // The base's own release is untouched: it never existed here, and the preview did not make one.
    expect(
      (await getJson<{ items: unknown[] }>(cluster.access, `/apis/apps/v1/namespaces/review/deployments`))
        .items,
    ).toEqual([]);

    expect((await listPreviews(base, options)).map((p) => p.name)).toEqual(["pr-7"]);

    const down = await downPreview(options);
    expect(down.status, down.reason).toBe("succeeded");
    expect(await verifyGone(base, 7, options)).toEqual([]);
    expect(await listPreviews(base, options)).toEqual([]);
    // The namespace went with it.
    await expect(getJson(cluster.access, `/api/v1/namespaces/${ns}`)).rejects.toMatchObject({ status: 404 });
  });
});

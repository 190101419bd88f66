// Previews on an EKS base: the Helm releases in namespaces <eks.namespace>-pr-<n> are the previews
// (their age from their queues' created-at), and down uninstalls the release, deletes the queues and
// verifies nothing is left. helm is a recording stand-in here; the chart itself is deploy-helm's.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type Environment, previewNames } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import { awsFor, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { MOTO_REGION, useMoto } from "../../../test/support/moto.ts";
import { createClient } from "../src/aws.ts";
import type { CommandRunner } from "../src/command.ts";
import { downPreview, listPreviews, verifyGone } from "../src/preview.ts";
import { ensureQueues } from "../src/preview-resources.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const base: Environment = testEnvironment([[["platform"], "eks"]]);

/** A kubeconfig with a client certificate: only helm talks to the cluster (no API calls of ours). */
function kubeconfig() {
  const file = join(mkdtempSync(join(tmpdir(), "kube-")), "config");
  writeFileSync(
    file,
    "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://127.0.0.1:9}}]\nusers: [{name: u, user: {client-certificate-data: eA==}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n",
  );
  return file;
}

/** helm as a stand-in: releases by namespace, uninstall removes one. */
function fakeHelm(releases: Array<{ name: string; namespace: string }>) {
  const calls: string[] = [];
  const run: CommandRunner = async (_command, args) => {
    calls.push(args.join(" "));
    const ns = args[args.indexOf("--namespace") + 1];
    if (args[0] === "list") return { code: 0, stdout: JSON.stringify(releases), stderr: "" };
    if (args[0] === "status")
      return releases.some((r) => r.namespace === ns)
        ? { code: 0, stdout: "STATUS: deployed", stderr: "" }
        : { code: 1, stdout: "", stderr: "Error: release: not found" };
    if (args[0] === "uninstall") {
      releases.splice(
        releases.findIndex((r) => r.namespace === ns),
        1,
      );
      return { code: 0, stdout: "", stderr: "" };
    }
    return { code: 1, stdout: "", stderr: `unexpected helm ${args.join(" ")}` };
  };
  return { run, calls };
}

describe("previews on EKS", () => {
  it("lists the preview releases oldest first, and down removes release and queues, verified", async () => {
    const aws = awsFor(moto.endpoint);
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    await s3.send(
      new CreateBucketCommand({
        Bucket: base.bucket,
        CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
      }),
    );
    const sqs = createClient(SQSClient, aws);
    const names = (n: number) => previewNames(base, n);
    await ensureQueues(sqs, names(5), {
      ...names(5).tags,
      "content-engine:created-at": "2030-01-02T00:00:00.000Z",
    });
    await ensureQueues(sqs, names(4), {
      ...names(4).tags,
      "content-engine:created-at": "2030-01-01T00:00:00.000Z",
    });
    const helm = fakeHelm([
      { name: base.eks!.release, namespace: names(5).namespace },
      { name: base.eks!.release, namespace: names(4).namespace },
      { name: base.eks!.release, namespace: base.eks!.namespace },
    ]);
    const options = { aws, kubeconfig: kubeconfig(), run: helm.run, reporter: memoryReporter() };
    expect((await listPreviews(base, options)).map((p) => [p.name, p.createdAt])).toEqual([
      ["pr-4", "2030-01-01T00:00:00.000Z"],
      ["pr-5", "2030-01-02T00:00:00.000Z"],
    ]);
    const down = await downPreview({ base, number: 4, ...options });
    expect(down.status, down.reason).toBe("succeeded");
    expect(helm.calls).toContain(
      `uninstall ${base.eks!.release} --namespace ${names(4).namespace} --kubeconfig ${options.kubeconfig} --wait`,
    );
    expect(await verifyGone(base, 4, options)).toEqual([]);
    expect(await verifyGone(base, 5, options)).toEqual([
      `Helm release ${names(5).namespace}/${base.eks!.release}`,
      "SQS queue content-engine-pr-5-jobs",
      "SQS queue content-engine-pr-5-jobs-dlq",
    ]);
  });
});

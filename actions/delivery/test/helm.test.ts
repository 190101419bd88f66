import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../../scripts/tools.ts";
import { awsFor, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { createClient } from "../src/aws.ts";
import { EKS_TOKEN_PREFIX, eksToken, renderKubeconfig, writeKubeconfig } from "../src/eks.ts";
import { DeliveryError } from "../src/errors.ts";
import { DEFAULT_KUBE_VERSION, deployHelm, planHelm } from "../src/helm.ts";
import { generatedRuleGroups, helmValues, releaseValues } from "../src/helm-values.ts";
import { connectCluster } from "../src/kube-connection.ts";
import { memoryReporter } from "../src/reporter.ts";

const moto = useMoto();
const env = testEnvironment([[["platform"], "eks"]]);
const root = new URL("../../../", import.meta.url).pathname;
const chart = `${root}helm/content-engine`;

describe("deploy-helm building blocks", () => {
  it("builds the chart values from the environment file and the digest", () => {
    const values = helmValues(env, digest("c"));
    expect(values.image).toEqual({
      repository: env.image.repository,
      digest: digest("c"),
      tag: env.image.tag,
    });
    expect(values.api.autoscaling).toEqual({
      enabled: true,
      minReplicas: 1,
      maxReplicas: 2,
      targetCPUUtilizationPercentage: 80,
    });
    expect(values.worker.keda).toEqual({
      enabled: true,
      queueLength: 5,
      minReplicaCount: 0,
      maxReplicaCount: 10,
    });
    expect(values.config).toEqual({
      region: "eu-west-1",
      bucket: env.bucket,
      queueUrl: env.queue.url,
      dlqUrl: env.queue.dlqUrl,
      processor: "local",
    });
  });

  it("ships the environment's generated alerting rules in the chart's PrometheusRule (real helm template)", () => {
    const rules = `${root}alarms/generated/dev/prometheus-rules.yaml`;
    const groups = generatedRuleGroups(env, rules) as Array<{ rules: Array<{ alert: string }> }>;
    expect(groups.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), "helm-rules-"));
    const valuesFile = join(dir, "values.yaml");
    writeFileSync(valuesFile, JSON.stringify(releaseValues(env, digest("e"), "local", rules)));
    const rendered = spawnSync(
      toolPath("helm"),
      [
        "template",
        "content-engine",
        chart,
        "--values",
        valuesFile,
        "--kube-version",
        DEFAULT_KUBE_VERSION,
        "--api-versions",
        "monitoring.coreos.com/v1/PrometheusRule",
      ],
      { encoding: "utf8" },
    );
    expect(rendered.status, rendered.stderr).toBe(0);
    const rule = rendered.stdout
      .split(/^---$/m)
      .map(
        (doc) =>
          parse(doc) as { kind?: string; spec?: { groups: Array<{ rules: Array<{ alert?: string }> }> } },
      )
      .find((doc) => doc?.kind === "PrometheusRule");
    const alerts = rule!.spec!.groups.flatMap((g) => g.rules.map((r) => r.alert));
    for (const generated of groups.flatMap((g) => g.rules.map((r) => r.alert)))
      expect(alerts).toContain(generated);
    expect(alerts).toContain("ContentEngineApiDown");
  });

  it("finds the generated rules from the package, whatever the working directory", () => {
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const groups = generatedRuleGroups(env) as Array<{ rules: Array<{ alert: string }> }>;
      expect(groups.flatMap((g) => g.rules).length).toBeGreaterThan(0);
    } finally {
      process.chdir(cwd);
    }
  });

  it("refuses a rules file that is missing or has no groups list", () => {
    expect(() => generatedRuleGroups(env, "/nonexistent/rules.yaml")).toThrow(DeliveryError);
    const dir = mkdtempSync(join(tmpdir(), "helm-rules-"));
    writeFileSync(join(dir, "bad.yaml"), "rules: []\n");
    expect(() => generatedRuleGroups(env, join(dir, "bad.yaml"))).toThrow(/expected a 'groups' list/);
  });

  it("makes a k8s-aws-v1 token from a presigned STS GetCallerIdentity URL that signs the cluster header", async () => {
    const token = await eksToken({
      clusterName: "content-engine-dev",
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      signingDate: new Date("2026-01-01T00:00:00Z"),
    });
    expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    const encoded = token.slice(EKS_TOKEN_PREFIX.length);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(encoded, "base64url").toString("utf8"));
    expect(url.origin).toBe("https://sts.eu-west-1.amazonaws.com");
    expect(url.searchParams.get("Action")).toBe("GetCallerIdentity");
    expect(url.searchParams.get("Version")).toBe("2011-06-15");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("60");
    expect(url.searchParams.get("X-Amz-SignedHeaders")).toBe("host;x-k8s-aws-id");
    expect(url.searchParams.get("X-Amz-Credential")).toBe("AKIDEXAMPLE/20260101/eu-west-1/sts/aws4_request");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[a-f0-9]{64}$/);
  });

  it("writes a kubeconfig from moto's DescribeCluster with a bearer token and no aws CLI", async () => {
    const eks = createClient(EKSClient, awsFor(moto.endpoint));
    await eks.send(
      new CreateClusterCommand({
        name: env.eks!.cluster,
        roleArn: "arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
      }),
    );
    const reporter = memoryReporter();
    const { path, token } = await writeKubeconfig(
      awsFor(moto.endpoint),
      env.eks!.cluster,
      "content-engine",
      "environments/dev.yaml",
      reporter,
    );
    // The token is a bearer credential: masked (core.setSecret in an action) before anything prints it.
    expect(reporter.secrets).toEqual([token]);
    const config = parse(readFileSync(path, "utf8"));
    expect(config["current-context"]).toBe(env.eks!.cluster);
    expect(config.clusters[0].cluster.server).toMatch(/^https:\/\//);
    expect(config.clusters[0].cluster["certificate-authority-data"]).toBeTruthy();
    expect(config.users[0].user.token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(config.contexts[0].context.namespace).toBe("content-engine");
  });

  it("names the environment field when the EKS cluster does not exist", async () => {
    await expect(
      writeKubeconfig(
        awsFor(moto.endpoint),
        "no-such-cluster",
        "content-engine",
        "environments/dev.yaml",
        memoryReporter(),
      ),
    ).rejects.toThrow('EKS cluster "no-such-cluster" does not exist (eks.cluster in environments/dev.yaml)');
  });
});

describe("connectCluster: the one way plan and deploy reach the cluster", () => {
  it("names eks.cluster in the file the environment came from when the described cluster does not answer", async () => {
    const unreachable = testEnvironment([
      [["platform"], "eks"],
      [["eks", "cluster"], "content-engine-unreachable"],
    ]);
    const eks = createClient(EKSClient, awsFor(moto.endpoint));
    await eks.send(
      new CreateClusterCommand({
        name: "content-engine-unreachable",
        roleArn: "arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig: { subnetIds: ["subnet-1", "subnet-2"] },
      }),
    );
    // moto's endpoint is a made-up *.eks.amazonaws.com name: nothing answers there.
    await expect(
      connectCluster({ env: unreachable, aws: awsFor(moto.endpoint), reporter: memoryReporter() }),
    ).rejects.toThrow(
      /^cannot reach the Kubernetes API server https:\/\/.*\(check eks\.cluster in dev\.yaml\)$/,
    );
  });

  it("leaves a kubeconfig without a bearer token to helm, sending nothing itself", async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "kubeconfig-")), "config");
    // Nothing answers on port 9: a request would fail the connection.
    const server = { name: "c", endpoint: "https://127.0.0.1:9", certificateAuthority: "" };
    writeFileSync(kubeconfig, renderKubeconfig(server, "", "content-engine"));
    expect(
      await connectCluster({ env, kubeconfig, aws: awsFor(moto.endpoint), reporter: memoryReporter() }),
    ).toEqual({ kubeconfig });
  });
});

describe("deployHelm inside a freeze window", () => {
  const frozen = testEnvironment([
    [["platform"], "eks"],
    [
      ["promotion", "freezeWindows"],
      [{ start: "2030-12-20T00:00:00Z", end: "2031-01-02T00:00:00Z", reason: "year-end" }],
    ],
  ]);
  const insideFreeze = { now: () => Date.parse("2030-12-24T12:00:00Z"), sleep: async () => {} };

  it("refuses without a break-glass reason before contacting AWS, the cluster or helm", async () => {
    const commands: string[] = [];
    const outcome = await deployHelm({
      env: frozen,
      digest: digest("e"),
      chart,
      // Nothing answers here: any call to EKS, STS or a cluster would fail the deploy with an error.
      aws: awsFor("http://127.0.0.1:9"),
      clock: insideFreeze,
      run: async (command, args) => {
        commands.push([command, ...args].join(" "));
        throw new Error("helm must not run while frozen");
      },
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.target).toBe("content-engine-dev/content-engine/content-engine");
    expect(outcome.reason).toBe(
      "refused: dev is frozen: year-end (2030-12-20T00:00:00Z to 2031-01-02T00:00:00Z) (set break-glass to override)",
    );
    expect(commands).toEqual([]);
  });

  it("goes on to the cluster with a break-glass reason", async () => {
    // The override lets the deploy proceed: it reaches for the cluster (absent, or not answering) and fails there.
    const reporter = memoryReporter();
    await expect(
      deployHelm({
        env: frozen,
        digest: digest("e"),
        chart,
        aws: awsFor(moto.endpoint),
        clock: insideFreeze,
        breakGlass: "certificate expiry",
        reporter,
      }),
    ).rejects.toThrow(
      /EKS cluster "content-engine-dev" does not exist|cannot reach the Kubernetes API server/,
    );
    expect(reporter.lines).toContain(
      'warning: break-glass: certificate expiry (freeze window "year-end" overridden)',
    );
  });
});

describe("planHelm with the real helm binary", () => {
  const helm = toolPath("helm");

  it("lints and renders the chart with the environment's digest, contacting no cluster", async () => {
    const plan = await planHelm({ env, digest: digest("e"), chart, helm, offline: true });
    expect(plan.details[0]).toContain(`${env.image.repository}@${digest("e")}`);
    expect(plan.details[0]).toContain("kind: Deployment");
    expect(plan.changes).toEqual([{ field: "image.digest", from: undefined, to: digest("e") }]);
  });

  it("refuses a digest that is not sha256 before running helm", async () => {
    await expect(planHelm({ env, digest: "sha256:abc", chart, helm, offline: true })).rejects.toThrow(
      'digest "sha256:abc" is not an image digest: expected sha256:<64 hex characters>',
    );
  });
});

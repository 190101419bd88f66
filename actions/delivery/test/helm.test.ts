import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../../scripts/tools.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { createClient } from "../src/aws.ts";
import type { CommandRunner } from "../src/command.ts";
import { EKS_TOKEN_PREFIX, eksToken, renderKubeconfig, writeKubeconfig } from "../src/eks.ts";
import { DeliveryError } from "../src/errors.ts";
import {
  DEFAULT_KUBE_VERSION,
  deployHelm,
  generatedRuleGroups,
  helmUpgradeArgs,
  helmValues,
  planHelm,
  recoverPendingRelease,
  releaseValues,
} from "../src/helm.ts";
import { memoryReporter } from "../src/reporter.ts";
import { awsFor, digest, testEnvironment } from "./fixtures.ts";

const moto = useMoto();
const env = testEnvironment([[["platform"], "eks"]]);
const root = new URL("../../../", import.meta.url).pathname;
const chart = `${root}helm/content-engine`;

/** A helm stand-in for the paths that need a live cluster (none exists here): answers by subcommand. */
function scriptedHelm(answers: Record<string, { code?: number; stdout?: string; stderr?: string }[]>) {
  const calls: string[][] = [];
  const run: CommandRunner = async (_command, args) => {
    calls.push([...args]);
    const key = args[0] === "get" ? `get ${args[1]}` : args[0]!;
    const queue = answers[key] ?? [];
    const answer = queue.length > 1 ? queue.shift()! : (queue[0] ?? {});
    return { code: answer.code ?? 0, stdout: answer.stdout ?? "", stderr: answer.stderr ?? "" };
  };
  return { run, calls };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

const status = (revision: number, state: string) => ({
  stdout: JSON.stringify({ version: revision, info: { status: state } }),
});

describe("deploy-helm building blocks", () => {
  it("runs helm upgrade --install with --atomic on Helm 3 and --rollback-on-failure on Helm 4", () => {
    const common = {
      release: "content-engine",
      chart: "helm/content-engine",
      namespace: "content-engine",
      valuesFile: "/tmp/values.yaml",
      timeoutSeconds: 600,
      kubeconfig: "/tmp/kubeconfig",
    };
    const expected = (flag: string) => [
      "upgrade",
      "--install",
      "content-engine",
      "helm/content-engine",
      "--namespace",
      "content-engine",
      "--create-namespace",
      "--values",
      "/tmp/values.yaml",
      flag,
      "--wait",
      "--timeout",
      "600s",
      "--history-max",
      "20",
      "--kubeconfig",
      "/tmp/kubeconfig",
    ];
    expect(helmUpgradeArgs({ ...common, helmMajor: 3 })).toEqual(expected("--atomic"));
    expect(helmUpgradeArgs({ ...common, helmMajor: 4 })).toEqual(expected("--rollback-on-failure"));
  });

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
    const { path } = await writeKubeconfig(awsFor(moto.endpoint), env.eks!.cluster, "content-engine", "dev");
    const config = parse(readFileSync(path, "utf8"));
    expect(config["current-context"]).toBe(env.eks!.cluster);
    expect(config.clusters[0].cluster.server).toMatch(/^https:\/\//);
    expect(config.clusters[0].cluster["certificate-authority-data"]).toBeTruthy();
    expect(config.users[0].user.token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
    expect(config.contexts[0].context.namespace).toBe("content-engine");
  });

  it("names the environment field when the EKS cluster does not exist", async () => {
    await expect(
      writeKubeconfig(awsFor(moto.endpoint), "no-such-cluster", "content-engine", "dev"),
    ).rejects.toThrow('EKS cluster "no-such-cluster" does not exist (eks.cluster in environments/dev.yaml)');
  });
});

describe("recovering a release left pending by a cancelled run (scripted helm: no cluster here)", () => {
  it("rolls a release stuck in pending-upgrade back to its last deployed revision", async () => {
    const helm = scriptedHelm({
      status: [status(5, "pending-upgrade")],
      history: [
        {
          stdout: JSON.stringify([
            { revision: 3, status: "superseded" },
            { revision: 4, status: "deployed" },
            { revision: 5, status: "pending-upgrade" },
          ]),
        },
      ],
    });
    const message = await recoverPendingRelease(helm.run, "helm", "content-engine", "content-engine");
    expect(message).toBe(
      "release content-engine was stuck in pending-upgrade at revision 5: rolled back to revision 4",
    );
    expect(helm.calls.at(-1)).toEqual([
      "rollback",
      "content-engine",
      "--namespace",
      "content-engine",
      "4",
      "--wait",
    ]);
  });

  it("uninstalls a release that never finished its first install", async () => {
    const helm = scriptedHelm({
      status: [status(1, "pending-install")],
      history: [{ stdout: JSON.stringify([{ revision: 1, status: "pending-install" }]) }],
    });
    await recoverPendingRelease(helm.run, "helm", "content-engine", "content-engine");
    expect(helm.calls.at(-1)).toEqual([
      "uninstall",
      "content-engine",
      "--namespace",
      "content-engine",
      "--wait",
    ]);
  });

  it("leaves a deployed release alone", async () => {
    const helm = scriptedHelm({ status: [status(4, "deployed")] });
    expect(await recoverPendingRelease(helm.run, "helm", "content-engine", "content-engine")).toBeUndefined();
    expect(helm.calls).toHaveLength(1);
  });

  it("reports unchanged without upgrading when the deployed release already has these values", async () => {
    const values = releaseValues(env, digest("d"));
    const live = scriptedHelm({
      version: [{ stdout: "v3.22.0" }],
      status: [status(4, "deployed")],
      // helm prints values with keys sorted (Go maps), not in the order we build them.
      "get values": [{ stdout: JSON.stringify(sortKeys(values)) }],
    });
    const outcome = await deployHelm({
      env,
      digest: digest("d"),
      chart,
      kubeconfig: "/tmp/kubeconfig",
      run: live.run,
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("unchanged");
    expect(outcome.reason).toBe("revision 4 already runs these values");
    expect(live.calls.some((args) => args[0] === "upgrade")).toBe(false);
  });

  it("upgrades with --atomic, --wait and the timeout and reports the new revision", async () => {
    const helm = scriptedHelm({
      version: [{ stdout: "v3.22.0" }],
      status: [status(4, "deployed"), status(4, "deployed"), status(5, "deployed")],
      "get values": [{ stdout: "{}" }],
      upgrade: [{ code: 0, stdout: 'Release "content-engine" has been upgraded.' }],
    });
    const outcome = await deployHelm({
      env,
      digest: digest("d"),
      chart,
      kubeconfig: "/tmp/kubeconfig",
      timeoutSeconds: 300,
      run: helm.run,
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.revisions).toEqual({ previous: "4", attempted: "5", current: "5" });
    const upgrade = helm.calls.find((args) => args[0] === "upgrade")!;
    expect(upgrade.slice(0, 4)).toEqual(["upgrade", "--install", "content-engine", chart]);
    expect(upgrade).toEqual(
      expect.arrayContaining(["--atomic", "--wait", "--timeout", "300s", "--kubeconfig", "/tmp/kubeconfig"]),
    );
  });

  it("reports rolled_back with helm status and history when the upgrade fails and --atomic restored it", async () => {
    const helm = scriptedHelm({
      version: [{ stdout: "v3.22.0+g1234567" }],
      status: [
        status(4, "deployed"),
        status(4, "deployed"),
        status(6, "deployed"),
        { stdout: "STATUS: deployed" },
      ],
      "get values": [{ stdout: "{}" }],
      upgrade: [
        {
          code: 1,
          stderr:
            "Error: UPGRADE FAILED: release content-engine failed, and has been rolled back due to atomic being set: context deadline exceeded",
        },
      ],
      history: [{ stdout: "REVISION STATUS\n5 failed\n6 deployed" }],
    });
    const outcome = await deployHelm({
      env,
      digest: digest("d"),
      chart,
      kubeconfig: "/tmp/kubeconfig",
      run: helm.run,
      reporter: memoryReporter(),
    });
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toBe(
      "upgrade failed; helm rolled back and revision 6 (the previous values) serves",
    );
    expect(outcome.revisions).toEqual({ previous: "4", current: "6" });
    expect(outcome.diagnostics[0]).toContain("UPGRADE FAILED");
    expect(helm.calls.find((args) => args[0] === "upgrade")).toContain("--atomic");
  });
});

describe("events on a failed upgrade (local HTTPS stand-in for the Kubernetes API: no cluster here)", () => {
  let server: Server;
  let kubeconfig: string;
  const seenTokens: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-api-"));
    const made = spawnSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { encoding: "utf8" },
    );
    if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
    const cert = readFileSync(join(dir, "cert.pem"));
    server = createServer({ key: readFileSync(join(dir, "key.pem")), cert }, (req, res) => {
      seenTokens.push(req.headers.authorization ?? "");
      if (req.url !== "/api/v1/namespaces/content-engine/events") return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          items: [
            {
              type: "Normal",
              reason: "Scheduled",
              message: "assigned node",
              lastTimestamp: "2026-01-01T10:00:00Z",
              involvedObject: { kind: "Pod", name: "api-1" },
            },
            {
              type: "Warning",
              reason: "BackOff",
              message: "Back-off restarting failed container api",
              count: 7,
              lastTimestamp: "2026-01-01T10:05:00Z",
              involvedObject: { kind: "Pod", name: "api-1" },
            },
          ],
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    kubeconfig = join(dir, "config");
    writeFileSync(
      kubeconfig,
      renderKubeconfig(
        {
          name: "content-engine-dev",
          endpoint: `https://127.0.0.1:${port}`,
          certificateAuthority: cert.toString("base64"),
        },
        "k8s-aws-v1.dGVzdA",
        "content-engine",
      ),
    );
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("puts the namespace's newest events into the diagnostics, read with the kubeconfig's token and CA", async () => {
    const helm = scriptedHelm({
      version: [{ stdout: "v3.22.0" }],
      status: [
        status(4, "deployed"),
        status(4, "deployed"),
        status(6, "deployed"),
        { stdout: "STATUS: deployed" },
      ],
      "get values": [{ stdout: "{}" }],
      upgrade: [{ code: 1, stderr: "Error: UPGRADE FAILED: context deadline exceeded" }],
      history: [{ stdout: "" }],
    });
    const outcome = await deployHelm({
      env,
      digest: digest("d"),
      chart,
      kubeconfig,
      run: helm.run,
      reporter: memoryReporter(),
    });
    expect(outcome.diagnostics.filter((line) => line.startsWith("event:"))).toEqual([
      "event: Warning BackOff Pod/api-1 (x7): Back-off restarting failed container api",
      "event: Normal Scheduled Pod/api-1: assigned node",
    ]);
    expect(seenTokens).toEqual(["Bearer k8s-aws-v1.dGVzdA"]);
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

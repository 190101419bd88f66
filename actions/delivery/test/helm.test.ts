import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateClusterCommand, EKSClient } from "@aws-sdk/client-eks";
import { previewEnvironment } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toolPath } from "../../../scripts/tools.ts";
import { awsFor, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { useRegistry } from "../../../test/support/registry.ts";
import { createClient } from "../src/aws.ts";
import { EKS_TOKEN_PREFIX, eksToken, renderKubeconfig, writeKubeconfig } from "../src/eks.ts";
import { DeliveryError } from "../src/errors.ts";
import { DEFAULT_KUBE_VERSION, deployHelm, planHelm } from "../src/helm.ts";
import { planHelmRollback, planHelmUninstall } from "../src/helm-release.ts";
import { generatedRuleGroups, helmValues, type RunValues, releaseValues } from "../src/helm-values.ts";
import { connectCluster } from "../src/kube-connection.ts";
import { memoryReporter } from "../src/reporter.ts";
import { pushChart } from "./support/helm-chart.ts";
import { scratchWorkspace } from "./support/run-action.ts";

const moto = useMoto();
const registry = useRegistry();
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

  it("gives a preview's release its key prefix, which an environment file's release never has", () => {
    const preview = previewEnvironment(env, 12, { digest: digest("c") });
    expect(helmValues(preview, digest("c")).config).toMatchObject({
      keyPrefix: "previews/pr-12/",
      bucket: env.bucket,
    });
    expect(helmValues(env, digest("c")).config).not.toHaveProperty("keyPrefix");
  });

  it("ships the environment's generated alerting rules in the chart's PrometheusRule (real helm template)", () => {
    const rules = `${root}alarms/generated/${env.name}/prometheus-rules.yaml`;
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
    expect(plan.details[1]).toContain(`${env.image.repository}@${digest("e")}`);
    expect(plan.details[1]).toContain("kind: Deployment");
    expect(plan.changes).toEqual([{ field: "image.digest", from: undefined, to: digest("e") }]);
  });

  it("refuses a digest that is not sha256 before running helm", async () => {
    await expect(planHelm({ env, digest: "sha256:abc", chart, helm, offline: true })).rejects.toThrow(
      'digest "sha256:abc" is not an image digest: expected sha256:<64 hex characters>',
    );
  });
});

/** A helm that runs `line` of sh first (to answer some commands itself), then the real binary. */
function wrappedHelm(line: string): string {
  const script = join(mkdtempSync(join(tmpdir(), "wrapped-helm-")), "helm");
  writeFileSync(script, `#!/bin/sh\n${line}\nexec "${toolPath("helm")}" "$@"\n`);
  chmodSync(script, 0o755);
  return script;
}

/** A repository root holding the given values files (path → YAML text). */
function repositoryWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "helm-repo-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** The rendered objects of an offline plan, by kind and name. */
function renderedObjects(rendered: string) {
  return rendered
    .split(/^---$/m)
    .map((doc) => parse(doc) as { kind?: string; metadata?: { name: string }; data?: Record<string, string> })
    .filter((doc) => doc?.kind);
}

describe("values files and --set pairs: chart < environment file < run inputs < deploy-helm's own", () => {
  const helm = toolPath("helm");
  const layered = testEnvironment([
    [["platform"], "eks"],
    [["eks", "valuesFiles"], ["deploy/env-values.yaml"]],
    [["eks", "set"], { "config.logLevel": "error", "worker.concurrency": 7, "podAnnotations.team": "env" }],
  ]);
  const root = repositoryWith({
    "deploy/env-values.yaml":
      "config: { logLevel: warn }\nworker: { concurrency: 6, processingBudgetMs: 30000 }\npodAnnotations: { owner: env-file }\n",
    "deploy/run-values.yaml": "worker: { concurrency: 8 }\npodAnnotations: { owner: run-file }\n",
  });
  const run = { valuesFiles: ["deploy/run-values.yaml"], set: ["config.logLevel=debug"] };
  const planLayered = (values: RunValues = run, repositoryRoot = root) =>
    planHelm({ env: layered, digest: digest("e"), chart, helm, offline: true, values, repositoryRoot });

  it("each layer wins over the ones below it, in the manifests the real helm renders", async () => {
    const plan = await planLayered();
    const objects = renderedObjects(plan.details[1]!);
    const configMap = objects.find((o) => o.kind === "ConfigMap")!;
    // set (run) > eks.set > eks.valuesFiles > chart (info)
    expect(configMap.data!.LOG_LEVEL).toBe("debug");
    // The chart's own default where nobody set a value.
    expect(configMap.data!.CONTENT_ENGINE_MAX_UPLOAD_BYTES).toBe("26214400");
    const worker = objects.find(
      (o) => o.kind === "Deployment" && o.metadata?.name === "content-engine-worker",
    ) as {
      spec: {
        template: {
          metadata: { annotations?: Record<string, string> };
          spec: { containers: { env: { name: string; value?: string }[] }[] };
        };
      };
    };
    const workerEnv = Object.fromEntries(
      worker.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]),
    );
    // values-files (run, 8) > eks.set (7) > eks.valuesFiles (6) > chart (4)
    expect(workerEnv.CONTENT_ENGINE_WORKER_CONCURRENCY).toBe("8");
    // eks.valuesFiles over the chart (20000).
    expect(workerEnv.CONTENT_ENGINE_PROCESSING_BUDGET_MS).toBe("30000");
    // eks.set (team) and values-files (owner) merge into one map; the run's file wins owner.
    expect(worker.spec.template.metadata.annotations).toMatchObject({ team: "env", owner: "run-file" });
    // deploy-helm's computed values stay on top.
    expect(plan.details[1]).toContain(`${layered.image.repository}@${digest("e")}`);
  });

  it("shows the precedence and every user value with the layer that wins it in the plan", async () => {
    const plan = await planLayered();
    expect(plan.details[0]!.split("\n")).toEqual([
      "values, lowest precedence first:",
      "1. the chart's values.yaml",
      "2. eks.valuesFiles of dev.yaml deploy/env-values.yaml",
      "3. eks.set of dev.yaml",
      "4. values-files deploy/run-values.yaml",
      "5. set",
      "6. deploy-helm's values from dev.yaml (image, api, worker.keda, config, serviceAccounts, monitoring): not overridable",
    ]);
    expect(plan.changes).toEqual(
      expect.arrayContaining([
        { field: "config.logLevel (set)", from: undefined, to: "debug" },
        { field: "worker.concurrency (values-files deploy/run-values.yaml)", from: undefined, to: "8" },
        { field: "podAnnotations.team (eks.set of dev.yaml)", from: undefined, to: "env" },
        {
          field: "worker.processingBudgetMs (eks.valuesFiles of dev.yaml deploy/env-values.yaml)",
          from: undefined,
          to: "30000",
        },
      ]),
    );
  });

  it("refuses a values file that does not exist, naming the field, the environment file and the path", async () => {
    await expect(planLayered({}, tmpdir())).rejects.toThrow(
      /^eks\.valuesFiles of dev\.yaml: values file deploy\/env-values\.yaml does not exist \(/,
    );
    await expect(planLayered({ valuesFiles: ["nope.yaml"] })).rejects.toThrow(
      /^values-files: values file nope\.yaml does not exist/,
    );
  });

  it("refuses set keys with shell or helm strvals characters, from the run and from the file", async () => {
    for (const line of ["a;rm -rf /=1", "config.$(id)=x", "list[0]=x", "a,b=c", "=x"]) {
      await expect(
        planHelm({ env, digest: digest("e"), chart, helm, offline: true, values: { set: [line] } }),
      ).rejects.toThrow(/^set: "/);
    }
    expect(() => testEnvironment([[["eks", "set"], { "a;b": "x" }]])).toThrow(/eks\.set/);
    expect(() => testEnvironment([[["eks", "valuesFiles"], ["../outside.yaml"]]])).toThrow(
      /eks\.valuesFiles\.0: .*a path inside the repository/,
    );
  });

  it("refuses a layer that overrides image.digest or any value deploy-helm computes from the file", async () => {
    const planWith = (values: RunValues, repositoryRoot?: string) =>
      planHelm({ env, digest: digest("e"), chart, helm, offline: true, values, repositoryRoot });
    await expect(planWith({ set: [`image.digest=${digest("f")}`] })).rejects.toThrow(
      "set sets image.digest, which deploy-helm computes from dev.yaml (image.digest): change the environment file (or the digest input) instead",
    );
    // Replacing a computed map whole is overriding it too.
    await expect(planWith({ set: ["image=x"] })).rejects.toThrow(
      /set sets image, which deploy-helm computes/,
    );
    const withDigest = repositoryWith({ "v.yaml": `image: { digest: "${digest("f")}" }\n` });
    await expect(planWith({ valuesFiles: ["v.yaml"] }, withDigest)).rejects.toThrow(
      "values-files v.yaml sets image.digest, which deploy-helm computes from dev.yaml",
    );
    // A value beside the computed ones is the user's to set.
    const plan = await planWith({ set: ["image.pullPolicy=Always"] });
    expect(plan.details[1]).toContain("imagePullPolicy: Always");
  });
});

describe("the plan's flags come from the helm that runs it", () => {
  /** A helm that reports `version` and runs everything else with the real binary. */
  const helmReporting = (version: string) =>
    wrappedHelm(`if [ "$1" = version ]; then echo "${version}"; exit 0; fi`);
  const upgradeFlags = async (helm: string) => {
    const plan = await planHelm({ env, digest: digest("e"), chart, helm, offline: true });
    return plan.steps[0]!.split(" ").filter((arg) => arg === "--atomic" || arg === "--rollback-on-failure");
  };

  it("plans --rollback-on-failure when Helm 4 runs it", async () => {
    expect(await upgradeFlags(helmReporting("v4.0.1+g1a2b3c4"))).toEqual(["--rollback-on-failure"]);
  });

  it("plans --atomic when Helm 3 runs it (the real binary)", async () => {
    expect(await upgradeFlags(toolPath("helm"))).toEqual(["--atomic"]);
  });
});

describe("helm rollback and uninstall refuse what they cannot act on", () => {
  it("refuses an environment whose platform is not eks, before contacting anything", async () => {
    const ecs = testEnvironment([[["platform"], "ecs"]]);
    const options = { env: ecs, aws: awsFor("http://127.0.0.1:9"), reporter: memoryReporter() };
    await expect(planHelmRollback(options)).rejects.toThrow(
      "dev.yaml: platform is ecs, and helm rollback acts only on platform: eks environments",
    );
    await expect(planHelmUninstall(options)).rejects.toThrow(
      "dev.yaml: platform is ecs, and helm uninstall acts only on platform: eks environments",
    );
  });

  it("the CLI refuses an unknown environment, a non-eks one and an unknown subcommand with exit 2", () => {
    const cli = join(root, "actions", "delivery", "src", "cli.ts");
    const contentEngine = (args: string[]) =>
      spawnSync(process.execPath, [cli, ...args], { cwd: scratchWorkspace(), encoding: "utf8" });
    const unknown = contentEngine(["helm", "rollback", "--environment", "qa"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.split("\n")[0]).toContain('unknown environment "qa"');
    const ecs = contentEngine(["helm", "uninstall", "--environment", "dev"]);
    expect(ecs.status).toBe(2);
    expect(ecs.stderr).toBe(
      "content-engine: environments/dev.yaml: platform is ecs, and helm uninstall acts only on platform: eks environments\n",
    );
    const other = contentEngine(["helm", "upgrade", "--environment", "dev"]);
    expect(other.status).toBe(2);
    expect(other.stderr.split("\n")[0]).toBe(
      'content-engine: helm needs rollback or uninstall, got "upgrade"',
    );
  });
});

describe("a chart from an OCI registry, pinned by version or digest (crane registry serve)", () => {
  const helm = toolPath("helm");
  const fromRegistry = (chart: Record<string, string>) =>
    testEnvironment([
      [["platform"], "eks"],
      [["eks", "chart"], chart],
    ]);

  it("pulls the pinned version, renders it, and shows what it pulled and its digest in the plan", async () => {
    const pushed = pushChart(registry.host, "1.2.3");
    const oci = `oci://${registry.host}/charts/content-engine`;
    const plan = await planHelm({
      env: fromRegistry({ oci, version: "1.2.3" }),
      digest: digest("e"),
      helm,
      offline: true,
    });
    expect(plan.changes).toContainEqual({ field: "chart", from: undefined, to: `${oci}:1.2.3 (${pushed})` });
    expect(plan.details[1]).toContain("helm.sh/chart: content-engine-1.2.3");
  });

  it("pulls a digest-pinned reference and verifies the digest the registry served", async () => {
    const pushed = pushChart(registry.host, "1.2.4");
    const oci = `oci://${registry.host}/charts/content-engine@${pushed}`;
    const plan = await planHelm({ env: fromRegistry({ oci }), digest: digest("e"), helm, offline: true });
    expect(plan.changes).toContainEqual({ field: "chart", from: undefined, to: `${oci} (${pushed})` });
    expect(plan.details[1]).toContain("helm.sh/chart: content-engine-1.2.4");

    // A registry (or a proxy) that serves other content under the pinned reference.
    const lying = wrappedHelm(
      `if [ "$1" = pull ]; then "${helm}" "$@" 2>/dev/null || exit 1; echo "Digest: ${digest("9")}"; exit 0; fi`,
    );
    await expect(
      planHelm({ env: fromRegistry({ oci }), digest: digest("e"), helm: lying, offline: true }),
    ).rejects.toThrow(
      `eks.chart of dev.yaml: the registry served ${digest("9")} for ${oci}, not the pinned digest: refusing to install it`,
    );
  });

  it("names eks.chart when the pinned chart is not in the registry", async () => {
    const oci = `oci://${registry.host}/charts/content-engine@${digest("0")}`;
    await expect(
      planHelm({ env: fromRegistry({ oci }), digest: digest("e"), helm, offline: true }),
    ).rejects.toThrow(/^eks\.chart of dev\.yaml: helm pull oci:\/\/.* failed: .*not found/);
  });

  it("the schema refuses an unpinned reference, a version range, and both pins at once", () => {
    const oci = "oci://registry.example/charts/content-engine";
    expect(() => fromRegistry({ oci })).toThrow(
      /eks\.chart: .*either version: x\.y\.z or a reference ending in @sha256/,
    );
    expect(() => fromRegistry({ oci, version: "^1.2.0" })).toThrow(
      /eks\.chart\.version: .*an exact chart version/,
    );
    expect(() => fromRegistry({ oci: `${oci}@${digest("a")}`, version: "1.2.3" })).toThrow(
      /eks\.chart: .*not both/,
    );
  });

  it("takes a chart directory from eks.chart, relative to the repository root", async () => {
    const plan = await planHelm({
      env: fromRegistry({ directory: "helm/content-engine" }),
      digest: digest("e"),
      helm,
      offline: true,
      repositoryRoot: root,
    });
    expect(plan.details[1]).toContain("helm.sh/chart: content-engine-0.1.0");
    await expect(
      planHelm({
        env: fromRegistry({ directory: "charts/none" }),
        digest: digest("e"),
        helm,
        offline: true,
        repositoryRoot: root,
      }),
    ).rejects.toThrow(
      /^eks\.chart of dev\.yaml: charts\/none is not a chart directory \(no .*charts\/none\/Chart\.yaml\)$/,
    );
  });
});

// deploy-helm against a real Kubernetes control plane (test/support/cluster.ts: etcd, kube-apiserver,
// controller-manager, scheduler, kwok), its bundled dist run as a runner runs it. Every outcome is
// read back from the API server: Deployments, pods, events and helm's release records (Secrets).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironment, loadEnvironments, updateEnvironmentFile } from "@content-engine/environments";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { toolPath } from "../../../scripts/tools.ts";
import {
  createOrReplace,
  NODE_NAME,
  neverReadyStage,
  until,
  useCluster,
} from "../../../test/support/cluster.ts";
import { digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { MOTO_CREDENTIALS } from "../../../test/support/moto.ts";
import { useRegistry } from "../../../test/support/registry.ts";
import { runCommand } from "../../delivery/src/command.ts";
import { detectDrift } from "../../delivery/src/drift.ts";
import { deployHelm as deployHelmRelease, planHelm } from "../../delivery/src/helm.ts";
import { getJson, kubeRequest } from "../../delivery/src/kube.ts";
import { dryRunApply } from "../../delivery/src/kube-dry-run.ts";
import { memoryReporter } from "../../delivery/src/reporter.ts";
import { pushChart } from "../../delivery/test/support/helm-chart.ts";
import {
  errorLines,
  repositoryRoot,
  runBundledAction,
  scratchWorkspace,
} from "../../delivery/test/support/run-action.ts";

const cluster = useCluster();
const registry = useRegistry();
const helm = toolPath("helm");
const namespace = "content-engine";
const release = "content-engine";
/** The repository's environment files; the release below deploys the one deploy.yml builds for. */
const environments = loadEnvironments(join(repositoryRoot, "environments"));
const target = environments.build;
const targetFile = `${target.name}.yaml`;
const repository = target.image.repository;
const image = (sha: string) => `${repository}@${sha}`;
const dlqUrl = target.queue.dlqUrl;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { resourceFieldRef?: { containerName?: string; resource: string; divisor?: string } };
}

/** The worker pods' containers as the API server stored them (created by the real ReplicaSet controller). */
async function workerContainers() {
  const pods = await getJson<{
    items: {
      spec: { containers: { name: string; env: EnvVar[]; resources: { limits: { cpu: string } } }[] };
    }[];
  }>(
    cluster.access,
    `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent("app.kubernetes.io/component=worker")}`,
  );
  return pods.items.map((p) => p.spec.containers[0]!);
}

interface Deployment {
  metadata: { name: string; generation: number };
  spec: { template: { spec: { containers: { image: string }[] } } };
  status: { conditions?: { type: string; status: string }[]; readyReplicas?: number };
}

/** The chart's two Deployments as the API server has them. */
async function deployments(): Promise<Record<string, Deployment>> {
  const list = await getJson<{ items: Deployment[] }>(
    cluster.access,
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
  );
  return Object.fromEntries(list.items.map((d) => [d.metadata.name, d]));
}

const available = (d: Deployment) =>
  d.status.conditions?.some((c) => c.type === "Available" && c.status === "True") ?? false;

/** helm's release records: one Secret per revision, labelled with its status. */
/** The node's and the namespace's pods' conditions and kwok's last lines: why a rollout waits, for a failure message. */
async function clusterState(ns: string): Promise<string> {
  type Conditions = { status?: { conditions?: { type: string; status: string; reason?: string }[] } };
  const show = (o: Conditions) =>
    (o.status?.conditions ?? [])
      .map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ""}`)
      .join(" ");
  const node = await getJson<Conditions>(cluster.access, `/api/v1/nodes/${NODE_NAME}`);
  const pods = await getJson<{ items: (Conditions & { metadata: { name: string } })[] }>(
    cluster.access,
    `/api/v1/namespaces/${ns}/pods`,
  );
  return [
    `\nnode ${NODE_NAME}: ${show(node)}`,
    ...pods.items.map((pod) => `pod ${pod.metadata.name}: ${show(pod)}`),
    `kwok:\n${cluster.log("kwok", 20)}`,
  ].join("\n");
}

async function releaseRecords(ns = namespace): Promise<{ version: number; status: string }[]> {
  const list = await getJson<{ items: { metadata: { labels: Record<string, string> } }[] }>(
    cluster.access,
    `/api/v1/namespaces/${ns}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${release}`)}`,
  );
  return list.items
    .map((s) => ({ version: Number(s.metadata.labels.version), status: s.metadata.labels.status! }))
    .sort((a, b) => a.version - b.version);
}

function deployHelm(
  inputs: Record<string, string>,
  kubeconfig = cluster.kubeconfig,
  workspace = scratchWorkspace(),
) {
  return runBundledAction(
    "deploy-helm",
    { environment: target.name, helm, kubeconfig, "timeout-seconds": "60", ...inputs },
    { workspace },
  );
}

/** Through kwok's Stage API: pods running the `broken` digest start but never turn Ready. */
function markBroken() {
  return createOrReplace(
    cluster.access,
    "/apis/kwok.x-k8s.io/v1alpha1/stages",
    neverReadyStage("never-ready-broken", image(broken)),
  );
}

/** The CLI (content-engine) in `workspace`, against the build environment's file there and this cluster. */
function contentEngineIn(workspace: string, args: string[]) {
  return spawnSync(
    process.execPath,
    [
      join(repositoryRoot, "actions", "delivery", "src", "cli.ts"),
      ...args,
      "--environment",
      target.name,
      "--kubeconfig",
      cluster.kubeconfig,
      "--helm",
      helm,
    ],
    { cwd: workspace, encoding: "utf8", env: { PATH: process.env.PATH } },
  );
}

/** A helm run cancelled mid-wait (on never-Ready pods): killed once its release record reads `status`. */
async function cancelledHelm(args: string[], ns: string, status: string) {
  await markBroken();
  const child: ChildProcess = spawn(
    helm,
    [
      ...args,
      "--set",
      `image.digest=${broken}`,
      "--wait",
      "--timeout",
      "120s",
      "--kubeconfig",
      cluster.kubeconfig,
    ],
    { stdio: "ignore" },
  );
  await until(
    `the helm run did not reach ${status}`,
    async () => ((await releaseRecords(ns)).at(-1)?.status === status ? true : undefined),
    30_000,
  );
  child.kill("SIGKILL");
}

const good = digest("a");
const broken = digest("b");
const fixed = digest("c");

// Each helm run waits on real controllers; generous limits for a shared 2-core machine.
describe("deploy-helm on a local Kubernetes v1.34 control plane", { timeout: 180_000 }, () => {
  it("serves Kubernetes v1.34.0 with one schedulable kwok node", async () => {
    const version = await getJson<{ gitVersion: string }>(cluster.access, "/version");
    expect(version.gitVersion).toBe("v1.34.0");
    const node = await getJson<{ status: { conditions: { type: string; status: string }[] } }>(
      cluster.access,
      `/api/v1/nodes/${NODE_NAME}`,
    );
    expect(node.status.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
    process.stdout.write(`control plane ready in ${cluster.readyMs} ms\n`);
  });

  it("validates KEDA and Prometheus Operator objects against the published CRD schemas", async () => {
    await kubeRequest(cluster.access, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    });
    // Both are wrong in ways only the real schemas know: a misspelt field, a duration that is not one.
    const wrong = [
      {
        apiVersion: "keda.sh/v1alpha1",
        kind: "ScaledObject",
        metadata: { name: "typo" },
        spec: { scaleTargetRef: { name: "worker" }, minReplicas: 0, triggers: [] },
      },
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: { name: "bad-duration" },
        spec: { groups: [{ name: "g", rules: [{ alert: "A", expr: "up == 0", for: "five minutes" }] }] },
      },
    ];
    const refused = await dryRunApply(cluster.access, wrong, namespace);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatch(/^ScaledObject typo: .*\.spec\.minReplicas: field not declared in schema/);
    expect(refused[1]).toMatch(/^PrometheusRule bad-duration: .*spec.groups\[0\].rules\[0\].for/);
  });

  it.each(environments.names)(
    "the API server admits everything the chart renders for %s, generated alarm rules included",
    async (env) => {
      const run = await runBundledAction(
        "deploy-helm",
        { environment: env, helm, kubeconfig: cluster.kubeconfig, plan: "true" },
        { workspace: scratchWorkspace() },
      );
      expect(run.code, run.stdout).toBe(0);
      expect(run.outputs.status).toBe("planned");
      const accepted = run.summary.match(/the API server accepted all (\d+) objects \(([^)]*)\)/);
      expect(accepted, run.summary).not.toBeNull();
      const kinds = accepted![2]!.split(", ");
      expect(kinds).toEqual(
        expect.arrayContaining([
          "Deployment",
          "HorizontalPodAutoscaler",
          "NetworkPolicy",
          "PodDisruptionBudget",
          "PrometheusRule",
          "ScaledObject",
          "ServiceMonitor",
          "TriggerAuthentication",
        ]),
      );
      const generated = parse(
        readFileSync(join(repositoryRoot, "alarms", "generated", env, "prometheus-rules.yaml"), "utf8"),
      ) as { groups: { rules: { alert: string }[] }[] };
      for (const alert of generated.groups.flatMap((g) => g.rules.map((r) => r.alert)))
        expect(run.summary).toContain(`alert: ${alert}`);
      // A plan changes nothing.
      expect(await releaseRecords()).toEqual([]);
    },
  );

  it("installs the release: succeeded, both Deployments Available on the new digest", async () => {
    const run = await deployHelm({ digest: good });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe("succeeded");
    const live = await deployments();
    expect(Object.keys(live).sort()).toEqual(["content-engine-api", "content-engine-worker"]);
    for (const d of Object.values(live)) {
      expect(available(d)).toBe(true);
      expect(d.spec.template.spec.containers[0]!.image).toBe(image(good));
    }
    expect(await releaseRecords()).toEqual([{ version: 1, status: "deployed" }]);
  });

  it("gives the worker pods their thread count from the CPU limit and the environment's DLQ", async () => {
    // kwok runs no kubelet, so nothing here resolves the downward API to a number: what is checked is
    // that the API server admits the reference and the controllers carry it into every worker pod.
    const containers = await workerContainers();
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) {
      const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
      expect(env.CONTENT_ENGINE_PROCESSOR_THREADS?.valueFrom?.resourceFieldRef).toEqual({
        containerName: "worker",
        resource: "limits.cpu",
        divisor: "1",
      });
      expect(c.resources.limits.cpu).toBe("1");
      expect(env.CONTENT_ENGINE_DLQ_URL?.value).toBe(dlqUrl);
      expect(env.CONTENT_ENGINE_PROCESSING_BUDGET_MS?.value).toBe("20000");
    }
  });

  it("answers unchanged for the same digest and writes no revision", async () => {
    const generations = Object.values(await deployments()).map((d) => d.metadata.generation);
    const run = await deployHelm({ digest: good });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe("unchanged");
    expect(await releaseRecords()).toEqual([{ version: 1, status: "deployed" }]);
    expect(Object.values(await deployments()).map((d) => d.metadata.generation)).toEqual(generations);
  });

  it("rolls back a rollout whose pods never turn Ready and names them with their events", async () => {
    await markBroken();
    const run = await deployHelm({ digest: broken, "timeout-seconds": "15" });
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe("rolled_back");
    // The previous revision serves, read from the API server.
    const live = await deployments();
    for (const d of Object.values(live)) {
      expect(d.spec.template.spec.containers[0]!.image).toBe(image(good));
      expect(available(d)).toBe(true);
    }
    expect(await releaseRecords()).toEqual([
      { version: 1, status: "superseded" },
      { version: 2, status: "failed" },
      { version: 3, status: "deployed" },
    ]);
    // The summary names the failing pods and what the API said about them.
    const named = [...run.summary.matchAll(/failing pod (content-engine-(?:api|worker)-[a-z0-9-]+) \(/g)].map(
      (m) => m[1],
    );
    expect(named.length).toBeGreaterThan(0);
    expect(run.summary).toContain("Warning Unhealthy Pod/");
    expect(run.summary).toContain("Readiness probe failed");
    expect(run.outputs.reason).toContain(`failing pods: ${named[0]}`);
  });

  it("recovers a release left in pending-upgrade by a cancelled run, then deploys", async () => {
    // A run cancelled mid-wait: helm killed while the upgrade to a never-ready digest waits.
    await cancelledHelm(
      [
        "upgrade",
        release,
        join(repositoryRoot, "helm", "content-engine"),
        "--namespace",
        namespace,
        "--reuse-values",
      ],
      namespace,
      "pending-upgrade",
    );
    expect((await releaseRecords()).at(-1)).toEqual({ version: 4, status: "pending-upgrade" });

    const run = await deployHelm({ digest: fixed });
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe("succeeded");
    expect(run.stdout).toContain(
      "release content-engine was stuck in pending-upgrade at revision 4: rolled back to revision 3",
    );
    // helm keeps the cancelled revision's record as it was; the release moved past it.
    expect((await releaseRecords()).slice(3)).toEqual([
      { version: 4, status: "pending-upgrade" },
      { version: 5, status: "superseded" },
      { version: 6, status: "deployed" },
    ]);
    for (const d of Object.values(await deployments())) {
      expect(d.spec.template.spec.containers[0]!.image).toBe(image(fixed));
      expect(available(d)).toBe(true);
    }
  });

  it("uninstalls a first install left in pending-install by a cancelled run, then installs", async () => {
    const ns = "first-install";
    const workspace = scratchWorkspace();
    const file = join(workspace, "environments", targetFile);
    writeFileSync(file, readFileSync(file, "utf8").replace("namespace: content-engine", `namespace: ${ns}`));
    await cancelledHelm(
      [
        "install",
        release,
        join(repositoryRoot, "helm", "content-engine"),
        "--namespace",
        ns,
        "--create-namespace",
        "--values",
        join(repositoryRoot, "helm", "content-engine", "ci", "minimal-values.yaml"),
        "--set",
        `image.repository=${repository}`,
      ],
      ns,
      "pending-install",
    );
    const run = await deployHelm({ digest: good }, cluster.kubeconfig, workspace);
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.status).toBe("succeeded");
    expect(run.stdout).toContain(
      "release content-engine was stuck in pending-install at revision 1: uninstalled it",
    );
    expect(await releaseRecords(ns)).toEqual([{ version: 1, status: "deployed" }]);
  });

  it("plans against the server: unchanged for the live digest, a diff for a new one, nothing applied", async () => {
    const same = await deployHelm({ digest: fixed, plan: "true" });
    expect(same.code, same.stdout).toBe(0);
    expect(same.outputs.status).toBe("unchanged");
    const next = await deployHelm({ digest: digest("d"), plan: "true" });
    expect(next.code, next.stdout).toBe(0);
    expect(next.outputs.status).toBe("planned");
    const plan = JSON.parse(next.outputs.plan!) as {
      changes: { field: string; from?: string; to?: string }[];
    };
    expect(plan.changes).toEqual([{ field: "image.digest", from: fixed, to: digest("d") }]);
    expect(next.summary).toContain(`-          image: ${image(fixed)}`);
    expect(next.summary).toContain(`+          image: ${image(digest("d"))}`);
    expect((await releaseRecords()).at(-1)).toEqual({ version: 6, status: "deployed" });
  });

  it("drift: sees a hand `helm rollback` of the release and reconciles it back to the file's digest", async () => {
    const rolledBack = await runCommand(helm, [
      "rollback",
      release,
      "1",
      "--namespace",
      namespace,
      "--wait",
      "--kubeconfig",
      cluster.kubeconfig,
    ]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const env = testEnvironment([
      [["platform"], "eks"],
      [["image", "digest"], fixed],
    ]);
    // No AWS here: the alarms and dashboards rows are unreadable (port 9 refuses), the release is what is checked.
    const options = {
      env,
      kubeconfig: cluster.kubeconfig,
      helm,
      aws: { endpoint: "http://127.0.0.1:9", maxAttempts: 1, credentials: MOTO_CREDENTIALS },
      reporter: memoryReporter(),
    };
    const seen = await detectDrift({ ...options, reconcile: false });
    const releaseRow = seen.resources.find((r) => r.kind === "helm-release")!;
    expect(releaseRow.differs).toBe(true);
    expect(releaseRow.changes).toEqual([{ field: "image.digest", from: good, to: fixed }]);

    const repaired = await detectDrift({ ...options, reconcile: true });
    expect(repaired.reconciled?.map((o) => [o.operation, o.status])).toEqual([["deploy-helm", "succeeded"]]);
    expect(repaired.after?.find((r) => r.kind === "helm-release")?.differs).toBe(false);
    expect((await releaseRecords()).at(-1)).toEqual({ version: 8, status: "deployed" });
  });

  it("plan and deploy stop with one sentence when the API server refuses the kubeconfig's token", async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "refused-")), "config");
    const config = parse(readFileSync(cluster.kubeconfig, "utf8")) as {
      users: { user: { token: string } }[];
    };
    config.users[0]!.user.token = "not-a-token-the-server-knows";
    writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });
    const before = await releaseRecords();
    for (const inputs of [{ plan: "true" }, { plan: "false" }]) {
      const run = await deployHelm({ digest: digest("e"), ...inputs }, kubeconfig);
      expect(run.code).toBe(1);
      expect(errorLines(run)).toEqual([
        `::error::cannot reach the Kubernetes API server ${cluster.server}: it refused the credentials (401) (check the kubeconfig ${kubeconfig})`,
      ]);
    }
    expect(await releaseRecords()).toEqual(before);
  });

  describe("values layers, then helm rollback and uninstall from the CLI (namespace layers)", () => {
    const ns = "layers";
    const workspace = scratchWorkspace();
    const envFile = join(workspace, "environments", targetFile);
    updateEnvironmentFile(envFile, [
      { path: ["platform"], value: "eks" },
      { path: ["eks", "namespace"], value: ns },
      { path: ["eks", "valuesFiles"], value: ["deploy/values.yaml"] },
      { path: ["eks", "set"], value: { "config.logLevel": "warn" } },
    ]);
    mkdirSync(join(workspace, "deploy"));
    writeFileSync(
      join(workspace, "deploy", "values.yaml"),
      "podAnnotations: { team: search }\nconfig: { logLevel: info }\n",
    );
    const options = (set: string[]) => ({
      env: loadEnvironment(target.name, join(workspace, "environments")),
      digest: good,
      helm,
      kubeconfig: cluster.kubeconfig,
      timeoutSeconds: 60,
      repositoryRoot: workspace,
      values: { set },
      reporter: memoryReporter(),
    });
    /** LOG_LEVEL of the release's ConfigMap and the API Deployment's pod annotations, from the API server. */
    async function live() {
      const maps = await getJson<{ items: { data?: Record<string, string> }[] }>(
        cluster.access,
        `/api/v1/namespaces/${ns}/configmaps`,
      );
      const api = await getJson<{
        spec: { template: { metadata: { annotations?: Record<string, string> } } };
      }>(cluster.access, `/apis/apps/v1/namespaces/${ns}/deployments/content-engine-api`);
      return {
        logLevel: maps.items.find((m) => m.data?.LOG_LEVEL)?.data?.LOG_LEVEL,
        team: api.spec.template.metadata.annotations?.team,
      };
    }
    const contentEngine = (args: string[]) => contentEngineIn(workspace, args);

    it("deploys the run's set over eks.set over eks.valuesFiles over the chart, and a repeat is unchanged", async () => {
      const first = await deployHelmRelease(options(["config.logLevel=debug"]));
      expect(first.status, first.reason).toBe("succeeded");
      // set (debug) > eks.set (warn) > eks.valuesFiles (info, and the annotation) > chart
      expect(await live()).toEqual({ logLevel: "debug", team: "search" });
      const again = await deployHelmRelease(options(["config.logLevel=debug"]));
      expect(again.status).toBe("unchanged");
      // Without the run's pair, eks.set wins: the release changes.
      const plan = await planHelm(options([]));
      expect(plan.changes).toContainEqual({
        field: `config.logLevel (eks.set of ${envFile})`,
        from: "debug",
        to: "warn",
      });
      expect(plan.details[0]).toContain(`2. eks.valuesFiles of ${envFile} deploy/values.yaml`);
      const second = await deployHelmRelease(options([]));
      expect(second.status, second.reason).toBe("succeeded");
      expect(await live()).toEqual({ logLevel: "warn", team: "search" });
      expect(await releaseRecords(ns)).toEqual([
        { version: 1, status: "superseded" },
        { version: 2, status: "deployed" },
      ]);
    });

    it("helm rollback prints what it returns to, then returns the release to the revision before", async () => {
      const planOnly = contentEngine(["helm", "rollback", "--plan"]);
      expect(planOnly.status, planOnly.stderr).toBe(0);
      expect(planOnly.stdout).toContain(
        `### 📝 plan: helm-rollback ${target.eks!.cluster}/layers/content-engine`,
      );
      expect(planOnly.stdout).toContain("| revision | `2` | `1` |");
      // What returns: the values that differ, besides the revision and the digest.
      expect(planOnly.stdout).toContain("| config.logLevel | `warn` | `debug` |");
      expect(await releaseRecords(ns)).toHaveLength(2);

      // 120 s: the rollout's deadline, not a timing (the CLI's default is helm's 600 s).
      const run = contentEngine(["helm", "rollback", "--timeout", "120"]);
      expect(run.status, `${run.stdout}${run.stderr}${await clusterState(ns)}`).toBe(0);
      // The plan first, then what happened.
      expect(run.stdout.indexOf("| revision | `2` | `1` |")).toBeGreaterThan(-1);
      expect(run.stdout.indexOf("| revision | `2` | `1` |")).toBeLessThan(
        run.stdout.indexOf("rolled back to revision 1"),
      );
      expect(await live()).toEqual({ logLevel: "debug", team: "search" });
      expect(await releaseRecords(ns)).toEqual([
        { version: 1, status: "superseded" },
        { version: 2, status: "superseded" },
        { version: 3, status: "deployed" },
      ]);
    });

    it("helm uninstall lists the objects it removes, then removes them and the release", async () => {
      const planOnly = contentEngine(["helm", "uninstall", "--plan", "--json"]);
      expect(planOnly.status, planOnly.stderr).toBe(0);
      const plan = JSON.parse(planOnly.stdout) as { changes: unknown[]; details: string[] };
      expect(plan.changes).toEqual(
        [
          { field: "release", from: "content-engine revision 3 (deployed)", to: undefined },
          { field: "image.digest", from: good, to: undefined },
        ].map((c) => JSON.parse(JSON.stringify(c))),
      );
      expect(plan.details[0]).toContain("Deployment content-engine-api");
      expect(plan.details[0]).toContain("Deployment content-engine-worker");
      const before = await getJson<{ items: unknown[] }>(
        cluster.access,
        `/apis/apps/v1/namespaces/${ns}/deployments`,
      );
      expect(before.items).toHaveLength(2);

      const run = contentEngine(["helm", "uninstall"]);
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain(
        `### 📝 plan: helm-uninstall ${target.eks!.cluster}/layers/content-engine`,
      );
      expect(await releaseRecords(ns)).toEqual([]);
      const left = await getJson<{ items: unknown[] }>(
        cluster.access,
        `/apis/apps/v1/namespaces/${ns}/deployments`,
      );
      expect(left.items).toEqual([]);
      // Nothing left to act on: said in one line.
      const again = contentEngine(["helm", "rollback"]);
      expect(again.status).toBe(2);
      expect(again.stderr).toBe(
        `content-engine: release content-engine does not exist in namespace layers of ${target.eks!.cluster}: nothing to roll back\n`,
      );
    });
  });

  describe("a helm rollback whose pods never turn Ready (namespace rollback-broken)", () => {
    const ns = "rollback-broken";
    const workspace = scratchWorkspace();
    updateEnvironmentFile(join(workspace, "environments", targetFile), [
      { path: ["platform"], value: "eks" },
      { path: ["eks", "namespace"], value: ns },
    ]);

    it("fails at its deadline naming the failing pods and their events, and helm records the failure", async () => {
      await markBroken();
      const options = (digest: string, timeoutSeconds: number) => ({
        env: loadEnvironment(target.name, join(workspace, "environments")),
        digest,
        helm,
        kubeconfig: cluster.kubeconfig,
        timeoutSeconds,
        repositoryRoot: workspace,
        reporter: memoryReporter(),
      });
      // 120 s: a deadline, not a timing; 15 s: how long never-Ready pods are waited for.
      const installed = await deployHelmRelease(options(good, 120));
      expect(installed.status, installed.reason).toBe("succeeded");
      expect((await deployHelmRelease(options(broken, 15))).status).toBe("rolled_back");
      expect(await releaseRecords(ns)).toEqual([
        { version: 1, status: "superseded" },
        { version: 2, status: "failed" },
        { version: 3, status: "deployed" },
      ]);

      // Back to the broken revision, by number: its pods never turn Ready.
      const run = contentEngineIn(workspace, ["helm", "rollback", "--revision", "2", "--timeout", "15"]);
      expect(run.status, run.stdout + run.stderr).toBe(1);
      expect(run.stdout).toContain("timed_out");
      expect(run.stdout).toMatch(/helm rollback to revision 2 failed: .*; failing pods: content-engine-/);
      expect(run.stdout).toMatch(/failing pod content-engine-(api|worker)-[a-z0-9-]+ \(/);
      expect(run.stdout).toContain("Readiness probe failed");
      expect((await releaseRecords(ns)).at(-1)).toEqual({ version: 4, status: "failed" });
    });
  });

  it("installs a chart pulled from the registry by version, and upgrades when only the chart version moves", async () => {
    const ns = "oci-chart";
    const oci = `oci://${registry.host}/charts/content-engine`;
    const first = pushChart(registry.host, "1.2.3");
    const env = (version: string) =>
      testEnvironment([
        [["platform"], "eks"],
        [["eks", "namespace"], ns],
        [["eks", "chart"], { oci, version }],
      ]);
    // 120 s: the rollout's deadline, not a timing (about 5 s alone; a loaded machine's kwok takes longer).
    const options = { digest: good, helm, kubeconfig: cluster.kubeconfig, timeoutSeconds: 120 };
    const chartLabel = async () =>
      (
        await getJson<{ metadata: { labels: Record<string, string> } }>(
          cluster.access,
          `/apis/apps/v1/namespaces/${ns}/deployments/content-engine-api`,
        )
      ).metadata.labels["helm.sh/chart"];

    const reporter = memoryReporter();
    const installed = await deployHelmRelease({ ...options, env: env("1.2.3"), reporter });
    expect(installed.status, installed.reason).toBe("succeeded");
    expect(reporter.lines).toContain(`chart ${oci}:1.2.3: pulled and verified ${first}`);
    expect(await chartLabel()).toBe("content-engine-1.2.3");

    // Same values, a new chart version: a change, not "unchanged".
    const second = pushChart(registry.host, "1.2.4");
    const plan = await planHelm({ ...options, env: env("1.2.4"), reporter: memoryReporter() });
    expect(plan.changes).toContainEqual({
      field: "chart",
      from: "content-engine-1.2.3",
      to: `${oci}:1.2.4 (${second})`,
    });
    const upgraded = await deployHelmRelease({ ...options, env: env("1.2.4"), reporter: memoryReporter() });
    expect(
      upgraded.status,
      `${upgraded.reason}\n${upgraded.diagnostics.join("\n")}${await clusterState(ns)}`,
    ).toBe("succeeded");
    expect(await chartLabel()).toBe("content-engine-1.2.4");
    const again = await deployHelmRelease({ ...options, env: env("1.2.4"), reporter: memoryReporter() });
    expect(again.status).toBe("unchanged");
    expect(await releaseRecords(ns)).toEqual([
      { version: 1, status: "superseded" },
      { version: 2, status: "deployed" },
    ]);
  });

  describe("after the control plane stops", () => {
    let bystander: ChildProcess | undefined;
    afterAll(() => {
      bystander?.kill("SIGKILL");
    });

    it("stop() ends exactly the processes it started, and plan and deploy then fail clearly", async () => {
      const kubeconfig = join(mkdtempSync(join(tmpdir(), "stale-")), "config");
      copyFileSync(cluster.kubeconfig, kubeconfig);
      const { pids, dir, server } = cluster;
      bystander = spawn("sleep", ["300"], { stdio: "ignore" });
      await cluster.stop();
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(Object.keys(pids).sort()).toEqual([
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
      ]);
      expect(Object.values(pids).filter(alive)).toEqual([]);
      expect(alive(bystander.pid!)).toBe(true);
      expect(existsSync(dir)).toBe(false);

      for (const inputs of [{ plan: "true" }, { plan: "false" }]) {
        const run = await deployHelm({ digest: digest("e"), ...inputs }, kubeconfig);
        expect(run.code).toBe(1);
        expect(run.outputs.status).toBe("failed");
        expect(errorLines(run)).toEqual([
          expect.stringMatching(
            new RegExp(
              `^::error::cannot reach the Kubernetes API server ${server.replace(/\./g, "\\.")}: connect ECONNREFUSED 127\\.0\\.0\\.1:\\d+ \\(check the kubeconfig ${kubeconfig.replace(/\./g, "\\.")}\\)$`,
            ),
          ),
        ]);
      }
    });
  });
});

// The collector proof: the metrics path of each platform, run here with real binaries.
// - ECS: the collector (Prometheus in agent mode, the Debian binary) runs the very configuration
//   terraform ships to the sidecar (terraform/modules/metrics/prometheus-agent.yml.tftpl), scrapes
//   the local stack's API and consumer, and remote-writes with SigV4.
// - EKS: a second agent scrapes the same processes as the chart's ServiceMonitors tell a cluster's
//   Prometheus to (their relabelings, rendered by the real helm), and remote-writes too.
// Both write to a Prometheus that accepts remote write: the stand-in for the environment's Amazon
// Managed Service for Prometheus workspace. Then every PromQL panel query of the dashboards of each
// platform, with its variables set as the deployed dashboard sets them, must return data there.
import { fileURLToPath } from "node:url";
import {
  type Environment,
  environmentNames,
  kubernetesNames,
  loadEnvironment,
} from "@content-engine/environments";
import { familyOfSeries, promqlReferences } from "@content-engine/telemetry";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../../services/local/test/support.ts";
import { driveLoad } from "../../services/telemetry/test/load.ts";
import { renderAgentConfig } from "../src/collector.ts";
import { renderDashboards, repositoryEnvironmentsDir } from "../src/generate.ts";
import { platformDashboard } from "../src/platform.ts";
import { dashboardQueries, dashboardVariableValues, resolveGrafanaVariables } from "../src/queries.ts";
import { serviceOverviewDashboard } from "../src/service-overview.ts";
import { startKubernetesExporters } from "./support/kubernetes-exporters.ts";
import { type RunningPrometheus, startPrometheus } from "./support/prometheus.ts";
import { renderedChart, scrapeConfigFor } from "./support/service-monitors.ts";

/** The generated prod alerting rules (alarms/), evaluated by the store every second. */
const alertingRules = fileURLToPath(
  new URL("../../alarms/generated/prod/prometheus-rules.yaml", import.meta.url),
);

/** The environment whose ECS deployment the sidecar's configuration plays (its env label). */
const PROVEN = "dev";
/** The environment played as if on EKS, through the chart's ServiceMonitors (its CI values). */
const PROVEN_EKS = "staging";

interface PanelQuery {
  dashboard: string;
  panel: string;
  /** As Grafana sends it: variables resolved. */
  expr: string;
}

function queriesOf(
  dashboards: Array<Record<string, unknown>>,
  kind: "prometheus" | "annotation",
): PanelQuery[] {
  return dashboards.flatMap((json) => {
    const variables = dashboardVariableValues(json);
    const platform = (json.tags as string[]).includes("eks") ? "EKS" : "ECS";
    return dashboardQueries(json)
      .filter((q) => q.kind === kind)
      .map((q) => ({
        dashboard: `${q.dashboard} (${platform})`,
        panel: q.panel,
        expr: resolveGrafanaVariables(q.expr!, variables),
      }));
  });
}

const committed = [...renderDashboards().entries()]
  .filter(([path]) => path.startsWith("grafana/"))
  .map(([path, content]) => ({ path, json: JSON.parse(content) as Record<string, unknown> }));

/** The environment as if it ran on EKS: the chart's consumer and pods instead of ECS and Lambda. */
function onEks(env: Environment): Environment {
  return { ...env, platform: "eks" };
}

const proven = loadEnvironment(PROVEN, repositoryEnvironmentsDir);
const provenEks = onEks(loadEnvironment(PROVEN_EKS, repositoryEnvironmentsDir));
const provenDashboards = [
  // What is deployed today: the ECS dashboards of the environment.
  ...committed.filter((d) => d.path.startsWith(`grafana/${PROVEN}-`)).map((d) => d.json),
  // What an EKS environment gets: rendered here, since no environment file runs on EKS yet.
  ...[serviceOverviewDashboard(provenEks), platformDashboard(provenEks)].map(
    (d): Record<string, unknown> => ({ ...d.toGrafana() }),
  ),
];
const panelQueries = queriesOf(provenDashboards, "prometheus");
const annotationQueries = queriesOf(provenDashboards, "annotation");

/**
 * Series that need a cluster: the EKS exporters (cAdvisor, kube-state-metrics, KEDA) run in the
 * cluster and are scraped by the cluster's Prometheus, not by our collector, which adds `env` as an
 * external label when it remote-writes. No cluster runs here, so their queries read a stand-in
 * exporter of the catalog's shape that the store scrapes directly with the same `env` label.
 */
const NEEDS_A_CLUSTER =
  "served by the EKS cluster's own exporters (cAdvisor, kube-state-metrics, KEDA), scraped by the cluster's Prometheus: a stand-in here";
function needsACluster(expr: string): boolean {
  return promqlReferences(expr).metrics.some((m) => familyOfSeries(m)?.origin === "kubernetes");
}

let stack: Awaited<ReturnType<typeof startTestStack>>;
let exporters: Awaited<ReturnType<typeof startKubernetesExporters>>;
let store: RunningPrometheus;
let collector: RunningPrometheus;
let clusterPrometheus: RunningPrometheus;
let loading = true;
let background: Promise<void>;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  exporters = await startKubernetesExporters(kubernetesNames(provenEks));
  store = await startPrometheus({
    remoteWriteReceiver: true,
    targets: { "kubernetes-exporters": { url: exporters.url, labels: { env: PROVEN_EKS } } },
    ruleFiles: [alertingRules],
  });
  collector = await startPrometheus({
    agent: true,
    config: renderAgentConfig({
      environment: PROVEN,
      region: proven.region,
      remoteWriteUrl: `${store.url}/api/v1/write`,
      apiTargets: [new URL(stack.apiUrl).host],
      workerTargets: [new URL(stack.workerUrl!).host],
      scrapeInterval: "1s",
      scrapeTimeout: "1s",
      batchSendDeadline: "1s",
    }),
    // SigV4 signs with these, as the ECS task role's credentials would be; the store ignores the signature.
    env: { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_SESSION_TOKEN: "" },
  });
  clusterPrometheus = await startPrometheus({
    agent: true,
    config: scrapeConfigFor(
      renderedChart(PROVEN_EKS, provenEks.eks!.release),
      { api: new URL(stack.apiUrl).host, worker: new URL(stack.workerUrl!).host },
      `${store.url}/api/v1/write`,
    ),
  });
  await driveLoad(stack, 5);
  // Keep a trickle of jobs going so every rate has recent increments to show.
  background = (async () => {
    while (loading) {
      await driveLoad(stack, 1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const deadline = Date.now() + 45_000;
  for (;;) {
    const ready = await store.query(
      `count(up{env="${PROVEN}"} == 1) == 2 and on() count(up{env="${PROVEN_EKS}"} == 1) == 3 and on() sum(rate(content_engine_jobs_processed_total{env="${PROVEN_EKS}", service="worker"}[1m])) > 0 and on() count(count_over_time(content_engine_http_requests_total{env="${PROVEN}", service="api"}[1m]) > 5) > 0`,
    );
    if (ready.data?.result.length) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the store did not receive both services' series with job traffic within 45 s\ncollector: ${collector.output()}\ncluster prometheus: ${clusterPrometheus.output()}\nstore: ${store.output()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}, 90_000);

afterAll(async () => {
  loading = false;
  await background;
  await collector?.stop();
  await clusterPrometheus?.stop();
  await store?.stop();
  await exporters?.stop();
  await stack?.stop();
});

describe("the collectors, as deployed", () => {
  it("EKS: the chart's ServiceMonitors relabel env and replace the Service name in service with the component", async () => {
    const byService = await store.query(
      `count by (env, service, job) (up{env="${PROVEN_EKS}", namespace="content-engine"})`,
    );
    expect(
      byService.data?.result.map((r) => `${r.metric.env} ${r.metric.service} ${r.metric.job}`).sort(),
    ).toEqual([
      `${PROVEN_EKS} api ${provenEks.eks!.release}-api`,
      `${PROVEN_EKS} worker ${provenEks.eks!.release}-worker-metrics`,
    ]);
  });

  it("ECS: the sidecar's configuration adds env and service to every series it writes, and nothing arrives without them", async () => {
    const byService = await store.query(`count by (env, service, job) ({job=~"api|worker"})`);
    expect(
      byService.data?.result.map((r) => `${r.metric.env} ${r.metric.service} ${r.metric.job}`).sort(),
    ).toEqual([`${PROVEN} api api`, `${PROVEN} worker worker`]);
    const unlabelled = await store.query(
      `count({job=~"api|worker", env=""}) or count({job=~"api|worker", service=""})`,
    );
    expect(unlabelled.data?.result).toEqual([]);
  });
});

describe("every PromQL panel query, with the deployed dashboard's variables, on the store", () => {
  it("finds the panels of both platforms and the deploy-marker annotation to check", () => {
    expect(panelQueries.length).toBeGreaterThanOrEqual(25);
    expect(new Set(panelQueries.map((q) => q.dashboard)).size).toBe(4);
    expect(annotationQueries.length).toBeGreaterThanOrEqual(1);
    for (const q of panelQueries) expect(q.expr, `${q.panel}: a variable left unresolved`).not.toMatch(/\$/);
  });

  it("lists the queries that need a cluster, each with the reason", () => {
    const listed = panelQueries.filter((q) => needsACluster(q.expr)).map((q) => q.panel);
    expect(new Set(listed)).toEqual(
      new Set([
        "Pod CPU",
        "Pod memory (working set)",
        "Available replicas",
        "KEDA: queue length and worker replicas",
      ]),
    );
    expect(NEEDS_A_CLUSTER).toMatch(/cluster/);
  });

  it.each(
    panelQueries.map((q) => [
      `${q.dashboard} / ${q.panel}${needsACluster(q.expr) ? ` (${NEEDS_A_CLUSTER})` : ""}`,
      q,
    ]),
  )("returns data: %s", async (_name, q) => {
    const result = await store.query(q.expr);
    expect(result.status, result.error).toBe("success");
    const values = (result.data?.result ?? []).map((series) => Number(series.value[1]));
    expect(values.length, `no series for ${q.expr}`).toBeGreaterThan(0);
    expect(values.some(Number.isFinite), `only NaN/Inf for ${q.expr}: ${values.join(", ")}`).toBe(true);
  });

  it.each(annotationQueries.map((q) => [q.panel, q]))("accepts the annotation %s", async (_name, q) => {
    const result = await store.query(q.expr);
    expect(result.status, result.error).toBe("success");
  });

  it("fails a query that selects another environment: a pass above means the env label matched", async () => {
    const api = panelQueries.find((q) => q.panel === "Upload throughput")!;
    const result = await store.query(api.expr.replace(`env="${PROVEN}"`, 'env="prod"'));
    expect(result.status).toBe("success");
    expect(result.data?.result).toEqual([]);
  });

  it("every other environment runs the same queries, each selecting its own env", () => {
    const exprs = (name: string) =>
      queriesOf(
        committed.filter((d) => d.path.startsWith(`grafana/${name}-`)).map((d) => d.json),
        "prometheus",
      ).map((q) => q.expr);
    const dev = exprs(PROVEN);
    const others = environmentNames(repositoryEnvironmentsDir).filter((name) => name !== PROVEN);
    expect(others.length).toBeGreaterThan(0);
    for (const name of others) {
      const own = exprs(name);
      expect(
        own.every((e) => e.includes(`env="${name}"`)),
        name,
      ).toBe(true);
      expect(own.map((e) => e.replaceAll(`env="${name}"`, `env="${PROVEN}"`))).toEqual(dev);
    }
  });
});

describe("the generated alerting rules, loaded by the store", () => {
  it("all load and evaluate against the live series without an error", async () => {
    const deadline = Date.now() + 20_000;
    let rules = (await store.rules()).data.groups.flatMap((g) => g.rules);
    while (rules.some((r) => r.lastEvaluation.startsWith("0001")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      rules = (await store.rules()).data.groups.flatMap((g) => g.rules);
    }
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect(rule.lastEvaluation, rule.name).not.toMatch(/^0001/);
      expect(`${rule.name}: ${rule.health} ${rule.lastError ?? ""}`.trim()).toBe(`${rule.name}: ok`);
    }
  });

  it("stay quiet on a healthy stack: no 5xx, no failed or stale jobs", async () => {
    const firing = (await store.rules()).data.groups
      .flatMap((g) => g.rules)
      .filter((r) => r.state !== "inactive")
      .map((r) => r.name);
    expect(firing.filter((name) => /Api5xx|JobsFailed|Burn/.test(name))).toEqual([]);
  });
});

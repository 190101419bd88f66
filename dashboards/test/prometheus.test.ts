import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadEnvironment } from "@content-engine/environments";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack } from "../../services/local/test/support.ts";
import { driveLoad } from "../../services/telemetry/test/load.ts";
import { renderDashboards, repositoryEnvironmentsDir } from "../src/generate.ts";
import { kubernetesNames } from "../src/platform.ts";
import { dashboardQueries, resolveGrafanaVariables } from "../src/queries.ts";
import { startKubernetesExporters } from "./support/kubernetes-exporters.ts";
import { type RunningPrometheus, startPrometheus } from "./support/prometheus.ts";

/** The generated prod alerting rules (alarms/), evaluated by the same Prometheus every second. */
const alertingRules = fileURLToPath(
  new URL("../../alarms/generated/prod/prometheus-rules.yaml", import.meta.url),
);

const queries = [...renderDashboards().entries()]
  .filter(([path]) => path.startsWith("grafana/"))
  .flatMap(([, content]) => dashboardQueries(JSON.parse(content)));
const panelExprs = [...new Set(queries.filter((q) => q.kind === "prometheus").map((q) => q.expr!))];
const annotationExprs = [...new Set(queries.filter((q) => q.kind === "annotation").map((q) => q.expr!))];

let stack: Awaited<ReturnType<typeof startTestStack>>;
let exporters: Awaited<ReturnType<typeof startKubernetesExporters>>;
let prometheus: RunningPrometheus;
let loading = true;
let background: Promise<void>;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  exporters = await startKubernetesExporters(
    kubernetesNames(loadEnvironment("dev", repositoryEnvironmentsDir)),
  );
  prometheus = await startPrometheus(
    { api: stack.apiUrl, worker: stack.workerUrl!, "kubernetes-exporters": exporters.url },
    [alertingRules],
  );
  await driveLoad(stack, 5);
  // Keep a trickle of jobs going so every rate has recent increments to show.
  background = (async () => {
    while (loading) {
      await driveLoad(stack, 1).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await prometheus.query(
      "count(up == 1) == 3 and on() sum(rate(content_engine_jobs_processed_total[1m])) > 0 and on() count(count_over_time(content_engine_http_requests_total[1m]) > 5) > 0",
    );
    if (ready.data?.result.length) break;
    if (Date.now() > deadline)
      throw new Error("prometheus did not scrape three targets with job traffic within 30 s");
    await new Promise((r) => setTimeout(r, 500));
  }
});

afterAll(async () => {
  loading = false;
  await background;
  await prometheus?.stop();
  await exporters?.stop();
  await stack?.stop();
});

describe("every dashboard query against a Prometheus that scraped the running stack", () => {
  it("finds the dashboards' PromQL queries and annotations to check", () => {
    expect(panelExprs.length).toBeGreaterThanOrEqual(20);
    expect(annotationExprs.length).toBeGreaterThanOrEqual(1);
  });

  it.each(panelExprs)("returns data for %s", async (expr) => {
    const result = await prometheus.query(resolveGrafanaVariables(expr));
    expect(result.status, result.error).toBe("success");
    const values = (result.data?.result ?? []).map((series) => Number(series.value[1]));
    expect(values.length, "no series").toBeGreaterThan(0);
    expect(values.some(Number.isFinite), `only NaN/Inf: ${values.join(", ")}`).toBe(true);
  });

  it.each(annotationExprs)("accepts the deploy-marker annotation %s", async (expr) => {
    const result = await prometheus.query(resolveGrafanaVariables(expr));
    expect(result.status, result.error).toBe("success");
  });

  it("rejects a query with a syntax error, so a pass above means Prometheus parsed the query", async () => {
    const result = await prometheus.query("sum by (route (rate(content_engine_http_requests_total[1m]))");
    expect(result.status).toBe("error");
  });
});

describe("the generated alerting rules, loaded by the same Prometheus", () => {
  it("all load and evaluate against the live series without an error", async () => {
    const deadline = Date.now() + 20_000;
    let rules = (await prometheus.rules()).data.groups.flatMap((g) => g.rules);
    while (rules.some((r) => r.lastEvaluation.startsWith("0001")) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      rules = (await prometheus.rules()).data.groups.flatMap((g) => g.rules);
    }
    expect(rules.length).toBe((readFileSync(alertingRules, "utf8").match(/^ {6}- alert: /gm) ?? []).length);
    for (const rule of rules) {
      expect(rule.lastEvaluation, rule.name).not.toMatch(/^0001/);
      expect(`${rule.name}: ${rule.health} ${rule.lastError ?? ""}`.trim()).toBe(`${rule.name}: ok`);
    }
  });

  it("stay quiet on a healthy stack: no 5xx, no failed or stale jobs", async () => {
    const firing = (await prometheus.rules()).data.groups
      .flatMap((g) => g.rules)
      .filter((r) => r.state !== "inactive")
      .map((r) => r.name);
    expect(firing.filter((name) => /Api5xx|JobsFailed|Burn/.test(name))).toEqual([]);
  });
});

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironment } from "@content-engine/environments";
import {
  awsMetrics,
  catalog,
  familyOfSeries,
  findAwsMetric,
  promqlReferences,
} from "@content-engine/telemetry";
import { describe, expect, it } from "vitest";
import { generatedDashboardsDir, renderDashboards, repositoryEnvironmentsDir } from "../src/generate.ts";
import {
  CLOUDWATCH,
  CloudWatchTarget,
  PROMETHEUS,
  PrometheusAnnotation,
  PrometheusTarget,
  SCHEMA_VERSION,
  TimeseriesPanel,
} from "../src/grafana.ts";

import { dashboardQueries } from "../src/queries.ts";

const rendered = renderDashboards();
const grafana = [...rendered.entries()]
  .filter(([path]) => path.startsWith("grafana/"))
  .map(([path, content]) => ({ path, json: JSON.parse(content) as Record<string, unknown> }));

interface PanelJson {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  fieldConfig?: { defaults: { unit?: string } };
  targets?: Array<{ datasource: { uid: string } }>;
}

describe("the committed dashboards", () => {
  it("are exactly what npm run generate writes (regenerate and commit when this fails)", () => {
    const committed = new Map<string, string>();
    for (const sub of readdirSync(generatedDashboardsDir)) {
      for (const file of readdirSync(join(generatedDashboardsDir, sub))) {
        committed.set(`${sub}/${file}`, readFileSync(join(generatedDashboardsDir, sub, file), "utf8"));
      }
    }
    expect([...committed.keys()].sort()).toEqual([...rendered.keys()].sort());
    for (const [path, content] of rendered) expect(committed.get(path), path).toBe(content);
  });

  it("render the same bytes twice (stable uids, ids and order)", () => {
    expect([...renderDashboards().entries()]).toEqual([...rendered.entries()]);
  });
});

describe.each(grafana)("Grafana dashboard $path", ({ json }) => {
  const panels = json.panels as PanelJson[];

  it("uses the current schema, a stable uid and no Graphite-era panels", () => {
    expect(json.schemaVersion).toBe(SCHEMA_VERSION);
    expect(json.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(json.uid).toMatch(/^ce-(dev|staging|prod)-(overview|platform)$/);
    expect(json).not.toHaveProperty("rows");
    for (const panel of panels) expect(["row", "timeseries", "stat", "table"]).toContain(panel.type);
  });

  it("lays panels on the 24-column grid without overlaps, with unique ids", () => {
    const cells = new Set<string>();
    for (const { gridPos: g, title } of panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it("gives every panel a description and a unit, and names datasources only through variables", () => {
    const variables = (json.templating as { list: Array<{ name: string; type: string }> }).list;
    expect(variables.map((v) => `${v.type}:${v.name}`)).toEqual([
      "datasource:datasource",
      "datasource:cloudwatch",
    ]);
    for (const panel of panels.filter((p) => p.type !== "row")) {
      expect(panel.description, panel.title).toBeTruthy();
      expect(panel.fieldConfig?.defaults.unit, panel.title).toBeTruthy();
      expect([PROMETHEUS.uid, CLOUDWATCH.uid]).toContain(panel.datasource?.uid);
      for (const target of panel.targets ?? []) expect(target.datasource.uid).toBe(panel.datasource?.uid);
    }
  });

  it("references only catalog metrics, labels, dimensions and statistics", () => {
    for (const q of dashboardQueries(json)) {
      if (q.kind === "cloudwatch") {
        const metric = findAwsMetric(q.namespace!, q.metricName!);
        expect(metric, `${q.panel}: ${q.namespace} ${q.metricName}`).toBeDefined();
        for (const dim of Object.keys(q.dimensions!)) expect(metric!.dimensions).toContain(dim);
        continue;
      }
      const refs = promqlReferences(q.expr!);
      expect(refs.metrics.length, q.expr).toBeGreaterThan(0);
      for (const name of refs.metrics) {
        const family = familyOfSeries(name);
        expect(family, `${q.panel}: ${name}`).toBeDefined();
        for (const label of refs.matchers[name] ?? [])
          expect(family!.labels, `${name}{${label}}`).toContain(label);
      }
    }
  });
});

describe("the Service overview", () => {
  const overview = grafana.find((d) => d.path === "grafana/prod-service-overview.json")!.json;
  const titles = (overview.panels as PanelJson[]).map((p) => p.title);

  it("shows the golden signals of the API, the queue and the worker", () => {
    expect(titles).toEqual(
      expect.arrayContaining([
        "Request rate by route",
        "Error ratio (5xx)",
        "Latency p50 / p95 / p99 by route",
        "Upload throughput",
        "Queue depth and in flight",
        "Age of oldest message",
        "DLQ depth",
        "Jobs per second by outcome",
        "Job duration p50 / p95 / p99",
        "Queue wait p50 / p95 / p99",
      ]),
    );
  });

  it("reads the environment's own queue and DLQ in CloudWatch", () => {
    const dims = dashboardQueries(overview)
      .filter((q) => q.kind === "cloudwatch" && q.namespace === "AWS/SQS")
      .map((q) => q.dimensions!.QueueName);
    expect(new Set(dims)).toEqual(new Set(["content-engine-prod-jobs", "content-engine-prod-jobs-dlq"]));
  });

  it("marks deploys (annotations the deploy step posts, by tag) and restarts", () => {
    const list = (overview.annotations as { list: Array<{ name: string; target?: { tags: string[] } }> })
      .list;
    expect(list.map((a) => a.name)).toEqual(["Annotations & Alerts", "Deploys", "Deploys and restarts"]);
    expect(list.find((a) => a.name === "Deploys")!.target!.tags).toEqual([
      "content-engine",
      "deploy",
      "prod",
    ]);
  });
});

describe("the CloudWatch dashboard", () => {
  it("carries every CloudWatch query of the environment's Grafana dashboards, in its region", () => {
    const env = loadEnvironment("staging", repositoryEnvironmentsDir);
    const body = JSON.parse(JSON.parse(rendered.get("cloudwatch/staging.json")!).DashboardBody) as {
      widgets: Array<{ properties: { region: string; metrics: unknown[][] } }>;
    };
    const inWidgets = body.widgets.flatMap((w) => w.properties.metrics.map((m) => `${m[0]} ${m[1]}`));
    const inGrafana = grafana
      .filter((d) => d.path.startsWith("grafana/staging-"))
      .flatMap((d) => dashboardQueries(d.json))
      .filter((q) => q.kind === "cloudwatch")
      .map((q) => `${q.namespace} ${q.metricName}`);
    expect(inWidgets.sort()).toEqual(inGrafana.sort());
    for (const w of body.widgets) expect(w.properties.region).toBe(env.region);
  });
});

describe("dashboard sources that reference what the catalog does not declare", () => {
  it("fail on a metric not in the catalog, naming it", () => {
    expect(() => new PrometheusTarget({ expr: "sum(rate(content_engine_widgets_total[5m]))" })).toThrow(
      /metric content_engine_widgets_total is not in the telemetry catalog/,
    );
  });

  it("fail on a label outside the metric's set, naming it", () => {
    expect(
      () => new PrometheusTarget({ expr: `sum by (tenant) (rate(${catalog.httpRequests.name}[5m]))` }),
    ).toThrow(/grouping label tenant/);
    expect(
      () => new PrometheusTarget({ expr: `rate(${catalog.httpRequests.name}{code="500"}[5m])` }),
    ).toThrow(/label code is not declared for content_engine_http_requests_total/);
    expect(() => new PrometheusAnnotation("x", `${catalog.jobsProcessed.name}{le="1"}`, "")).toThrow(
      /label le/,
    );
  });

  it("fail on an undeclared CloudWatch dimension or a statistic that does not apply", () => {
    const base = { metric: awsMetrics.sqsAgeOfOldestMessage, region: "eu-west-1" };
    expect(() => new CloudWatchTarget({ ...base, dimensions: { Queue: "q" }, statistic: "Maximum" })).toThrow(
      /dimension Queue is not declared/,
    );
    expect(() => new CloudWatchTarget({ ...base, dimensions: { QueueName: "q" }, statistic: "p99" })).toThrow(
      /statistic p99 does not apply/,
    );
  });

  it("fail on a panel that mixes Prometheus and CloudWatch queries", () => {
    const targets = [
      new PrometheusTarget({ expr: `sum(rate(${catalog.jobsEnqueued.name}[5m]))` }),
      new CloudWatchTarget({
        metric: awsMetrics.sqsMessagesSent,
        dimensions: { QueueName: "q" },
        statistic: "Sum",
        region: "eu-west-1",
      }),
    ];
    expect(() => new TimeseriesPanel({ title: "Mixed", description: "d", unit: "short", targets })).toThrow(
      /Mixed: mixes Prometheus and CloudWatch/,
    );
  });
});

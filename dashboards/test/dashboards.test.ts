// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Grafana variable references (${env}, ${alb}), not JS templates
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cloudWatchDashboardName, environmentNames, loadEnvironment } from "@content-engine/environments";
import {
  awsMetrics,
  catalog,
  familyOfSeries,
  findAwsMetric,
  promqlReferences,
  runtimeMetrics,
} from "@content-engine/telemetry";
import { describe, expect, it } from "vitest";
import { generatedDashboardsDir, renderDashboards, repositoryEnvironmentsDir } from "../src/generate.ts";
import { PrometheusAnnotation } from "../src/grafana/annotations.ts";
import { SCHEMA_VERSION } from "../src/grafana/dashboard.ts";
import { TimeseriesPanel } from "../src/grafana/panels.ts";
import { CLOUDWATCH, CloudWatchTarget, PROMETHEUS, PrometheusTarget } from "../src/grafana/targets.ts";
import type { DashboardManifest } from "../src/manifest.ts";

import { platformDashboard } from "../src/platform.ts";
import { dashboardQueries, resolveGrafanaVariables } from "../src/queries.ts";
import { serviceOverviewDashboard } from "../src/service-overview.ts";

// The environments are the files: every test below covers each one there is.
const ENVIRONMENT_NAMES = environmentNames();

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
  fieldConfig?: { defaults: { unit?: string; custom?: Record<string, unknown> } };
  targets?: Array<{ datasource: { uid: string } }>;
}

/** The dashboards of an environment as if it ran on EKS (no environment file does yet). */
const eksVariant = (name: string) => {
  const env = { ...loadEnvironment(name, repositoryEnvironmentsDir), platform: "eks" as const };
  return [serviceOverviewDashboard(env), platformDashboard(env)].map(
    (d): Record<string, unknown> => ({ ...d.toGrafana() }),
  );
};

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
    expect(variables.map((v) => `${v.type}:${v.name}`)).toEqual(
      expect.arrayContaining(["datasource:datasource", "datasource:cloudwatch", "constant:env"]),
    );
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
      const refs = promqlReferences(resolveGrafanaVariables(q.expr!));
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

describe.each([
  ...grafana.map(({ path, json }) => ({ name: path, json })),
  ...ENVIRONMENT_NAMES.flatMap((env) =>
    eksVariant(env).map((json) => ({ name: `${env} on EKS: ${json.title}`, json })),
  ),
])("scoping of $name", ({ json }) => {
  const env = (json.templating as { list: Array<{ name: string; query?: unknown; type: string }> }).list.find(
    (v) => v.name === "env",
  );

  it("fixes the env variable to the environment the dashboard is published to", () => {
    expect(env?.type).toBe("constant");
    expect(String(json.title)).toContain(`content-engine ${env?.query} /`);
  });

  it("selects env in every PromQL selector, and the service wherever a service's own series are read", () => {
    const prom = dashboardQueries(json).filter((q) => q.kind !== "cloudwatch");
    expect(prom.length).toBeGreaterThan(0);
    for (const q of prom) {
      const refs = promqlReferences(resolveGrafanaVariables(q.expr!));
      for (const metric of refs.metrics) {
        expect(refs.matchers[metric], `${q.panel}: ${metric} without env`).toContain("env");
        if (familyOfSeries(metric)?.origin === "service")
          expect(refs.matchers[metric], `${q.panel}: ${metric} without service`).toContain("service");
      }
      expect(q.expr, q.panel).toContain('env="${env}"');
    }
  });

  it("defines every variable its queries use", () => {
    const defined = new Set(
      (json.templating as { list: Array<{ name: string }> }).list
        .map((v) => v.name)
        .concat(["__rate_interval"]),
    );
    const used = JSON.stringify(json.panels).match(/\$\{?(\w+)/g) ?? [];
    for (const ref of used) expect(defined, ref).toContain(ref.replace(/^\$\{?/, ""));
  });
});

describe("dashboards per platform", () => {
  const titles = (json: Record<string, unknown>) => (json.panels as PanelJson[]).map((p) => p.title);
  const metricNames = (json: Record<string, unknown>) =>
    dashboardQueries(json).flatMap((q) =>
      q.kind === "cloudwatch"
        ? [`${q.namespace}`]
        : promqlReferences(resolveGrafanaVariables(q.expr!)).metrics,
    );

  it.each(grafana)("ECS ($path): no EKS row, pod or KEDA series", ({ json }) => {
    expect(titles(json).filter((t) => /EKS|KEDA|Pod /.test(t))).toEqual([]);
    expect(metricNames(json).filter((m) => familyOfSeries(m)?.origin === "kubernetes")).toEqual([]);
  });

  it.each(ENVIRONMENT_NAMES)("EKS (%s): no ECS, Lambda or ALB row or metric", (name) => {
    const dashboards = eksVariant(name);
    expect(dashboards.flatMap(titles)).toEqual(
      expect.arrayContaining(["Pod CPU", "Jobs per second by outcome"]),
    );
    for (const json of dashboards) {
      expect(titles(json).filter((t) => /ECS|Lambda|ALB|EMF/.test(t))).toEqual([]);
      expect(
        metricNames(json).filter((m) =>
          ["AWS/ECS", "ECS/ContainerInsights", "AWS/Lambda", "AWS/ApplicationELB", "ContentEngine"].includes(
            m,
          ),
        ),
      ).toEqual([]);
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
        "Jobs by outcome (EMF)",
        "Rejected (client) and failed (system) jobs",
        "Job duration p50 / p95 / p99",
        "Queue wait p50 / p95 / p99",
      ]),
    );
  });

  it("shows the ALB's golden signals on ECS: requests, target and ELB 5xx, p50/p99 latency, healthy hosts", () => {
    const alb = dashboardQueries(overview).filter((q) => q.namespace === "AWS/ApplicationELB");
    expect(alb.map((q) => `${q.metricName} ${q.statistic}`).sort()).toEqual(
      [
        "RequestCount Sum",
        "HTTPCode_Target_5XX_Count Sum",
        "HTTPCode_ELB_5XX_Count Sum",
        "TargetResponseTime p50",
        "TargetResponseTime p99",
        "HealthyHostCount Minimum",
        "UnHealthyHostCount Maximum",
      ].sort(),
    );
    for (const q of alb) expect(q.dimensions!.LoadBalancer).toBe("${alb}");
    const variables = (overview.templating as { list: Array<{ name: string; regex?: string }> }).list;
    expect(variables.find((v) => v.name === "alb")?.regex).toBe("/^app\\/content-engine-prod\\/[0-9a-f]+$/");
  });

  it("reads the Lambda worker's outcomes from its EMF records, rejected and failed apart", () => {
    const emf = dashboardQueries(overview).filter(
      (q) => q.namespace === "ContentEngine" && q.metricName === "JobsProcessed",
    );
    const faults = emf.filter((q) => q.panel === "Rejected (client) and failed (system) jobs");
    expect(faults.map((q) => q.dimensions!.outcome)).toEqual(["rejected", "failed"]);
    const routine = emf.filter((q) => q.panel === "Jobs by outcome (EMF)").map((q) => q.dimensions!.outcome);
    expect(routine).not.toContain("rejected");
    expect(routine).not.toContain("failed");
  });

  it("gives the table panel the field options Grafana's schema requires (align, inspect)", () => {
    const tables = (overview.panels as PanelJson[]).filter((p) => p.type === "table");
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) {
      expect(table.fieldConfig?.defaults.custom).toMatchObject({ align: "auto", inspect: false });
    }
  });

  it("reads the environment's own queue and DLQ in CloudWatch", () => {
    const dims = dashboardQueries(overview)
      .filter((q) => q.kind === "cloudwatch" && q.namespace === "AWS/SQS")
      .map((q) => q.dimensions!.QueueName);
    expect(new Set(dims)).toEqual(new Set(["content-engine-prod-jobs", "content-engine-prod-jobs-dlq"]));
  });

  it("charts the Node runtime the services export: GC, heap, event-loop p99, open file descriptors", () => {
    const platform = grafana.find((d) => d.path === "grafana/prod-platform.json")!.json;
    const metrics = dashboardQueries(platform)
      .filter((q) => q.kind === "prometheus")
      .flatMap((q) => promqlReferences(resolveGrafanaVariables(q.expr!)).metrics);
    for (const m of [
      `${runtimeMetrics.gcDuration.name}_sum`,
      runtimeMetrics.heapUsed.name,
      runtimeMetrics.heapTotal.name,
      runtimeMetrics.eventLoopLagP99.name,
      runtimeMetrics.openFds.name,
      runtimeMetrics.maxFds.name,
    ])
      expect(metrics).toContain(m);
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

describe.each(ENVIRONMENT_NAMES)("the manifest of %s", (name) => {
  const manifest = JSON.parse(rendered.get(`manifest/${name}.json`)!) as DashboardManifest;

  it("names each of the environment's Grafana dashboards by its uid and file, in file order", () => {
    const files = grafana.filter((d) => d.path.startsWith(`grafana/${name}-`));
    expect(manifest.grafana.map((d) => d.file)).toEqual(files.map((d) => d.path).sort());
    for (const { uid, file } of manifest.grafana)
      expect(files.find((d) => d.path === file)?.json.uid, file).toBe(uid);
  });

  it("gives the deploy marker the tags each dashboard's Deploys annotation shows", () => {
    expect(manifest.environment).toBe(name);
    for (const d of grafana.filter((g) => g.path.startsWith(`grafana/${name}-`))) {
      const list = (d.json.annotations as { list: Array<{ name: string; target?: { tags?: string[] } }> })
        .list;
      expect(list.find((a) => a.name === "Deploys")?.target?.tags, d.path).toEqual(
        manifest.deployMarker.tags,
      );
    }
  });
});

describe("the CloudWatch dashboard", () => {
  it("is named as the environment names it, beside its alarms", () => {
    for (const name of ENVIRONMENT_NAMES) {
      const env = loadEnvironment(name, repositoryEnvironmentsDir);
      expect(JSON.parse(rendered.get(`cloudwatch/${name}.json`)!).DashboardName).toBe(
        cloudWatchDashboardName(env),
      );
    }
  });

  it("carries every CloudWatch query of the environment's Grafana dashboards with known dimensions, in its region", () => {
    const env = loadEnvironment("staging", repositoryEnvironmentsDir);
    const body = JSON.parse(JSON.parse(rendered.get("cloudwatch/staging.json")!).DashboardBody) as {
      widgets: Array<{ properties: { region: string; metrics: unknown[][] } }>;
    };
    const inWidgets = body.widgets.flatMap((w) => w.properties.metrics.map((m) => `${m[0]} ${m[1]}`));
    // The ALB's ids are Grafana variables ($alb, $targetgroup); here they are references by name.
    const inGrafana = grafana
      .filter((d) => d.path.startsWith("grafana/staging-"))
      .flatMap((d) => dashboardQueries(d.json))
      .filter(
        (q) =>
          q.kind === "cloudwatch" &&
          Object.values(q.dimensions!).every((v) => !v.includes("$") || /^\$\{(alb|targetgroup)\}$/.test(v)),
      )
      .map((q) => `${q.namespace} ${q.metricName}`);
    expect(inWidgets.sort()).toEqual(inGrafana.sort());
    expect(inWidgets).toContain("AWS/ApplicationELB HTTPCode_Target_5XX_Count");
    for (const w of body.widgets) expect(w.properties.region).toBe(env.region);
    const albDimensions = body.widgets
      .flatMap((w) => w.properties.metrics)
      .filter((m) => m[0] === "AWS/ApplicationELB")
      .flatMap((m) => m.slice(2).filter((v) => typeof v === "string"));
    expect(new Set(albDimensions)).toEqual(
      new Set([
        "LoadBalancer",
        `{{alb:${env.api.loadBalancer}}}`,
        "TargetGroup",
        `{{targetgroup:${env.api.targetGroup}}}`,
      ]),
    );
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

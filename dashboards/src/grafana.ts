// grafana-dash-gen, brought to current Grafana through its own extension points: every object
// here has the `generate()` its Dashboard and Row call. grafana-dash-gen's built-in panels are
// Graphite-era (`graph`, schemaVersion 6, no `expr`); these emit `timeseries`/`stat`/`table`
// panels, PromQL and CloudWatch targets, datasource variables and a flat `gridPos` layout.
import { type AwsMetricDefinition, assertPromqlInCatalog, findAwsMetric } from "@content-engine/telemetry";
// Types only: Grafana's own schema checks the shape of everything generate() returns.
import type {
  AnnotationQuery,
  AnnotationTarget,
  DataQuery,
  Dashboard as GrafanaDashboard,
  Panel as GrafanaPanel,
  RowPanel,
  TableFieldOptions,
  VariableModel,
} from "@grafana/schema";
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  GraphDrawStyle,
  GraphThresholdsStyleMode,
  LegendDisplayMode,
  PercentChangeColorMode,
  SortOrder,
  TableCellDisplayMode,
  TableCellHeight,
  TooltipDisplayMode,
  VisibilityMode,
  VizOrientation,
} from "@grafana/schema";
import type { CloudWatchMetricsQuery } from "@grafana/schema/dist/esm/raw/composable/cloudwatch/dataquery/x/CloudWatchDataQuery_types.gen";
import type { Options as StatOptions } from "@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen";
import type { Options as TableOptions } from "@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen";
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from "@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen";
import dashgen from "grafana-dash-gen";
import { resolveGrafanaVariables } from "./queries.ts";

/** Grafana 11.x writes 39; Grafana 11 and 12 import it without migration. */
export const SCHEMA_VERSION = 39;
const GRID_COLUMNS = 24;

export interface DatasourceRef {
  type: "prometheus" | "cloudwatch";
  uid: string;
}
/** Grafana's `${name}` reference to a dashboard variable. */
export function variableRef(name: string): string {
  return `\${${name}}`;
}
/** The dashboard variable every PromQL query selects `env` with (a ConstantVariable per environment). */
export const ENV_VARIABLE = "env";

/**
 * The label matchers of a PromQL selector scoped to the dashboard's environment and, where a service
 * is meant, to that service (`api`, `worker`, or a regex such as `api|worker`): the `env` and
 * `service` labels the collector adds at scrape time (see services/telemetry TARGET_LABELS).
 */
export function scope(service?: string, ...more: string[]): string {
  const matchers = [`env="${variableRef(ENV_VARIABLE)}"`];
  if (service) matchers.push(service.includes("|") ? `service=~"${service}"` : `service="${service}"`);
  return [...matchers, ...more].join(", ");
}

export const PROMETHEUS: DatasourceRef = { type: "prometheus", uid: variableRef("datasource") };
export const CLOUDWATCH: DatasourceRef = { type: "cloudwatch", uid: variableRef("cloudwatch") };

/** Grafana's Prometheus query (the PromQuery of its prometheus datasource, which @grafana/schema leaves out). */
export interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  editorMode?: "code" | "builder";
  interval?: string;
}

export interface PrometheusTargetOptions {
  expr: string;
  legendFormat?: string;
  /** `table` panels read one instant value per series. */
  instant?: boolean;
}

/** A PromQL query; refuses metrics and labels the telemetry catalog does not declare. */
export class PrometheusTarget {
  readonly state: PrometheusTargetOptions;
  constructor(options: PrometheusTargetOptions) {
    assertPromqlInCatalog(
      resolveGrafanaVariables(options.expr),
      `query ${JSON.stringify(options.legendFormat ?? options.expr)}`,
    );
    this.state = options;
  }
  generate(refId: string): PrometheusQuery {
    return {
      refId,
      datasource: PROMETHEUS,
      editorMode: "code",
      expr: this.state.expr,
      legendFormat: this.state.legendFormat ?? "__auto",
      range: !this.state.instant,
      instant: Boolean(this.state.instant),
    };
  }
}

export interface CloudWatchTargetOptions {
  metric: AwsMetricDefinition;
  dimensions: Record<string, string>;
  statistic: string;
  region: string;
  label?: string;
  period?: number;
}

/** A CloudWatch metric query; refuses metrics, dimensions and statistics the catalog does not declare. */
export class CloudWatchTarget {
  readonly state: CloudWatchTargetOptions;
  constructor(options: CloudWatchTargetOptions) {
    const { metric, dimensions, statistic } = options;
    const where = `CloudWatch query ${metric.namespace} ${metric.name}`;
    if (findAwsMetric(metric.namespace, metric.name) !== metric) {
      throw new Error(`${where}: not in the telemetry catalog`);
    }
    for (const name of Object.keys(dimensions)) {
      if (!metric.dimensions.includes(name)) {
        throw new Error(
          `${where}: dimension ${name} is not declared (declared: ${metric.dimensions.join(", ")})`,
        );
      }
    }
    const percentile = /^p\d{1,2}(\.\d+)?$/.test(statistic);
    if (percentile ? !metric.percentiles : !(metric.statistics as readonly string[]).includes(statistic)) {
      throw new Error(
        `${where}: statistic ${statistic} does not apply (use ${metric.statistics.join(", ")})`,
      );
    }
    this.state = options;
  }
  generate(refId: string): CloudWatchMetricsQuery {
    const { metric, dimensions, statistic, region, label, period } = this.state;
    return {
      refId,
      datasource: CLOUDWATCH,
      queryMode: "Metrics",
      metricQueryType: 0,
      metricEditorMode: 0,
      region,
      namespace: metric.namespace,
      metricName: metric.name,
      dimensions,
      matchExact: true,
      statistic,
      period: String(period ?? 60),
      label: label ?? "",
      id: "",
      expression: "",
    };
  }
}

export type Target = PrometheusTarget | CloudWatchTarget;

/** CloudWatch queries in one region: `cw(metric, dimensions, statistic, label)`. */
export function cloudWatchQueries(
  region: string,
): (
  metric: AwsMetricDefinition,
  dimensions: Record<string, string>,
  statistic: string,
  label: string,
) => CloudWatchTarget {
  return (metric, dimensions, statistic, label) =>
    new CloudWatchTarget({ metric, dimensions, statistic, region, label });
}

export interface PanelOptions {
  title: string;
  description: string;
  /** Grafana unit id: `reqps`, `percentunit`, `s`, `ms`, `bytes`, `Bps`, `percent`, `short`, `ops`. */
  unit: string;
  targets: Target[];
  /** Width in grid columns (of 24); default 8. */
  width?: number;
  height?: number;
  /** Values from which the panel turns red (stat: background; timeseries: threshold line). */
  redFrom?: number;
  min?: number;
  max?: number;
}

/** Grafana's panel schema keeps plugin parts (queries, options) open; ours are checked before this. */
function loose<T extends object>(value: T): Record<string, unknown> {
  return value as unknown as Record<string, unknown>;
}

abstract class ModernPanel {
  readonly options: PanelOptions;
  abstract readonly type: "timeseries" | "stat" | "table";
  constructor(options: PanelOptions) {
    if (options.targets.length === 0) throw new Error(`panel ${options.title}: no queries`);
    const kinds = new Set(options.targets.map((t) => t instanceof PrometheusTarget));
    if (kinds.size > 1) throw new Error(`panel ${options.title}: mixes Prometheus and CloudWatch queries`);
    this.options = options;
  }
  get datasource(): DatasourceRef {
    return this.options.targets[0] instanceof PrometheusTarget ? PROMETHEUS : CLOUDWATCH;
  }
  protected fieldDefaults(): Record<string, unknown> {
    const { unit, redFrom, min, max } = this.options;
    const steps: Array<{ color: string; value: number | null }> = [{ color: "green", value: null }];
    if (redFrom !== undefined) steps.push({ color: "red", value: redFrom });
    return {
      unit,
      ...(min === undefined ? {} : { min }),
      ...(max === undefined ? {} : { max }),
      thresholds: { mode: "absolute", steps },
      color: { mode: this.type === "timeseries" ? "palette-classic" : "thresholds" },
    };
  }
  protected abstract panelOptions(): TimeSeriesOptions | StatOptions | TableOptions;
  protected custom(): TimeSeriesFieldConfig | TableFieldOptions | Record<string, never> {
    return {};
  }
  /** The panel JSON without id and gridPos, which the dashboard assigns. */
  generate(): Omit<GrafanaPanel, "id" | "gridPos"> {
    return {
      type: this.type,
      title: this.options.title,
      description: this.options.description,
      datasource: this.datasource,
      targets: this.options.targets.map((t, i) => loose(t.generate(String.fromCharCode(65 + i)))),
      fieldConfig: { defaults: { ...this.fieldDefaults(), custom: loose(this.custom()) }, overrides: [] },
      options: loose(this.panelOptions()),
    };
  }
}

export class TimeseriesPanel extends ModernPanel {
  readonly type = "timeseries";
  protected override custom(): TimeSeriesFieldConfig {
    return {
      drawStyle: GraphDrawStyle.Line,
      lineWidth: 1,
      fillOpacity: 10,
      showPoints: VisibilityMode.Never,
      spanNulls: false,
      thresholdsStyle: {
        mode:
          this.options.redFrom === undefined ? GraphThresholdsStyleMode.Off : GraphThresholdsStyleMode.Line,
      },
    };
  }
  protected panelOptions(): TimeSeriesOptions {
    return {
      legend: { displayMode: LegendDisplayMode.List, placement: "bottom", showLegend: true, calcs: [] },
      tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.Descending },
    };
  }
}

export class StatPanel extends ModernPanel {
  readonly type = "stat";
  protected panelOptions(): StatOptions {
    return {
      reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
      colorMode: BigValueColorMode.Background,
      graphMode: BigValueGraphMode.Area,
      justifyMode: BigValueJustifyMode.Auto,
      textMode: BigValueTextMode.Auto,
      orientation: VizOrientation.Auto,
      percentChangeColorMode: PercentChangeColorMode.Standard,
      showPercentChange: false,
      wideLayout: true,
    };
  }
}

/**
 * One row per series. PromQL instant queries arrive as one frame per series and are merged;
 * CloudWatch answers time series, which are reduced to their total over the dashboard's range.
 */
export class TablePanel extends ModernPanel {
  readonly type = "table";
  protected panelOptions(): TableOptions {
    return { showHeader: true, cellHeight: TableCellHeight.Sm, frameIndex: 0 };
  }
  /** Grafana's table field options require `align` and `inspect` (grafana-foundation-sdk sets both). */
  protected override custom(): TableFieldOptions {
    return { align: "auto", inspect: false, cellOptions: { type: TableCellDisplayMode.Auto } };
  }
  override generate(): Omit<GrafanaPanel, "id" | "gridPos"> {
    const transformation =
      this.datasource.type === "prometheus"
        ? { id: "merge", options: {} }
        : { id: "reduce", options: { reducers: ["sum"], mode: "seriesToRows", includeTimeField: false } };
    return { ...super.generate(), transformations: [transformation] };
  }
}

export type Panel = TimeseriesPanel | StatPanel | TablePanel;

/** A datasource picker (`$datasource`, `$cloudwatch`): the dashboard names no datasource uid. */
export class DatasourceVariable {
  readonly name: string;
  readonly pluginId: DatasourceRef["type"];
  readonly label: string;
  constructor(name: string, pluginId: DatasourceRef["type"], label: string) {
    this.name = name;
    this.pluginId = pluginId;
    this.label = label;
  }
  generate(): VariableModel {
    return {
      type: "datasource",
      name: this.name,
      label: this.label,
      query: this.pluginId,
      hide: 0,
      includeAll: false,
      multi: false,
      options: [],
      refresh: 1,
      regex: "",
      skipUrlSync: false,
    };
  }
}

/**
 * A value fixed per generated dashboard (`$env`): every PromQL query selects `env="${env}"`, and the
 * dashboard of each environment sets it to that environment's name. Hidden: nothing to choose.
 */
export class ConstantVariable {
  readonly name: string;
  readonly value: string;
  readonly description: string;
  constructor(name: string, value: string, description: string) {
    this.name = name;
    this.value = value;
    this.description = description;
  }
  generate(): VariableModel {
    const option = { text: this.value, value: this.value, selected: true };
    return {
      type: "constant",
      name: this.name,
      description: this.description,
      query: this.value,
      hide: 2,
      current: option,
      options: [option],
      skipUrlSync: false,
    };
  }
}

export interface CloudWatchDimensionVariableOptions {
  name: string;
  label: string;
  region: string;
  metric: AwsMetricDefinition;
  /** The dimension whose values the variable lists. */
  dimension: string;
  /** Other dimensions narrowing the list (may reference other variables). */
  filters?: Record<string, string>;
  /** Regex on the values: keeps the environment's own resource. */
  regex: string;
}

/**
 * A CloudWatch dimension value looked up when the dashboard loads (`$alb`, `$targetgroup`): the ALB
 * dimensions hold ids (`app/<name>/<hash>`) that only exist once terraform created the load balancer.
 */
export class CloudWatchDimensionVariable {
  readonly options: CloudWatchDimensionVariableOptions;
  constructor(options: CloudWatchDimensionVariableOptions) {
    if (!options.metric.dimensions.includes(options.dimension)) {
      throw new Error(
        `variable ${options.name}: ${options.metric.name} has no dimension ${options.dimension}`,
      );
    }
    this.options = options;
  }
  generate(): VariableModel {
    const { name, label, region, metric, dimension, filters, regex } = this.options;
    return {
      type: "query",
      name,
      label,
      datasource: CLOUDWATCH,
      query: {
        refId: "CloudWatchVariableQueryEditor-VariableQuery",
        queryType: "DimensionValues",
        region,
        namespace: metric.namespace,
        metricName: metric.name,
        dimensionKey: dimension,
        dimensionFilters: filters ?? {},
      },
      regex,
      hide: 0,
      includeAll: false,
      multi: false,
      options: [],
      refresh: 1,
      sort: 1,
      skipUrlSync: false,
    };
  }
}

/** Deploy markers: a Prometheus annotation on each service restart (a new task, pod or version). */
export class PrometheusAnnotation {
  readonly name: string;
  readonly expr: string;
  readonly titleFormat: string;
  constructor(name: string, expr: string, titleFormat: string) {
    assertPromqlInCatalog(resolveGrafanaVariables(expr), `annotation ${name}`);
    this.name = name;
    this.expr = expr;
    this.titleFormat = titleFormat;
  }
  generate(): AnnotationQuery<
    PrometheusQuery & { titleFormat: string; tagKeys: string; useValueForTime: boolean }
  > {
    return {
      name: this.name,
      datasource: PROMETHEUS,
      enable: true,
      iconColor: "rgba(0, 211, 255, 1)",
      target: {
        refId: "Anno",
        expr: this.expr,
        interval: "60s",
        titleFormat: this.titleFormat,
        tagKeys: "service",
        useValueForTime: false,
      },
    };
  }
}

/** The tags every deploy marker carries; observability-apply posts them to Grafana's annotation API. */
export function deployMarkerTags(environment: string): string[] {
  return ["content-engine", "deploy", environment];
}

/** Deploy markers: Grafana annotations tagged by the deploy step (one per observability-apply run). */
export class DeployAnnotation {
  readonly environment: string;
  constructor(environment: string) {
    this.environment = environment;
  }
  generate(): AnnotationQuery<DataQuery & AnnotationTarget> {
    return {
      name: "Deploys",
      datasource: { type: "grafana", uid: "-- Grafana --" },
      enable: true,
      iconColor: "rgba(255, 152, 48, 1)",
      target: {
        refId: "Anno",
        type: "tags",
        tags: deployMarkerTags(this.environment),
        matchAny: false,
        limit: 100,
      },
    };
  }
}

/** The built-in annotations and alerts layer Grafana adds to every dashboard it saves. */
const BUILT_IN_ANNOTATION: AnnotationQuery = {
  builtIn: 1,
  datasource: { type: "grafana", uid: "-- Grafana --" },
  enable: true,
  hide: true,
  iconColor: "rgba(0, 211, 255, 1)",
  name: "Annotations & Alerts",
  type: "dashboard",
};

export interface ModernDashboardOptions {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Array<DatasourceVariable | ConstantVariable | CloudWatchDimensionVariable>;
  annotations?: Array<PrometheusAnnotation | DeployAnnotation>;
}

/**
 * grafana-dash-gen's Dashboard with rows of modern panels: `generate()` lays the rows out as row
 * panels followed by their panels on Grafana's 24-column grid, with stable ids.
 */
export class ModernDashboard extends dashgen.Dashboard {
  readonly uid: string;
  readonly description: string;
  readonly sections: Array<{ title: string; panels: Panel[] }> = [];
  readonly deployAnnotations: Array<PrometheusAnnotation | DeployAnnotation>;
  constructor(options: ModernDashboardOptions) {
    super({ title: options.title, tags: options.tags, refresh: "30s", schemaVersion: SCHEMA_VERSION });
    this.uid = options.uid;
    this.description = options.description;
    this.deployAnnotations = options.annotations ?? [];
    // grafana-dash-gen's addTemplate only calls generate(); ours yield datasource variables.
    for (const variable of options.variables)
      this.addTemplate(variable as unknown as InstanceType<typeof dashgen.Templates.Custom>);
  }

  addSection(title: string, panels: Panel[]): this {
    this.sections.push({ title, panels });
    return this;
  }

  /** The dashboard, typed by Grafana's own schema (@grafana/schema), so the compiler checks the shape. */
  toGrafana(): GrafanaDashboard {
    // grafana-dash-gen's state keeps title, tags, refresh and schemaVersion; its rows stay unused.
    const base = super.generate();
    const panels: Array<GrafanaPanel | RowPanel> = [];
    let id = 0;
    let y = 0;
    for (const section of this.sections) {
      panels.push({
        type: "row",
        id: ++id,
        title: section.title,
        collapsed: false,
        gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 },
        panels: [],
      });
      y += 1;
      let x = 0;
      let rowHeight = 0;
      for (const panel of section.panels) {
        const w = panel.options.width ?? 8;
        const h = panel.options.height ?? 8;
        if (x + w > GRID_COLUMNS) {
          x = 0;
          y += rowHeight;
          rowHeight = 0;
        }
        panels.push({ id: ++id, gridPos: { x, y, w, h }, ...panel.generate() });
        x += w;
        rowHeight = Math.max(rowHeight, h);
      }
      y += rowHeight;
    }
    return {
      id: null,
      uid: this.uid,
      title: base.title,
      description: this.description,
      tags: base.tags,
      timezone: "utc",
      editable: true,
      graphTooltip: 1,
      refresh: typeof base.refresh === "string" ? base.refresh : "",
      schemaVersion: base.schemaVersion,
      time: { from: "now-6h", to: "now" },
      fiscalYearStartMonth: 0,
      liveNow: false,
      links: [],
      annotations: {
        list: [BUILT_IN_ANNOTATION, ...this.deployAnnotations.map((a) => a.generate() as AnnotationQuery)],
      },
      templating: { list: base.templating.list as unknown as VariableModel[] },
      panels,
      version: 1,
    };
  }

  override generate(): ReturnType<dashgen.Dashboard["generate"]> {
    return this.toGrafana() as unknown as ReturnType<dashgen.Dashboard["generate"]>;
  }
}

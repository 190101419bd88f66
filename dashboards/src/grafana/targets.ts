// Panel queries. grafana-dash-gen's Target is a Graphite path builder (`a.b.count`, `.sum()`,
// rendered by toString()) that its panels turn into `{ target: string }`; it has no PromQL or
// CloudWatch query. These two are the queries of Grafana's prometheus and cloudwatch datasources,
// each checked against the telemetry catalog when it is built.
import { type AwsMetricDefinition, assertPromqlInCatalog, findAwsMetric } from "@content-engine/telemetry";
import type { DataQuery } from "@grafana/schema";
import type { CloudWatchMetricsQuery } from "@grafana/schema/dist/esm/raw/composable/cloudwatch/dataquery/x/CloudWatchDataQuery_types.gen";
import { resolveGrafanaVariables } from "../queries.ts";

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

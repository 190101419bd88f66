// Dashboard variables. grafana-dash-gen's templates are `Custom` (a fixed list of options, rendered
// as `text : value` pairs) and `Query` (a Graphite query against a datasource named by a string),
// and its Dashboard's addTemplate takes only those two classes. Grafana 5+ has what these are: a
// datasource picker, a hidden constant, and a CloudWatch dimension-value query (a query object).
import type { AwsMetricDefinition } from "@content-engine/telemetry";
import type { VariableModel } from "@grafana/schema";
import { CLOUDWATCH, type DatasourceRef } from "./targets.ts";

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

export type Variable = DatasourceVariable | ConstantVariable | CloudWatchDimensionVariable;

// Annotations. grafana-dash-gen's only annotation is Graphite's (a target string); these are
// Grafana's own annotations by tag (the deploy markers observability-apply posts) and a PromQL
// annotation, plus the built-in layer Grafana adds to every dashboard it saves.
import { assertPromqlInCatalog } from "@content-engine/telemetry";
import type { AnnotationQuery, AnnotationTarget, DataQuery } from "@grafana/schema";
import { resolveGrafanaVariables } from "../queries.ts";
import { PROMETHEUS, type PrometheusQuery } from "./targets.ts";

const GRAFANA = { type: "grafana", uid: "-- Grafana --" };

/** The built-in annotations and alerts layer Grafana adds to every dashboard it saves. */
export const BUILT_IN_ANNOTATION: AnnotationQuery = {
  builtIn: 1,
  datasource: GRAFANA,
  enable: true,
  hide: true,
  iconColor: "rgba(0, 211, 255, 1)",
  name: "Annotations & Alerts",
  type: "dashboard",
};

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

/** Deploy markers: the Grafana annotations carrying the deploy marker's tags (see manifest.ts). */
export class DeployAnnotation {
  readonly tags: readonly string[];
  constructor(marker: { tags: readonly string[] }) {
    this.tags = marker.tags;
  }
  generate(): AnnotationQuery<DataQuery & AnnotationTarget> {
    return {
      name: "Deploys",
      datasource: GRAFANA,
      enable: true,
      iconColor: "rgba(255, 152, 48, 1)",
      target: { refId: "Anno", type: "tags", tags: [...this.tags], matchAny: false, limit: 100 },
    };
  }
}

export type Annotation = PrometheusAnnotation | DeployAnnotation;

// Reads the queries back out of generated dashboard JSON, as Grafana would run them.

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  kind: "prometheus" | "cloudwatch" | "annotation";
  expr?: string;
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  statistic?: string;
}

interface PanelJson {
  title: string;
  type: string;
  targets?: Array<Record<string, unknown>>;
}

export function dashboardQueries(dashboard: Record<string, unknown>): DashboardQuery[] {
  const title = String(dashboard.title);
  const out: DashboardQuery[] = [];
  for (const panel of (dashboard.panels as PanelJson[]) ?? []) {
    for (const target of panel.targets ?? []) {
      const datasource = target.datasource as { type: string };
      if (datasource.type === "prometheus") {
        out.push({ dashboard: title, panel: panel.title, kind: "prometheus", expr: String(target.expr) });
      } else {
        out.push({
          dashboard: title,
          panel: panel.title,
          kind: "cloudwatch",
          namespace: String(target.namespace),
          metricName: String(target.metricName),
          dimensions: target.dimensions as Record<string, string>,
          statistic: String(target.statistic),
        });
      }
    }
  }
  const annotations = (dashboard.annotations as { list: Array<{ name: string; target?: { expr?: string } }> })
    .list;
  for (const annotation of annotations) {
    if (typeof annotation.target?.expr === "string") {
      out.push({
        dashboard: title,
        panel: annotation.name,
        kind: "annotation",
        expr: annotation.target.expr,
      });
    }
  }
  return out;
}

/** Grafana's built-in interval variables, replaced as Grafana would for a short range at a 1 s scrape. */
export function resolveGrafanaVariables(expr: string, rateInterval = "1m"): string {
  return expr.replaceAll("$__rate_interval", rateInterval);
}

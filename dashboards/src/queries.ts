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

/**
 * The query as Grafana sends it: its built-in interval variables replaced as Grafana would for a short
 * range at a 1 s scrape, and the dashboard's own variables (`${env}`, `$env`) by their values.
 * A variable without a value is left as it is, which no PromQL parser accepts outside a string.
 */
export function resolveGrafanaVariables(
  expr: string,
  variables: Record<string, string> = {},
  rateInterval = "1m",
): string {
  return expr
    .replaceAll("$__rate_interval", rateInterval)
    .replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
      const value = variables[(braced ?? bare)!];
      return value === undefined ? whole : value;
    });
}

/** The values the dashboard sets its variables to when it loads: constants and their current value. */
export function dashboardVariableValues(dashboard: Record<string, unknown>): Record<string, string> {
  const list = (dashboard.templating as { list: Array<{ name: string; current?: { value?: unknown } }> })
    .list;
  const values: Record<string, string> = {};
  for (const v of list) if (typeof v.current?.value === "string") values[v.name] = v.current.value;
  return values;
}

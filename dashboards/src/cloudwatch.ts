// The CloudWatch dashboard of an environment: every CloudWatch query of the Grafana dashboards whose
// dimensions are known before a dashboard loads, as a PutDashboard body, so the AWS-side metrics
// are one click away in the AWS console too.
import {
  albReference,
  cloudWatchDashboardName,
  type Environment,
  loadBalancerNames,
} from "@content-engine/environments";
import type { GridDashboard } from "./grafana/dashboard.ts";
import { CloudWatchTarget, variableRef } from "./grafana/targets.ts";

export interface CloudWatchDashboard {
  DashboardName: string;
  DashboardBody: string;
}

const WIDTH = 8;
const usesVariable = (value: string) => value.includes("$");
const HEIGHT = 6;

/** Named under the environment's alarm prefix, which the deploy role may write dashboards under. */
export function cloudWatchDashboard(env: Environment, sources: GridDashboard[]): CloudWatchDashboard {
  const widgets: Record<string, unknown>[] = [];
  // The Grafana dashboards look the ALB's ids up when they load (`$alb`, `$targetgroup`); here they
  // become references by name, resolved with the ELBv2 API when the dashboard is published.
  const names = loadBalancerNames(env);
  const references: Record<string, string> = {
    [variableRef("alb")]: albReference("alb", names.loadBalancer),
    [variableRef("targetgroup")]: albReference("targetgroup", names.targetGroup),
  };
  const dimensionsOf = (t: CloudWatchTarget) =>
    Object.fromEntries(Object.entries(t.state.dimensions).map(([k, v]) => [k, references[v] ?? v]));
  for (const dashboard of sources) {
    for (const row of dashboard.rows) {
      for (const panel of row.gridPanels) {
        // Any other Grafana variable has no value here.
        const targets = panel.options.targets.filter(
          (t): t is CloudWatchTarget =>
            t instanceof CloudWatchTarget && !Object.values(dimensionsOf(t)).some(usesVariable),
        );
        if (targets.length === 0) continue;
        const index = widgets.length;
        widgets.push({
          type: "metric",
          x: (index % 3) * WIDTH,
          y: Math.floor(index / 3) * HEIGHT,
          width: WIDTH,
          height: HEIGHT,
          properties: {
            title: `${row.title}: ${panel.options.title}`,
            region: env.region,
            view: panel.type === "stat" ? "singleValue" : "timeSeries",
            period: 60,
            metrics: targets.map((t) => [
              t.state.metric.namespace,
              t.state.metric.name,
              ...Object.entries(dimensionsOf(t)).flat(),
              { stat: t.state.statistic, label: t.state.label ?? t.state.metric.name },
            ]),
            ...(panel.options.redFrom === undefined
              ? {}
              : { annotations: { horizontal: [{ label: "threshold", value: panel.options.redFrom }] } }),
          },
        });
      }
    }
  }
  return { DashboardName: cloudWatchDashboardName(env), DashboardBody: JSON.stringify({ widgets }) };
}

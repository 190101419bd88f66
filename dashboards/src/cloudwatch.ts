// The CloudWatch dashboard of an environment: every CloudWatch query of the Grafana dashboards whose
// dimensions are known before a dashboard loads, as a PutDashboard body, so the AWS-side metrics
// are one click away in the AWS console too.
import { alarmNamePrefix, type Environment } from "@content-engine/environments";
import { CloudWatchTarget, type ModernDashboard } from "./grafana.ts";

export interface CloudWatchDashboard {
  DashboardName: string;
  DashboardBody: string;
}

const WIDTH = 8;
const usesVariable = (value: string) => value.includes("$");
const HEIGHT = 6;

/** Named under the environment's alarm prefix, which the deploy role may write dashboards under. */
export function cloudWatchDashboard(env: Environment, sources: ModernDashboard[]): CloudWatchDashboard {
  const widgets: Record<string, unknown>[] = [];
  for (const dashboard of sources) {
    for (const section of dashboard.sections) {
      for (const panel of section.panels) {
        // A dimension that is a Grafana variable (`${alb}`: the load balancer's id, looked up when the
        // Grafana dashboard loads) has no value here; the console's load balancer page shows those.
        const targets = panel.options.targets.filter(
          (t): t is CloudWatchTarget =>
            t instanceof CloudWatchTarget && !Object.values(t.state.dimensions).some(usesVariable),
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
            title: `${section.title}: ${panel.options.title}`,
            region: env.region,
            view: panel.type === "stat" ? "singleValue" : "timeSeries",
            period: 60,
            metrics: targets.map(({ state }) => [
              state.metric.namespace,
              state.metric.name,
              ...Object.entries(state.dimensions).flat(),
              { stat: state.statistic, label: state.label ?? state.metric.name },
            ]),
            ...(panel.options.redFrom === undefined
              ? {}
              : { annotations: { horizontal: [{ label: "threshold", value: panel.options.redFrom }] } }),
          },
        });
      }
    }
  }
  return { DashboardName: `${alarmNamePrefix(env)}overview`, DashboardBody: JSON.stringify({ widgets }) };
}

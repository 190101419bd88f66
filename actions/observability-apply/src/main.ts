// observability-apply action: inputs → applyObservability (or planObservability) → outputs and job summary.
import {
  applyObservability,
  booleanInput,
  environmentInputs,
  environmentOptions,
  grafanaInputs,
  grafanaTarget,
  planObservability,
  readInputs,
  runAction,
  workspacePath,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...environmentInputs,
  "alarms-dir": z.string().default("alarms/generated"),
  "dashboards-dir": z.string().default("dashboards/generated"),
  ...grafanaInputs,
  "deploy-marker": booleanInput(true),
  "cloudwatch-dashboard": booleanInput(true),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const grafana = grafanaTarget(input);
  const options = {
    ...environmentOptions(input),
    alarmsDir: workspacePath(input["alarms-dir"]),
    dashboardsDir: workspacePath(input["dashboards-dir"]),
    grafana,
    deployMarker: input["deploy-marker"],
    cloudwatchDashboard: input["cloudwatch-dashboard"],
  };
  return input.plan ? planObservability(options) : applyObservability(options);
});

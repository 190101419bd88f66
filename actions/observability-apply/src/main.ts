// observability-apply action: inputs → applyObservability (or planObservability) → outputs and job summary.
import { resolve } from "node:path";
import {
  actionEnvironment,
  actionReporter,
  applyObservability,
  awsOverride,
  booleanInput,
  grafanaInputs,
  grafanaTarget,
  planObservability,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  environment: z.string(),
  "environments-dir": z.string().default("environments"),
  "alarms-dir": z.string().default("alarms/generated"),
  "dashboards-dir": z.string().default("dashboards/generated"),
  ...grafanaInputs,
  "deploy-marker": booleanInput(true),
  "cloudwatch-dashboard": booleanInput(true),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const grafana = grafanaTarget(input);
  const options = {
    env: actionEnvironment(input.environment, input["environments-dir"]),
    alarmsDir: resolve(workspace, input["alarms-dir"]),
    dashboardsDir: resolve(workspace, input["dashboards-dir"]),
    grafana,
    deployMarker: input["deploy-marker"],
    cloudwatchDashboard: input["cloudwatch-dashboard"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planObservability(options) : applyObservability(options);
});

// observability-apply action: inputs → applyObservability (or planObservability) → outputs and job summary.
import { resolve } from "node:path";
import {
  actionEnvironment,
  actionReporter,
  applyObservability,
  awsOverride,
  booleanInput,
  DeliveryError,
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
  "grafana-url": z.url().optional(),
  "grafana-token": z.string().optional(),
  "grafana-folder-uid": z.string().optional(),
  "deploy-marker": booleanInput(true),
  "cloudwatch-dashboard": booleanInput(true),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  if (input["grafana-token"]) actionReporter.secret(input["grafana-token"]);
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const grafanaUrl = input["grafana-url"];
  if (grafanaUrl && !input["grafana-token"])
    throw new DeliveryError("input grafana-token: required with grafana-url (pass it from a secret)");
  const options = {
    env: actionEnvironment(input.environment, input["environments-dir"]),
    alarmsDir: resolve(workspace, input["alarms-dir"]),
    dashboardsDir: resolve(workspace, input["dashboards-dir"]),
    grafana: grafanaUrl
      ? { url: grafanaUrl, token: input["grafana-token"] ?? "", folderUid: input["grafana-folder-uid"] }
      : undefined,
    deployMarker: input["deploy-marker"],
    cloudwatchDashboard: input["cloudwatch-dashboard"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planObservability(options) : applyObservability(options);
});

// deploy-helm action: inputs → deployHelm (or planHelm) → outputs and job summary.
import {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  DEFAULT_CHART,
  deployHelm,
  planHelm,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  environment: z.string(),
  "environments-dir": z.string().default("environments"),
  digest: z.string().optional(),
  chart: z.string().default(DEFAULT_CHART),
  "timeout-seconds": z.coerce.number().positive().default(600),
  helm: z.string().default("helm"),
  kubeconfig: z.string().optional(),
  processor: z.enum(["local", "bedrock"]).default("local"),
  offline: booleanInput(false),
  "break-glass": z.string().optional(),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    env: actionEnvironment(input.environment, input["environments-dir"]),
    digest: input.digest,
    chart: input.chart,
    timeoutSeconds: input["timeout-seconds"],
    helm: input.helm,
    kubeconfig: input.kubeconfig,
    processor: input.processor,
    offline: input.offline,
    breakGlass: input["break-glass"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planHelm(options) : deployHelm(options);
});

// deploy-lambda action: inputs → deployLambda (or planLambda) → outputs and job summary.
import {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  deployLambda,
  planLambda,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  environment: z.string(),
  "environments-dir": z.string().default("environments"),
  "zip-file": z.string().optional(),
  canary: z.enum(["auto", "off"]).default("auto"),
  "canary-percent": z.coerce.number().int().min(1).max(99).optional(),
  "canary-minutes": z.coerce.number().positive().optional(),
  "timeout-seconds": z.coerce.number().positive().default(600),
  "break-glass": z.string().optional(),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const env = actionEnvironment(input.environment, input["environments-dir"]);
  const configured = env.worker.canary;
  const canary =
    input.canary === "off"
      ? (false as const)
      : input["canary-percent"] || input["canary-minutes"]
        ? {
            percent: input["canary-percent"] ?? configured?.percent ?? 10,
            minutes: input["canary-minutes"] ?? configured?.minutes ?? 5,
          }
        : undefined;
  const options = {
    env,
    zipFile: input["zip-file"],
    canary,
    timeoutSeconds: input["timeout-seconds"],
    breakGlass: input["break-glass"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planLambda(options) : deployLambda(options);
});

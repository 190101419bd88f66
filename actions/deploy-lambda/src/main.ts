// deploy-lambda action: inputs → deployLambda (or planLambda) → outputs and job summary.
import {
  deployInputs,
  deployLambda,
  deployOptions,
  planLambda,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...deployInputs,
  "zip-file": z.string().optional(),
  canary: z.enum(["auto", "off"]).default("auto"),
  "canary-percent": z.coerce.number().int().min(1).max(99).optional(),
  "canary-minutes": z.coerce.number().positive().optional(),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const common = deployOptions(input);
  const configured = common.env.worker.canary;
  const canary =
    input.canary === "off"
      ? (false as const)
      : input["canary-percent"] || input["canary-minutes"]
        ? {
            percent: input["canary-percent"] ?? configured?.percent ?? 10,
            minutes: input["canary-minutes"] ?? configured?.minutes ?? 5,
          }
        : undefined;
  const options = { ...common, zipFile: input["zip-file"], canary };
  return input.plan ? planLambda(options) : deployLambda(options);
});

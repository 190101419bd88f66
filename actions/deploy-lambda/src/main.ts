// deploy-lambda action: inputs → deployLambda (or planLambda) → outputs, job summary and a GitHub deployment.
import {
  deployInputs,
  deployLambda,
  deployOptions,
  overrideCanary,
  planLambda,
  readInputs,
  runDeployAction,
  withWorkerImage,
} from "@content-engine/delivery";
import { CANARY_TYPES, environmentSource } from "@content-engine/environments";
import { z } from "zod";

const inputs = z.object({
  ...deployInputs,
  "zip-file": z.string().optional(),
  "worker-image": z.string().optional(),
  canary: z.enum(["auto", "off"]).default("auto"),
  "canary-type": z.enum(CANARY_TYPES).optional(),
  "canary-percent": z.string().optional(),
  "canary-interval-seconds": z.string().optional(),
  "canary-steps": z.string().optional(),
  "canary-minutes": z.string().optional(),
});

await runDeployAction(async ({ recordDeployment }) => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const loaded = deployOptions(input);
  const common = { ...loaded, env: withWorkerImage(loaded.env, input["worker-image"]) };
  const override = {
    type: input["canary-type"],
    percent: input["canary-percent"],
    intervalSeconds: input["canary-interval-seconds"],
    steps: input["canary-steps"],
    minutes: input["canary-minutes"],
  };
  const canary =
    input.canary === "off"
      ? (false as const)
      : Object.values(override).some((value) => value)
        ? overrideCanary(
            common.env.worker.canary ?? { percent: 10, intervalSeconds: 300 },
            override,
            `worker.canary of ${environmentSource(common.env)} with the canary-* inputs`,
          )
        : undefined;
  const options = { ...common, zipFile: input["zip-file"], canary };
  if (input.plan) return planLambda(options);
  // A GitHub deployment of the environment (in_progress now; runAction adds how it ended).
  await recordDeployment(input, options.env, "lambda");
  return deployLambda(options);
});

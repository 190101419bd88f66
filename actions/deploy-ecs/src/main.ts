// deploy-ecs action: inputs → deployEcs (or planEcs) → outputs and job summary.
import {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  deployEcs,
  planEcs,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  environment: z.string(),
  "environments-dir": z.string().default("environments"),
  digest: z.string().optional(),
  "task-definition": z.string().optional(),
  "container-name": z.string().optional(),
  "timeout-seconds": z.coerce.number().positive().default(1800),
  "force-new-deployment": booleanInput(false),
  "break-glass": z.string().optional(),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    env: actionEnvironment(input.environment, input["environments-dir"]),
    digest: input.digest,
    taskDefinitionFile: input["task-definition"],
    containerName: input["container-name"],
    timeoutSeconds: input["timeout-seconds"],
    forceNewDeployment: input["force-new-deployment"],
    breakGlass: input["break-glass"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planEcs(options) : deployEcs(options);
});

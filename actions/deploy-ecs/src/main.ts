// deploy-ecs action: inputs → deployEcs (or planEcs) → outputs, job summary and a GitHub deployment.
import {
  booleanInput,
  deployEcs,
  deployInputs,
  deployOptions,
  planEcs,
  readInputs,
  runDeployAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...deployInputs,
  digest: z.string().optional(),
  "task-definition": z.string().optional(),
  "container-name": z.string().optional(),
  "force-new-deployment": booleanInput(false),
  wait: booleanInput(true),
  "poll-seconds": z.coerce.number().positive({ message: "a number of seconds greater than 0" }).optional(),
  "keep-revisions": z.coerce
    .number()
    .int({ message: "a whole number of revisions (0 or more)" })
    .nonnegative({ message: "a whole number of revisions (0 or more)" })
    .optional(),
});

await runDeployAction(async ({ recordDeployment }) => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    ...deployOptions(input),
    digest: input.digest,
    taskDefinitionFile: input["task-definition"],
    containerName: input["container-name"],
    forceNewDeployment: input["force-new-deployment"],
    wait: input.wait,
    pollSeconds: input["poll-seconds"],
    keepRevisions: input["keep-revisions"],
  };
  if (input.plan) return planEcs(options);
  // A GitHub deployment of the environment (in_progress now; runAction adds how it ended).
  await recordDeployment(input, options.env, "ecs");
  return deployEcs(options);
});

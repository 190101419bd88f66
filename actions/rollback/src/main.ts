// rollback action: inputs → rollback (or planRollback) → pull request outputs and job summary.
import { resolve } from "node:path";
import {
  actionReporter,
  booleanInput,
  gitHubInputs,
  gitHubOptions,
  planRollback,
  readInputs,
  rollback,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...gitHubInputs,
  environment: z.string({ error: "required: the environment to roll back (dev, staging or prod)" }),
  to: z.string().optional(),
  "environments-dir": z.string().default("environments"),
  "base-branch": z.string().default("main"),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    env: input.environment,
    to: input.to,
    environmentsDir: resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), input["environments-dir"]),
    environmentsPath: input["environments-dir"],
    baseBranch: input["base-branch"],
    github: gitHubOptions(input),
    reporter: actionReporter,
  };
  return input.plan ? planRollback(options) : rollback(options);
});

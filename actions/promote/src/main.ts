// promote action: inputs → promote (or planPromote) → pull request outputs and job summary.
import { resolve } from "node:path";
import {
  actionReporter,
  awsOverride,
  booleanInput,
  gitHubInputs,
  gitHubOptions,
  planPromote,
  promote,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...gitHubInputs,
  from: z.string(),
  to: z.string(),
  "environments-dir": z.string().default("environments"),
  "base-branch": z.string().default("main"),
  "dashboard-url": z.string().optional(),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    from: input.from,
    to: input.to,
    environmentsDir: resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), input["environments-dir"]),
    environmentsPath: input["environments-dir"],
    baseBranch: input["base-branch"],
    github: gitHubOptions(input),
    dashboardUrl: input["dashboard-url"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planPromote(options) : promote(options);
});

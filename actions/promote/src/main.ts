// promote action: inputs → promote (or planPromote) → pull request outputs and job summary.
import { resolve } from "node:path";
import {
  actionReporter,
  awsOverride,
  booleanInput,
  planPromote,
  promote,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  from: z.string(),
  to: z.string(),
  "environments-dir": z.string().default("environments"),
  "github-token": z.string().optional(),
  repository: z.string().default(process.env.GITHUB_REPOSITORY ?? ""),
  "base-branch": z.string().default("main"),
  "dashboard-url": z.string().optional(),
  "github-api-url": z.string().default(process.env.GITHUB_API_URL ?? "https://api.github.com"),
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
    github: {
      token: input["github-token"] ?? process.env.GITHUB_TOKEN,
      repository: input.repository,
      apiUrl: input["github-api-url"],
    },
    dashboardUrl: input["dashboard-url"],
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
  return input.plan ? planPromote(options) : promote(options);
});

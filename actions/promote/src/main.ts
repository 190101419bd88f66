// promote action: inputs → promote (or planPromote) → pull request outputs and job summary.
import {
  awsOverride,
  planPromote,
  promote,
  pullRequestInputs,
  pullRequestOptions,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...pullRequestInputs,
  from: z.string(),
  to: z.string(),
  "dashboard-url": z.string().optional(),
  "aws-endpoint": z.url().optional(),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    ...pullRequestOptions(input),
    from: input.from,
    to: input.to,
    dashboardUrl: input["dashboard-url"],
    aws: awsOverride(input["aws-endpoint"]),
  };
  return input.plan ? planPromote(options) : promote(options);
});

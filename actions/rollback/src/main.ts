// rollback action: inputs → rollback (or planRollback) → pull request outputs and job summary.
import {
  planRollback,
  pullRequestInputs,
  pullRequestOptions,
  readInputs,
  rollback,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...pullRequestInputs,
  environment: z.string({
    error: "required: the environment to roll back (a file environments/<name>.yaml)",
  }),
  to: z.string().optional(),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = { ...pullRequestOptions(input), env: input.environment, to: input.to };
  return input.plan ? planRollback(options) : rollback(options);
});

// preview action: inputs → runPreview (up | down | reap) → outputs (url, environment, reaped) and job summary.
import {
  actionReporter,
  awsOverride,
  gitHubInputs,
  gitHubOptions,
  readInputs,
  runAction,
  runPreview,
  workspacePath,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...gitHubInputs,
  command: z.enum(["up", "down", "reap"], { message: 'expected "up", "down" or "reap"' }),
  "pull-request": z.string().optional(),
  digest: z.string().optional(),
  tag: z.string().optional(),
  ref: z
    .string()
    .regex(/^[0-9a-f]{40}$/, { message: "a commit sha (40 hex characters)" })
    .optional(),
  "worker-bundle": z.string().optional(),
  "environments-dir": z.string().default("environments"),
  "timeout-seconds": z.coerce.number().positive().optional(),
  "aws-endpoint": z.url().optional(),
  "registry-endpoint": z.url().optional(),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const github = gitHubOptions(input);
  if (github.token) actionReporter.secret(github.token);
  const result = await runPreview({
    command: input.command,
    environmentsDir: workspacePath(input["environments-dir"]),
    pullRequest: input["pull-request"],
    digest: input.digest,
    tag: input.tag,
    ref: input.ref ?? process.env.GITHUB_SHA,
    workerBundle: input["worker-bundle"],
    github: github.token && github.repository ? github : undefined,
    aws: awsOverride(input["aws-endpoint"]),
    registryEndpoint: input["registry-endpoint"],
    timeoutSeconds: input["timeout-seconds"],
    reporter: actionReporter,
  });
  if (Array.isArray(result)) throw new Error("list is not an action command");
  return result;
});

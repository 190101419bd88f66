// deploy-helm action: inputs → deployHelm (or planHelm) → outputs, job summary and a GitHub deployment.
import {
  booleanInput,
  deployHelm,
  deployInputs,
  deployOptions,
  planHelm,
  readInputs,
  runDeployAction,
  workspacePath,
} from "@content-engine/delivery";
import { z } from "zod";

/** A multi-line input: one entry a line, blank lines dropped. */
const lines = z
  .string()
  .default("")
  .transform((text) =>
    text
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
  );

const inputs = z.object({
  ...deployInputs,
  digest: z.string().optional(),
  chart: z.string().optional(),
  helm: z.string().default("helm"),
  kubeconfig: z.string().optional(),
  processor: z.enum(["local", "bedrock"]).default("local"),
  offline: booleanInput(false),
  "values-files": lines,
  set: lines,
});

await runDeployAction(async ({ recordDeployment }) => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    ...deployOptions(input),
    digest: input.digest,
    chart: input.chart && workspacePath(input.chart),
    helm: input.helm,
    kubeconfig: input.kubeconfig,
    processor: input.processor,
    offline: input.offline,
    values: { valuesFiles: input["values-files"], set: input.set },
    repositoryRoot: workspacePath("."),
  };
  if (input.plan) return planHelm(options);
  // A GitHub deployment of the environment (in_progress now; runAction adds how it ended).
  await recordDeployment(input, options.env, "helm");
  return deployHelm(options);
});

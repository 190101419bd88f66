// deploy-helm action: inputs → deployHelm (or planHelm) → outputs and job summary.
import {
  booleanInput,
  DEFAULT_CHART,
  deployHelm,
  deployInputs,
  deployOptions,
  planHelm,
  readInputs,
  runAction,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  ...deployInputs,
  digest: z.string().optional(),
  chart: z.string().default(DEFAULT_CHART),
  helm: z.string().default("helm"),
  kubeconfig: z.string().optional(),
  processor: z.enum(["local", "bedrock"]).default("local"),
  offline: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const options = {
    ...deployOptions(input),
    digest: input.digest,
    chart: input.chart,
    helm: input.helm,
    kubeconfig: input.kubeconfig,
    processor: input.processor,
    offline: input.offline,
  };
  return input.plan ? planHelm(options) : deployHelm(options);
});

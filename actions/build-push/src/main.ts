// build-push action: inputs → buildPush (or planBuildPush) → image and digest outputs, job summary.
import {
  actionEnvironment,
  actionReporter,
  awsOverride,
  booleanInput,
  buildPush,
  planBuildPush,
  readInputs,
  runAction,
  splitList,
} from "@content-engine/delivery";
import { z } from "zod";

const inputs = z.object({
  environment: z.string().optional(),
  "environments-dir": z.string().default("environments"),
  repository: z.string().optional(),
  region: z.string().optional(),
  context: z.string().default("."),
  dockerfile: z.string().default("Dockerfile"),
  platforms: z.string().default("linux/amd64"),
  tags: z.string().optional(),
  "git-sha": z.string().default(process.env.GITHUB_SHA ?? ""),
  source: z
    .string()
    .default(
      `${process.env.GITHUB_SERVER_URL ?? "https://github.com"}/${process.env.GITHUB_REPOSITORY ?? ""}`,
    ),
  "cache-scope": z.string().default("content-engine"),
  "build-args": z.string().optional(),
  push: booleanInput(true),
  "worker-bundle": z.string().optional(),
  "signing-key": z.string().optional(),
  sign: booleanInput(true),
  sbom: z.string().optional(),
  "worker-sbom": z.string().optional(),
  "aws-endpoint": z.url().optional(),
  plan: booleanInput(false),
});

await runAction(async () => {
  const input = readInputs(inputs, Object.keys(inputs.shape));
  const env = input.environment ? actionEnvironment(input.environment, input["environments-dir"]) : undefined;
  const repository = input.repository ?? env?.image.repository ?? "";
  const region = input.region ?? env?.region ?? repository.split(".")[3] ?? "";
  const sha = input["git-sha"];
  const branch = (process.env.GITHUB_REF_NAME ?? "main").replace(/[^A-Za-z0-9_.-]/g, "-");
  const options = {
    repository,
    context: input.context,
    dockerfile: input.dockerfile,
    platforms: splitList(input.platforms),
    tags: input.tags ? splitList(input.tags) : [`${branch}-${sha.slice(0, 7)}`],
    gitSha: sha,
    source: input.source,
    cacheScope: input["cache-scope"] || (false as const),
    buildArgs: Object.fromEntries(
      splitList(input["build-args"]).map((pair) => [
        pair.slice(0, pair.indexOf("=")),
        pair.slice(pair.indexOf("=") + 1),
      ]),
    ),
    push: input.push,
    workerBundle: input["worker-bundle"],
    // sign: false (pull-request previews): the release key never signs code that has not been merged,
    // so no preview image can pass a deploy's signature check and be promoted.
    signingKey: input.sign ? (input["signing-key"] ?? env?.signing?.key) : undefined,
    sboms: splitList(input.sbom),
    workerSboms: splitList(input["worker-sbom"]),
    aws: { region, ...awsOverride(input["aws-endpoint"]) },
    reporter: actionReporter,
  };
  return input.plan ? planBuildPush(options) : buildPush(options);
});

#!/usr/bin/env node
// content-engine: the same delivery functions the actions call, run from a laptop.
//   npx content-engine deploy-ecs --env dev [--digest sha256:…] [--plan] [--endpoint http://127.0.0.1:5000]
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  EnvironmentError,
  environmentFile,
  loadEnvironment,
  updateEnvironmentFile,
} from "@content-engine/environments";
import { buildPush, planBuildPush } from "./build.ts";
import { deployEcs, planEcs } from "./ecs.ts";
import { DeliveryError } from "./errors.ts";
import { deployHelm, planHelm } from "./helm.ts";
import { DEFAULT_WORKER_ZIP, deployLambda, planLambda } from "./lambda.ts";
import { applyObservability, planObservability } from "./observability.ts";
import { isSuccess, type Outcome, type Plan } from "./outcome.ts";
import { planPromote, promote } from "./promote.ts";
import { outcomeMarkdown, planMarkdown } from "./summary.ts";

const USAGE = `usage: content-engine <command> [options]

commands:
  deploy-ecs     --env <name> [--digest sha256:…] [--task-definition file] [--timeout seconds]
  deploy-lambda  --env <name> [--zip ${DEFAULT_WORKER_ZIP}] [--no-canary]
  deploy-helm    --env <name> [--digest sha256:…] [--chart helm/content-engine] [--offline]
                 [--kubeconfig file] (default: EKS DescribeCluster + an STS token)
  build-push     --env <name> --git-sha <sha> [--dockerfile Dockerfile] [--context .] [--tag t]
  promote        --from <name> --to <name> --repository owner/name   (token: GITHUB_TOKEN)
  set-image      --env <name> --digest sha256:… [--tag t]   edit environments/<name>.yaml, comments kept
  observability-apply --env <name> [--grafana-url URL] [--grafana-folder uid] [--deploy-marker]
                 (token: GRAFANA_TOKEN)
                 reconcile alarms/generated/<name> with CloudWatch, publish dashboards/generated

common: --plan (dry-run, no mutating call)  --json  --endpoint <url> (AWS endpoint override)
        --environments-dir <dir> (default ./environments)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    env: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    digest: { type: "string" },
    tag: { type: "string", multiple: true },
    "task-definition": { type: "string" },
    timeout: { type: "string" },
    zip: { type: "string" },
    "no-canary": { type: "boolean" },
    chart: { type: "string" },
    offline: { type: "boolean" },
    helm: { type: "string" },
    kubeconfig: { type: "string" },
    "git-sha": { type: "string" },
    dockerfile: { type: "string" },
    context: { type: "string" },
    repository: { type: "string" },
    "grafana-url": { type: "string" },
    "grafana-folder": { type: "string" },
    "deploy-marker": { type: "boolean" },
    endpoint: { type: "string" },
    "environments-dir": { type: "string" },
    plan: { type: "boolean" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});

const command = positionals[0];
const dir = resolve(values["environments-dir"] ?? "environments");
const aws = values.endpoint ? { endpoint: values.endpoint } : {};
const timeoutSeconds = values.timeout ? Number(values.timeout) : undefined;

function env() {
  if (!values.env) throw new DeliveryError(`${command} needs --env <dev|staging|prod>`);
  return loadEnvironment(values.env, dir);
}

async function run(): Promise<Outcome | Plan | string> {
  switch (command) {
    case "deploy-ecs": {
      const options = {
        env: env(),
        digest: values.digest,
        taskDefinitionFile: values["task-definition"],
        timeoutSeconds,
        aws,
      };
      return values.plan ? planEcs(options) : deployEcs(options);
    }
    case "deploy-lambda": {
      const options = {
        env: env(),
        zipFile: values.zip ?? DEFAULT_WORKER_ZIP,
        canary: values["no-canary"] ? (false as const) : undefined,
        timeoutSeconds,
        aws,
      };
      return values.plan ? planLambda(options) : deployLambda(options);
    }
    case "deploy-helm": {
      const options = {
        env: env(),
        digest: values.digest,
        chart: values.chart,
        helm: values.helm,
        kubeconfig: values.kubeconfig,
        offline: values.offline,
        timeoutSeconds,
        aws,
      };
      return values.plan ? planHelm(options) : deployHelm(options);
    }
    case "build-push": {
      const e = env();
      const sha = values["git-sha"] ?? "";
      const options = {
        repository: values.repository ?? e.image.repository,
        context: values.context ?? ".",
        dockerfile: values.dockerfile ?? "Dockerfile",
        platforms: ["linux/amd64"],
        tags: values.tag ?? [`local-${sha.slice(0, 7)}`],
        gitSha: sha,
        source: "local",
        cacheScope: false as const,
        aws: { region: e.region, ...aws },
      };
      return values.plan ? planBuildPush(options) : buildPush(options);
    }
    case "promote": {
      const options = {
        from: values.from ?? "",
        to: values.to ?? "",
        environmentsDir: dir,
        github: {
          token: process.env.GITHUB_TOKEN,
          repository: values.repository ?? process.env.GITHUB_REPOSITORY ?? "",
        },
        aws,
      };
      return values.plan ? planPromote(options) : promote(options);
    }
    case "set-image": {
      if (!values.env || !values.digest)
        throw new DeliveryError("set-image needs --env <name> and --digest sha256:…");
      const file = environmentFile(values.env, dir);
      const changes = [{ path: ["image", "digest"], value: values.digest }];
      if (values.tag?.[0]) changes.push({ path: ["image", "tag"], value: values.tag[0] });
      updateEnvironmentFile(file, changes);
      return `${file}: image.digest = ${values.digest}${values.tag?.[0] ? `, image.tag = ${values.tag[0]}` : ""}`;
    }
    case "observability-apply": {
      const grafanaUrl = values["grafana-url"];
      if (grafanaUrl && !process.env.GRAFANA_TOKEN)
        throw new DeliveryError("--grafana-url needs GRAFANA_TOKEN");
      const options = {
        env: env(),
        grafana: grafanaUrl
          ? { url: grafanaUrl, token: process.env.GRAFANA_TOKEN ?? "", folderUid: values["grafana-folder"] }
          : undefined,
        deployMarker: values["deploy-marker"],
        aws,
      };
      return values.plan ? planObservability(options) : applyObservability(options);
    }
    default:
      throw new DeliveryError(command ? `unknown command "${command}"\n${USAGE}` : USAGE);
  }
}

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
} else {
  try {
    const result = await run();
    if (typeof result === "string") process.stdout.write(`${result}\n`);
    else if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write("noop" in result ? planMarkdown(result) : outcomeMarkdown(result));
    if (typeof result !== "string" && !("noop" in result) && !isSuccess(result)) process.exitCode = 1;
  } catch (error) {
    const known = error instanceof DeliveryError || error instanceof EnvironmentError;
    process.stderr.write(`content-engine: ${known ? (error as Error).message : (error as Error).stack}\n`);
    process.exitCode = known ? 2 : 1;
  }
}

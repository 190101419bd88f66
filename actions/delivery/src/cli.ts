#!/usr/bin/env node
// content-engine: the same delivery functions the actions call, run from a laptop.
//   npx content-engine deploy-ecs --env dev [--digest sha256:…] [--plan] [--endpoint http://127.0.0.1:5000]
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  EnvironmentError,
  environmentFile,
  environmentSource,
  loadEnvironment,
  loadEnvironments,
  updateEnvironmentFile,
} from "@content-engine/environments";
import { buildPush, planBuildPush } from "./build.ts";
import { type DriftReport, detectDrift, driftMarkdown, driftOutcome } from "./drift.ts";
import { deployEcs, planEcs } from "./ecs.ts";
import { describeEnvironmentSet } from "./environment-set.ts";
import { DeliveryError } from "./errors.ts";
import { deployHelm, planHelm } from "./helm.ts";
import { planHelmRollback, planHelmUninstall, rollbackHelm, uninstallHelm } from "./helm-release.ts";
import { DEFAULT_WORKER_ZIP, deployLambda, planLambda, withWorkerImage } from "./lambda.ts";
import { overrideCanary } from "./lambda-canary.ts";
import { applyObservability, planObservability } from "./observability.ts";
import { isSuccess, type Outcome, type Plan } from "./outcome.ts";
import { PREVIEW_OPTIONS, PREVIEW_USAGE, previewCli } from "./preview-cli.ts";
import { planPromote, promote } from "./promote.ts";
import { planRollback, rollback } from "./rollback.ts";
import { outcomeMarkdown, planMarkdown } from "./summary.ts";

const USAGE = `usage: content-engine <command> [options]

commands:
  deploy-ecs     --env <name> [--digest sha256:…] [--task-definition file] [--timeout seconds]
                 [--force-new-deployment] [--break-glass reason] [--no-wait] [--poll-seconds s]
                 [--keep-revisions n] (unused task definition revisions kept; default api.keepRevisions)
                 (runs the file's api.preDeploy tasks first; --plan lists them;
                 --no-wait: answer started with the deployment id, not waiting for the rollout)
  deploy-lambda  --env <name> [--zip ${DEFAULT_WORKER_ZIP}] [--no-canary] [--break-glass reason]
                 [--canary-type linear|canary|all-at-once] [--canary-percent n]
                 [--canary-interval-seconds s] [--canary-steps n] (over worker.canary of the file)
                 [--worker-image sha256:…] (worker.package: image; instead of worker.image)
  deploy-helm    --env <name> [--digest sha256:…] [--chart helm/content-engine] [--offline]
                 [--kubeconfig file] (default: EKS DescribeCluster + an STS token) [--break-glass reason]
                 [--values-file file]… [--set a.b=v]… (over eks.valuesFiles / eks.set of the file)
                 (--break-glass: deploy inside a freeze window of the environment, recording why)
  helm rollback  --environment <name> [--revision n] [--kubeconfig file] [--helm path]
                 return the release to revision n (default: the one before the serving one)
  helm uninstall --environment <name> [--kubeconfig file] [--helm path]
                 (both print their plan first; with --plan only the plan)
  build-push     --env <name> --git-sha <sha> [--dockerfile Dockerfile] [--context .] [--tag t]
  promote        --from <name> --to <name> --repository owner/name
                 (token: GITHUB_TOKEN; API: GITHUB_API_URL, default https://api.github.com)
  rollback       --env <name> [--to sha256:…] --repository owner/name
                 pull request (branch rollback/<name>) back to the last state that deployed and
                 stayed healthy, or to a digest from the file's history (token, API: as promote)
  set-image      --env <name> --digest sha256:… [--tag t] [--worker-bundle sha256:…] [--worker-image sha256:…]
                 edit <environments-dir>/<name>.yaml, comments kept
  observability-apply --env <name> [--grafana-url URL] [--grafana-folder uid] [--deploy-marker]
                 (token: GRAFANA_TOKEN)
                 reconcile alarms/generated/<name> with CloudWatch, publish dashboards/generated

  environments   [--env <name>] [--changed-since <sha>] [--json]
                 check every environment file together (names, promotion order, one service per
                 file) and list them in promotion order with the promotions and the build environment
  drift          [--env <name>] [--reconcile] [--break-glass reason] [--report drift.json] [--kubeconfig file]
                 compare each environment (all without --env) with everything it manages live;
                 --reconcile redeploys a drifted environment's file; exit 1 while drift remains
${PREVIEW_USAGE}

common: --plan (dry-run, no mutating call)  --json  --endpoint <url> (AWS endpoint override)
        --environments-dir <dir> (default ./environments)`;

/** A usage error: one line, exit status 2. */
function usageError(message: string): never {
  process.stderr.write(
    `content-engine: ${message}\nrun content-engine --help for the commands and options\n`,
  );
  process.exit(2);
}

const OPTIONS = {
  env: { type: "string" },
  environment: { type: "string" },
  reconcile: { type: "boolean" },
  "break-glass": { type: "string" },
  report: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  digest: { type: "string" },
  tag: { type: "string", multiple: true },
  "task-definition": { type: "string" },
  "force-new-deployment": { type: "boolean" },
  "no-wait": { type: "boolean" },
  "poll-seconds": { type: "string" },
  "keep-revisions": { type: "string" },
  timeout: { type: "string" },
  zip: { type: "string" },
  "no-canary": { type: "boolean" },
  "canary-type": { type: "string" },
  "canary-percent": { type: "string" },
  "canary-interval-seconds": { type: "string" },
  "canary-steps": { type: "string" },
  chart: { type: "string" },
  offline: { type: "boolean" },
  helm: { type: "string" },
  kubeconfig: { type: "string" },
  "values-file": { type: "string", multiple: true },
  set: { type: "string", multiple: true },
  revision: { type: "string" },
  "git-sha": { type: "string" },
  "worker-bundle": { type: "string" },
  "worker-image": { type: "string" },
  dockerfile: { type: "string" },
  context: { type: "string" },
  repository: { type: "string" },
  "grafana-url": { type: "string" },
  "grafana-folder": { type: "string" },
  "deploy-marker": { type: "boolean" },
  "changed-since": { type: "string" },
  endpoint: { type: "string" },
  "environments-dir": { type: "string" },
  plan: { type: "boolean" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...PREVIEW_OPTIONS,
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // parseArgs names the option: "Unknown option '--tiemout'", "Option '--env <value>' argument missing".
    return usageError((error as Error).message.split("\n")[0]!.replace(/\. To specify.*$/, ""));
  }
}

const { values, positionals } = parseCommandLine();
const command = positionals[0];
const dir = resolve(values["environments-dir"] ?? "environments");
const aws = values.endpoint ? { endpoint: values.endpoint } : {};
/** A --<option> of seconds greater than 0, or a usage error naming it. */
function secondsOption(name: "timeout" | "poll-seconds"): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds > 0)) {
    return usageError(`--${name} "${value}" is not a number of seconds greater than 0`);
  }
  return seconds;
}
const timeoutSeconds = secondsOption("timeout");
const pollSeconds = secondsOption("poll-seconds");
const keepRevisions = (() => {
  const value = values["keep-revisions"];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) {
    return usageError(`--keep-revisions "${value}" is not a whole number of revisions (0 or more)`);
  }
  return Number(value);
})();

function env() {
  const name = values.env ?? values.environment;
  if (!name)
    throw new DeliveryError(`${command} needs --env <name> (${loadEnvironments(dir).names.join(", ")})`);
  return loadEnvironment(name, dir);
}

/** drift: every environment (or the one named), one after the other; the markdown of each. */
async function drift(): Promise<string> {
  const names = values.env || values.environment ? [env().name] : loadEnvironments(dir).names;
  const reports: DriftReport[] = [];
  for (const name of names) {
    reports.push(
      await detectDrift({
        env: loadEnvironment(name, dir),
        reconcile: Boolean(values.reconcile),
        breakGlass: values["break-glass"],
        kubeconfig: values.kubeconfig,
        helm: values.helm,
        aws,
      }),
    );
  }
  if (values.report) writeFileSync(values.report, `${JSON.stringify(reports, null, 2)}\n`);
  const outcomes = reports.map((report) => driftOutcome(report));
  if (outcomes.some((outcome) => outcome.status === "failed")) process.exitCode = 1;
  if (values.json) return JSON.stringify(reports, null, 2);
  return reports
    .map((report, i) => `${driftMarkdown(report)}\n${outcomes[i]!.reason}\n`)
    .join("\n")
    .trimEnd();
}

/** helm rollback|uninstall: the plan printed first, then the operation (unless --plan). */
async function helmRelease(operation: string | undefined): Promise<Outcome | Plan> {
  if (operation !== "rollback" && operation !== "uninstall")
    return usageError(`helm needs rollback or uninstall, got ${operation ? `"${operation}"` : "nothing"}`);
  const revision = values.revision === undefined ? undefined : Number(values.revision);
  if (revision !== undefined && !(Number.isInteger(revision) && revision > 0))
    return usageError(`--revision "${values.revision}" is not a revision number`);
  const options = {
    env: env(),
    revision,
    kubeconfig: values.kubeconfig,
    helm: values.helm,
    timeoutSeconds,
    aws,
  };
  const show = (plan: Plan) =>
    process.stdout.write(values.json ? `${JSON.stringify(plan, null, 2)}\n` : planMarkdown(plan));
  if (operation === "rollback") return values.plan ? planHelmRollback(options) : rollbackHelm(options, show);
  return values.plan ? planHelmUninstall(options) : uninstallHelm(options, show);
}

async function run(): Promise<Outcome | Plan | string> {
  switch (command) {
    case "deploy-ecs": {
      const options = {
        env: env(),
        digest: values.digest,
        taskDefinitionFile: values["task-definition"],
        forceNewDeployment: values["force-new-deployment"],
        breakGlass: values["break-glass"],
        timeoutSeconds,
        pollSeconds,
        wait: values["no-wait"] ? false : undefined,
        keepRevisions,
        aws,
      };
      return values.plan ? planEcs(options) : deployEcs(options);
    }
    case "deploy-lambda": {
      const e = withWorkerImage(env(), values["worker-image"]);
      const override = {
        type: values["canary-type"],
        percent: values["canary-percent"],
        intervalSeconds: values["canary-interval-seconds"],
        steps: values["canary-steps"],
      };
      const options = {
        env: e,
        zipFile: values.zip ?? DEFAULT_WORKER_ZIP,
        canary: values["no-canary"]
          ? (false as const)
          : Object.values(override).some(Boolean)
            ? overrideCanary(
                e.worker.canary ?? { percent: 10, intervalSeconds: 300 },
                override,
                `worker.canary of ${environmentSource(e)} with the --canary-* options`,
              )
            : undefined,
        breakGlass: values["break-glass"],
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
        values: { valuesFiles: values["values-file"], set: values.set },
        repositoryRoot: process.cwd(),
        breakGlass: values["break-glass"],
        timeoutSeconds,
        aws,
      };
      return values.plan ? planHelm(options) : deployHelm(options);
    }
    case "helm":
      return helmRelease(positionals[1]);
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
          apiUrl: process.env.GITHUB_API_URL,
        },
        aws,
      };
      return values.plan ? planPromote(options) : promote(options);
    }
    case "rollback": {
      if (!values.env)
        throw new DeliveryError(`rollback needs --env <name> (${loadEnvironments(dir).names.join(", ")})`);
      const options = {
        env: values.env,
        to: values.to,
        environmentsDir: dir,
        github: {
          token: process.env.GITHUB_TOKEN,
          repository: values.repository ?? process.env.GITHUB_REPOSITORY ?? "",
          apiUrl: process.env.GITHUB_API_URL,
        },
      };
      return values.plan ? planRollback(options) : rollback(options);
    }
    case "set-image": {
      if (!values.env || !values.digest)
        throw new DeliveryError("set-image needs --env <name> and --digest sha256:…");
      const file = environmentFile(values.env, dir);
      const changes = [{ path: ["image", "digest"], value: values.digest }];
      if (values.tag?.[0]) changes.push({ path: ["image", "tag"], value: values.tag[0] });
      if (values["worker-bundle"])
        changes.push({ path: ["worker", "bundle"], value: values["worker-bundle"] });
      if (values["worker-image"]) changes.push({ path: ["worker", "image"], value: values["worker-image"] });
      updateEnvironmentFile(file, changes);
      return `${file}: ${changes.map((c) => `${c.path.join(".")} = ${c.value}`).join(", ")}`;
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
    case "drift":
      return drift();
    case "preview":
      return previewCli(positionals[1], values, dir, timeoutSeconds);
    case "environments": {
      const summary = describeEnvironmentSet({
        dir,
        environment: values.env ?? values.environment,
        changedSince: values["changed-since"],
      });
      if (values.json) return JSON.stringify(summary, null, 2);
      const lines = [
        `environments (promotion order): ${summary.names.join(", ")}`,
        `build: ${summary.build}`,
        `promotions: ${summary.promotions.map((p) => `${p.from} -> ${p.to}`).join(", ") || "none"}`,
        `previews from: ${summary.previewBase || "none"}`,
      ];
      if (values["changed-since"]) lines.push(`changed: ${summary.changed.join(", ") || "none"}`);
      return lines.join("\n");
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

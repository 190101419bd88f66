// The adapter every action's main.ts uses: typed inputs in, one library call, outputs + summary out.

import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import * as core from "@actions/core";
import { type Environment, EnvironmentError, loadEnvironment } from "@content-engine/environments";
import { z as zod } from "zod";
import {
  type DeployKind,
  type DeploymentHandle,
  type DeploymentProgress,
  type DeploymentState,
  deploymentVariable,
  environmentPageUrl,
  environmentUrlOf,
  runUrl,
  startDeployment,
} from "./deployments.ts";
import { DeliveryError } from "./errors.ts";
import type { GrafanaTarget } from "./grafana.ts";
import { isSuccess, type Outcome, type OutcomeStatus, type Plan } from "./outcome.ts";
import type { Reporter } from "./reporter.ts";
import { deploymentMarkdown, outcomeMarkdown, planMarkdown } from "./summary.ts";

export const actionReporter: Reporter = {
  info: (line) => core.info(line),
  warn: (line) => core.warning(line),
  secret: (value) => core.setSecret(value),
};

/** Reads the named inputs (empty ones left out, so schema defaults apply) and parses them. */
export function readInputs<S extends zod.ZodType>(schema: S, names: readonly string[]): zod.infer<S> {
  const raw: Record<string, string> = {};
  for (const name of names) {
    const value = core.getInput(name);
    if (value !== "") raw[name] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DeliveryError(`input ${issue.path.join(".") || "(inputs)"}: ${issue.message}`);
  }
  return parsed.data;
}

export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function explain(error: unknown): string {
  if (error instanceof DeliveryError || error instanceof EnvironmentError) return error.message;
  const err = error as Error;
  return `${err?.name ?? "Error"}: ${err?.message ?? String(error)}`;
}

/** The job summary, when the runner offers one (older GHES runners have no GITHUB_STEP_SUMMARY). */
export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info("no GITHUB_STEP_SUMMARY on this runner: the summary goes to the log only");
    core.info(markdown);
    return;
  }
  await core.summary.addRaw(markdown).write();
}

/** The GitHub deployment state an outcome ends its deployment with (`started`: still in progress). */
export function deploymentStateOf(status: OutcomeStatus): DeploymentState | DeploymentProgress {
  switch (status) {
    case "succeeded":
    case "unchanged": // a no-op redeploy is a deploy that ended well: GitHub shows it as the latest
      return "success";
    case "started":
      return "in_progress";
    case "timed_out":
      return "error";
    default: // failed, rolled_back: what was attempted does not serve
      return "failure";
  }
}

/** What a deploy action hands runAction so the deploy is recorded as a GitHub deployment. */
export interface ActionContext {
  /**
   * Records the deploy of `env` as a GitHub deployment (in_progress now; runAction adds the final
   * status, the github-deployment-id / environment-url outputs and the summary lines). Never throws.
   */
  recordDeployment(input: DeploymentInput, env: Environment, kind: DeployKind): Promise<void>;
}

/** The commit the workspace holds (what deploys), else GITHUB_SHA. */
function deployedCommit(): string | undefined {
  const head = spawnSync("git", ["rev-parse", "HEAD"], {
    cwd: process.env.GITHUB_WORKSPACE ?? process.cwd(),
    encoding: "utf8",
  });
  const sha = head.status === 0 ? head.stdout.trim() : "";
  return /^[0-9a-f]{40}$/.test(sha) ? sha : process.env.GITHUB_SHA || undefined;
}

/** What runAction calls once the operation ended (or threw): the markdown it adds to the summary. */
type Epilogue = (ended: { outcome: Outcome } | { error: string }) => Promise<string>;

/** Runs one operation: plan → plan summary; apply → outputs, summary, and failure unless succeeded/unchanged. */
export async function runAction(work: () => Promise<Outcome | Plan>, epilogue?: Epilogue): Promise<void> {
  try {
    const result = await work();
    if ("noop" in result) {
      core.setOutput("status", result.noop ? "unchanged" : "planned");
      core.setOutput("plan", JSON.stringify(result));
      await writeSummary(planMarkdown(result));
      return;
    }
    core.setOutput("status", result.status);
    core.setOutput("reason", result.reason);
    core.setOutput("previous-revision", result.revisions.previous ?? "");
    core.setOutput("revision", result.revisions.current ?? "");
    for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value);
    core.setOutput("outcome", JSON.stringify(result));
    const more = epilogue ? await epilogue({ outcome: result }) : "";
    await writeSummary(outcomeMarkdown(result) + more);
    if (!isSuccess(result)) core.setFailed(`${result.operation} ${result.status}: ${result.reason}`);
    else core.info(`${result.operation} ${result.status}: ${result.reason}`);
  } catch (error) {
    const message = explain(error);
    core.setOutput("status", "failed");
    core.setOutput("reason", message);
    const more = epilogue ? await epilogue({ error: message }).catch(() => "") : "";
    await writeSummary(`### ❌ failed before any change\n\n${message}\n${more}`).catch(() => undefined);
    core.setFailed(message);
  }
}

/**
 * runAction for the deploy actions: `work` may call `recordDeployment` once it knows the environment
 * and is about to deploy (not for a plan); the final status follows the outcome. A separate function
 * so the actions that deploy nothing bundle no GitHub client (actions/delivery/test/dist.test.ts).
 */
export async function runDeployAction(
  work: (context: ActionContext) => Promise<Outcome | Plan>,
): Promise<void> {
  let deployment: DeploymentHandle | undefined;
  const context: ActionContext = {
    async recordDeployment(input, env, kind) {
      const ref = deployedCommit();
      if (!ref) {
        core.info("no commit to record a GitHub deployment for (no git checkout, no GITHUB_SHA)");
        return;
      }
      // An earlier step of this job (deploy-ecs before deploy-lambda) may have started this
      // environment's deployment: one deploy of an environment is one deployment record.
      const variable = deploymentVariable(env.name);
      let earlier: { id?: number; sha?: string; url?: string } = {};
      try {
        earlier = JSON.parse(process.env[variable] || "{}");
      } catch {}
      const continued = earlier.sha === ref && typeof earlier.id === "number";
      const url =
        input["environment-url"] ??
        (await environmentUrlOf(kind, env, {
          aws: awsOverride(input["aws-endpoint"]),
          reporter: actionReporter,
        })) ??
        (continued ? earlier.url : undefined);
      const digest = input.digest ?? env.image.digest;
      deployment = await startDeployment({
        github: gitHubOptions(input),
        environment: env.name,
        ref,
        description: `${kind} ${env.image.tag ?? ""} (${digest.slice(0, 19)})`.replace("  ", " "),
        payload: { digest, tag: env.image.tag, deploy: kind },
        // GitHub keeps the earlier deployments of a production environment active (no auto_inactive).
        production: /^prod(uction)?(-|$)/.test(env.name),
        url,
        continueId: continued ? earlier.id : undefined,
        reporter: actionReporter,
      });
      if (deployment.id !== undefined) {
        core.exportVariable(
          variable,
          JSON.stringify({ id: deployment.id, sha: ref, url: deployment.environmentUrl }),
        );
      }
    },
  };
  await runAction(
    () => work(context),
    async (ended) => {
      if (!deployment) return "";
      const state = "outcome" in ended ? deploymentStateOf(ended.outcome.status) : "error";
      await deployment.finish(state, {
        description: "outcome" in ended ? ended.outcome.reason : ended.error,
      });
      if (deployment.id !== undefined) core.setOutput("github-deployment-id", String(deployment.id));
      core.setOutput("environment-url", deployment.environmentUrl ?? "");
      return deploymentMarkdown(deployment, state);
    },
  );
}

export const booleanInput = (fallback: boolean) =>
  zod
    .enum(["true", "false"], { message: 'expected "true" or "false"' })
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true");

/** A path input resolved in the workspace (GITHUB_WORKSPACE, else the working directory). */
export function workspacePath(path: string): string {
  return resolve(process.env.GITHUB_WORKSPACE ?? process.cwd(), path);
}

/** The environment named by the `environment` input, from `environments-dir` in the workspace. */
export function actionEnvironment(name: string, dir = "environments") {
  return loadEnvironment(name, workspacePath(dir));
}

/** The inputs of an action that acts on one environment: which, where its file is, moto or AWS, plan only. */
export const environmentInputs = {
  environment: zod.string(),
  "environments-dir": zod.string().default("environments"),
  "aws-endpoint": zod.url().optional(),
  plan: booleanInput(false),
};

/** The inputs of an action that calls GitHub: `github-token`, `repository`, `github-api-url`. */
export const gitHubInputs = {
  "github-token": zod.string().optional(),
  repository: zod.string().default(process.env.GITHUB_REPOSITORY ?? ""),
  "github-api-url": zod.string().default(process.env.GITHUB_API_URL ?? "https://api.github.com"),
};

/**
 * The inputs every deploy action shares; defaults are the library's (timeouts resolved there, once).
 * The GitHub ones record the deploy as a GitHub deployment; `environment-url` overrides the URL it carries.
 */
export const deployInputs = {
  ...environmentInputs,
  "timeout-seconds": zod.coerce.number().positive().optional(),
  "break-glass": zod.string().optional(),
  ...gitHubInputs,
  "environment-url": zod.url({ message: "a URL, e.g. https://api.example.com" }).optional(),
};

/** What recordDeployment reads of a deploy action's inputs. */
export interface DeploymentInput {
  "github-token"?: string;
  repository: string;
  "github-api-url": string;
  "environment-url"?: string;
  "aws-endpoint"?: string;
  digest?: string;
}

/** The library options of those inputs: the environment, AWS, the action's reporter (and the deploy's own). */
export function environmentOptions(input: {
  environment: string;
  "environments-dir": string;
  "aws-endpoint"?: string;
}) {
  return {
    env: actionEnvironment(input.environment, input["environments-dir"]),
    aws: awsOverride(input["aws-endpoint"]),
    reporter: actionReporter,
  };
}

export function deployOptions(
  input: Parameters<typeof environmentOptions>[0] & { "timeout-seconds"?: number; "break-glass"?: string },
) {
  return {
    ...environmentOptions(input),
    timeoutSeconds: input["timeout-seconds"],
    breakGlass: input["break-glass"],
  };
}

/** GitHubOptions from those inputs; the token defaults to GITHUB_TOKEN of the step's environment. */
export function gitHubOptions(input: {
  "github-token"?: string;
  repository: string;
  "github-api-url": string;
}) {
  return {
    token: input["github-token"] ?? process.env.GITHUB_TOKEN,
    repository: input.repository,
    apiUrl: input["github-api-url"],
  };
}

/** The inputs of an action that reads or publishes the Grafana dashboards. */
export const grafanaInputs = {
  "grafana-url": zod.url().optional(),
  "grafana-token": zod.string().optional(),
  "grafana-folder-uid": zod.string().optional(),
};

/** The inputs of an action that opens a pull request on the environment files (promote, rollback). */
export const pullRequestInputs = {
  ...gitHubInputs,
  "environments-dir": zod.string().default("environments"),
  "base-branch": zod.string().default("main"),
  plan: booleanInput(false),
};

export function pullRequestOptions(
  input: Parameters<typeof gitHubOptions>[0] & { "environments-dir": string; "base-branch": string },
) {
  return {
    environmentsDir: workspacePath(input["environments-dir"]),
    baseBranch: input["base-branch"],
    github: gitHubOptions(input),
    reporter: actionReporter,
  };
}

/** This run (its job summary) and the GitHub deployment an earlier step of the job recorded for `environment`. */
function runnerLinks(environment: string | undefined): GrafanaTarget["markerLinks"] {
  let deployment: { id: number; url: string } | undefined;
  try {
    const recorded = JSON.parse((environment && process.env[deploymentVariable(environment)]) || "{}") as {
      id?: number;
    };
    if (environment && typeof recorded.id === "number" && process.env.GITHUB_REPOSITORY)
      deployment = { id: recorded.id, url: environmentPageUrl(process.env.GITHUB_REPOSITORY, environment) };
  } catch {}
  return { run: runUrl(), deployment };
}

/** The Grafana target of those inputs (token masked), or undefined without grafana-url. */
export function grafanaTarget(input: {
  /** The environment whose deploy the marker links (the GitHub deployment its deploy steps recorded). */
  environment?: string;
  "grafana-url"?: string;
  "grafana-token"?: string;
  "grafana-folder-uid"?: string;
}): GrafanaTarget | undefined {
  const token = input["grafana-token"];
  if (token) actionReporter.secret(token);
  const url = input["grafana-url"];
  if (!url) return undefined;
  if (!token)
    throw new DeliveryError("input grafana-token: required with grafana-url (pass it from a secret)");
  return { url, token, folderUid: input["grafana-folder-uid"], markerLinks: runnerLinks(input.environment) };
}

export function awsOverride(endpoint: string | undefined): { endpoint?: string } {
  return endpoint ? { endpoint } : {};
}

// The adapter every action's main.ts uses: typed inputs in, one library call, outputs + summary out.

import { resolve } from "node:path";
import * as core from "@actions/core";
import { EnvironmentError, loadEnvironment } from "@content-engine/environments";
import { z as zod } from "zod";
import { DeliveryError } from "./errors.ts";
import type { GrafanaTarget } from "./grafana.ts";
import { isSuccess, type Outcome, type Plan } from "./outcome.ts";
import type { Reporter } from "./reporter.ts";
import { outcomeMarkdown, planMarkdown } from "./summary.ts";

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

/** Runs one operation: plan → plan summary; apply → outputs, summary, and failure unless succeeded/unchanged. */
export async function runAction(work: () => Promise<Outcome | Plan>): Promise<void> {
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
    await writeSummary(outcomeMarkdown(result));
    if (!isSuccess(result)) core.setFailed(`${result.operation} ${result.status}: ${result.reason}`);
    else core.info(`${result.operation} ${result.status}: ${result.reason}`);
  } catch (error) {
    const message = explain(error);
    core.setOutput("status", "failed");
    core.setOutput("reason", message);
    await writeSummary(`### ❌ failed before any change\n\n${message}\n`).catch(() => undefined);
    core.setFailed(message);
  }
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

/** The inputs every deploy action shares; defaults are the library's (timeouts resolved there, once). */
export const deployInputs = {
  ...environmentInputs,
  "timeout-seconds": zod.coerce.number().positive().optional(),
  "break-glass": zod.string().optional(),
};

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

/** The inputs of an action that calls GitHub: `github-token`, `repository`, `github-api-url`. */
export const gitHubInputs = {
  "github-token": zod.string().optional(),
  repository: zod.string().default(process.env.GITHUB_REPOSITORY ?? ""),
  "github-api-url": zod.string().default(process.env.GITHUB_API_URL ?? "https://api.github.com"),
};

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

/** The Grafana target of those inputs (token masked), or undefined without grafana-url. */
export function grafanaTarget(input: {
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
  return { url, token, folderUid: input["grafana-folder-uid"] };
}

export function awsOverride(endpoint: string | undefined): { endpoint?: string } {
  return endpoint ? { endpoint } : {};
}

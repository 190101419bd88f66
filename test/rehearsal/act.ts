// Runs the repository's own workflows with act on this host (no container engine): the push and
// workflow_dispatch events GitHub would raise, third-party actions replaced by the stand-ins.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join, matchesGlob } from "node:path";
import { parse } from "yaml";
import { toolPath, toolsBin } from "../../scripts/tools.ts";
import { changedFiles, cloneAt, git } from "./git.ts";

export const STAND_INS = new URL("./stand-ins/", import.meta.url).pathname;

/** Which stand-in replaces which pinned action (every one the rehearsed workflows use). */
const STAND_IN_FOR: Record<string, string> = {
  "actions/checkout": "checkout",
  "actions/setup-node": "setup-node",
  "docker/setup-buildx-action": "setup-buildx",
  "aws-actions/configure-aws-credentials": "configure-aws-credentials",
  "sigstore/cosign-installer": "cosign-installer",
};

export interface ActContext {
  root: string;
  work: string;
  bare: string;
  repository: string;
  /** Variables every job sees (endpoints of moto, the registry, the fake GitHub). */
  env: Record<string, string>;
  token: string;
}

export interface JobTiming {
  job: string;
  seconds: number;
  result: string;
}

export interface WorkflowRun {
  workflow: string;
  event: string;
  ok: boolean;
  seconds: number;
  jobs: JobTiming[];
  /** The log, for the artifacts; checks never read it. */
  log: string;
  /** Job summaries (GITHUB_STEP_SUMMARY) the run wrote, in order. */
  summaries: { job: string; content: string }[];
}

type Workflow = {
  on: Record<string, { paths?: string[]; "paths-ignore"?: string[]; branches?: string[] } | null>;
};

function workflowsDir(clone: string) {
  return join(clone, ".github", "workflows");
}

/** Every `owner/repo@sha` the workflows of a clone use, mapped to its stand-in. */
function localRepositories(clone: string): string[] {
  const flags: string[] = [];
  for (const file of readdirSync(workflowsDir(clone))) {
    const text = readFileSync(join(workflowsDir(clone), file), "utf8");
    for (const [, action, sha] of text.matchAll(/uses: ([\w.-]+\/[\w.-]+)@([0-9a-f]{40})/g)) {
      const standIn = STAND_IN_FOR[action!];
      if (standIn) flags.push("--local-repository", `${action}@${sha}=${join(STAND_INS, standIn)}`);
    }
  }
  return dedupe(flags);
}

function dedupe(flags: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = 0; i < flags.length; i += 2) {
    if (seen.has(flags[i + 1]!)) continue;
    seen.add(flags[i + 1]!);
    out.push(flags[i]!, flags[i + 1]!);
  }
  return out;
}

/** ci.yml is `npm test`, which runs this rehearsal: rehearsing it would recurse. */
export const NOT_REHEARSED = ["ci.yml"];

/** The workflows a push to main from `before` to `after` starts, by their own `on.push` filters. */
export function triggeredByPush(ctx: ActContext, before: string, after: string): string[] {
  const clone = cloneAt(ctx.bare, ctx.work, after);
  const files = changedFiles(ctx.bare, before, after);
  const triggered: string[] = [];
  for (const file of readdirSync(workflowsDir(clone)).sort()) {
    if (NOT_REHEARSED.includes(file)) continue;
    const on = (parse(readFileSync(join(workflowsDir(clone), file), "utf8")) as Workflow).on;
    if (!on || !("push" in on)) continue;
    const push = on.push ?? {};
    if (push.branches && !push.branches.includes("main")) continue;
    const hit = push.paths
      ? files.some((f) => push.paths!.some((g) => matchesGlob(f, g)))
      : push["paths-ignore"]
        ? files.some((f) => !push["paths-ignore"]!.some((g) => matchesGlob(f, g)))
        : true;
    if (hit) triggered.push(file);
  }
  rmSync(clone, { recursive: true, force: true });
  return triggered;
}

/** Runs one workflow for one event at `sha`, as GitHub would on that commit. */
export async function runWorkflow(
  ctx: ActContext,
  workflow: string,
  event: "push" | "workflow_dispatch" | "pull_request_target" | "schedule",
  sha: string,
  payload: Record<string, unknown>,
  inputs: Record<string, string> = {},
): Promise<WorkflowRun> {
  const clone = cloneAt(ctx.bare, ctx.work, sha);
  const eventFile = join(clone, "..", `event-${Date.now()}.json`);
  writeFileSync(
    eventFile,
    JSON.stringify({
      ...payload,
      repository: {
        full_name: ctx.repository,
        name: ctx.repository.split("/")[1],
        owner: { login: ctx.repository.split("/")[0] },
        default_branch: "main",
      },
    }),
  );
  const env: Record<string, string> = {
    ...ctx.env,
    GITHUB_REPOSITORY: ctx.repository,
    SHA_REF: sha,
    GITHUB_REF: "refs/heads/main",
    GITHUB_REF_NAME: "main",
  };
  const args = [
    event,
    "-W",
    `.github/workflows/${workflow}`,
    "-e",
    eventFile,
    "-P",
    "ubuntu-24.04=-self-hosted",
    "--action-offline-mode",
    "--json",
    "-s",
    `GITHUB_TOKEN=${ctx.token}`,
    ...localRepositories(clone),
    ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...Object.entries(inputs).flatMap(([k, v]) => ["--input", `${k}=${v}`]),
  ];
  const home = join(ctx.work, "home");
  mkdirSync(home, { recursive: true });
  const started = performance.now();
  const child = spawn(toolPath("act"), args, {
    cwd: clone,
    env: {
      ...process.env,
      ...env,
      HOME: home,
      // npm's cache stays the user's: the runner cache the setup-node stand-in does not restore.
      npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? "/root", ".npm"),
      PATH: [join(STAND_INS, "bin"), toolsBin, process.env.PATH ?? ""].join(delimiter),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  const results = new Map<string, string>();
  const summaries: { job: string; content: string }[] = [];
  let buffer = "";
  const onLine = (line: string) => {
    let entry: {
      job?: string;
      msg?: string;
      time?: string;
      jobResult?: string;
      command?: string;
      content?: string;
    };
    try {
      entry = JSON.parse(line);
    } catch {
      log += `${line}\n`;
      return;
    }
    log += `[${entry.job ?? "act"}] ${entry.msg ?? ""}\n`;
    if (!entry.job || !entry.time) return;
    const t = Date.parse(entry.time);
    if (!first.has(entry.job)) first.set(entry.job, t);
    last.set(entry.job, t);
    if (entry.jobResult) results.set(entry.job, entry.jobResult);
    // The runner's job summary (GITHUB_STEP_SUMMARY), as act reports it after each step.
    if (entry.command === "summary" && entry.content)
      summaries.push({ job: entry.job, content: entry.content });
  };
  const feed = (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  };
  child.stdout.on("data", feed);
  child.stderr.on("data", feed);
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  if (buffer) onLine(buffer);
  const seconds = (performance.now() - started) / 1000;
  rmSync(clone, { recursive: true, force: true });
  return {
    workflow,
    event,
    ok: code === 0,
    seconds,
    jobs: [...first.keys()].map((job) => ({
      job,
      seconds: ((last.get(job) ?? 0) - (first.get(job) ?? 0)) / 1000,
      result: results.get(job) ?? "unknown",
    })),
    log,
    summaries,
  };
}

/** A push to main as GitHub raises it: every workflow whose filters match runs, in file order. */
export async function push(ctx: ActContext, before: string, after: string): Promise<WorkflowRun[]> {
  const runs: WorkflowRun[] = [];
  // GitHub starts no push workflow when the head commit asks it not to.
  if (/\[(skip ci|ci skip)\]/.test(git(ctx.bare, ["log", "-1", "--format=%B", after]))) return runs;
  for (const workflow of triggeredByPush(ctx, before, after)) {
    runs.push(
      await runWorkflow(ctx, workflow, "push", after, {
        ref: "refs/heads/main",
        before,
        after,
        head_commit: { id: after },
      }),
    );
  }
  return runs;
}

import {
  assertEnvironmentName,
  DIGEST_PATTERN,
  displayPath,
  type EnvironmentName,
  environmentFile,
  getEnvironmentField,
  PROMOTABLE_FIELDS,
  readEnvironmentFile,
  repositoryPath,
  setEnvironmentFields,
} from "@content-engine/environments";
import { DeliveryError } from "./errors.ts";
import { type GitHub, type GitHubOptions, gitHubClient } from "./github.ts";
import { finish, type Outcome, type Plan, type PlannedChange, Stopwatch } from "./outcome.ts";
import { configDiff, openPullRequest } from "./pull-request.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

export interface RollbackOptions {
  /** Environment to roll back (a file <environmentsDir>/<name>.yaml). */
  env: string;
  /** An image digest (sha256:<64 hex>) from the file's history to return to; default the last healthy state. */
  to?: string;
  /** Local checkout's environments folder: the current file is read here. */
  environmentsDir: string;
  /** The checkout's root, which repository paths are relative to (default GITHUB_WORKSPACE, else the working directory). */
  repositoryRoot?: string;
  /** Branch whose history is read and that the pull request targets (default "main"). */
  baseBranch?: string;
  github: GitHubOptions;
  /** Commits of the file's history read at most, newest first (default 100). */
  historyLimit?: number;
  reporter?: Reporter;
}

/** What a rollback restores: the promotable fields of one version of the file. */
export interface EnvironmentState {
  digest: string;
  tag: string | undefined;
  bundle: string | undefined;
}

/** One commit that touched the environment file, and the state the file held after it. */
interface Revision {
  sha: string;
  message: string;
  date: string | undefined;
  state: EnvironmentState | undefined;
}

interface DeploymentRecord {
  id: number;
  sha: string;
  createdAt: string;
}

type Verdict =
  | { kind: "healthy"; deployment: DeploymentRecord; status: string }
  | { kind: "unhealthy"; failed: { deployment: DeploymentRecord; status: string }[] };

export const DEFAULT_HISTORY_LIMIT = 100;
/** Concurrent reads of the file at past commits. */
const READ_CONCURRENCY = 6;

const short = (digest: string) => digest.slice(0, 19);
const sha7 = (sha: string) => sha.slice(0, 7);
/** Two states deploy the same thing when digest and worker bundle agree (the tag is for humans). */
const stateKey = (state: EnvironmentState) => `${state.digest} ${state.bundle ?? "-"}`;
const label = (state: EnvironmentState) => `${state.tag ?? "(no tag)"} (${short(state.digest)})`;
const firstLine = (message: string) => message.split("\n")[0] ?? "";

/** The promotable fields of a version of the file; undefined when it records no valid digest. */
function stateOf(text: string): EnvironmentState | undefined {
  // Fields, not the whole file through today's schema: an older file may predate a schema change,
  // and a rollback keeps every other field of the current file anyway.
  const digest = getEnvironmentField(text, ["image", "digest"]);
  if (typeof digest !== "string" || !DIGEST_PATTERN.test(digest)) return undefined;
  const tag = getEnvironmentField(text, ["image", "tag"]);
  const bundle = getEnvironmentField(text, ["worker", "bundle"]);
  return {
    digest,
    tag: tag === undefined || tag === null ? undefined : String(tag),
    bundle: typeof bundle === "string" && DIGEST_PATTERN.test(bundle) ? bundle : undefined,
  };
}

/** Reads of the repository, each made once per run. */
class History {
  private readonly texts = new Map<string, Promise<string | undefined>>();
  private readonly statuses = new Map<number, Promise<string | undefined>>();

  readonly gh: GitHub;
  readonly path: string;

  constructor(gh: GitHub, path: string) {
    this.gh = gh;
    this.path = path;
  }

  /** The file's text at a commit; undefined where it did not exist. */
  textAt(sha: string): Promise<string | undefined> {
    let text = this.texts.get(sha);
    if (!text) {
      const { owner, repo, octokit } = this.gh;
      text = this.gh
        .find(() => octokit.rest.repos.getContent({ owner, repo, path: this.path, ref: sha }))
        .then((data) =>
          data && !Array.isArray(data) && data.type === "file" && "content" in data
            ? Buffer.from(data.content, "base64").toString("utf8")
            : undefined,
        );
      this.texts.set(sha, text);
    }
    return text;
  }

  async stateAt(sha: string): Promise<EnvironmentState | undefined> {
    const text = await this.textAt(sha);
    return text === undefined ? undefined : stateOf(text);
  }

  /** The commits that touched the file on `base`, newest first, each with the state it left. */
  async revisions(base: string, limit: number): Promise<Revision[]> {
    const { owner, repo, octokit } = this.gh;
    const perPage = Math.min(limit, 100);
    const commits: { sha: string; commit: { message: string; committer: { date?: string } | null } }[] = [];
    for (let page = 1; commits.length < limit; page++) {
      const batch = await this.gh.call(() =>
        octokit.rest.repos.listCommits({ owner, repo, path: this.path, sha: base, per_page: perPage, page }),
      );
      commits.push(...batch);
      if (batch.length < perPage) break;
    }
    const listed = commits.slice(0, limit);
    const revisions: Revision[] = [];
    for (let at = 0; at < listed.length; at += READ_CONCURRENCY) {
      const chunk = listed.slice(at, at + READ_CONCURRENCY);
      const states = await Promise.all(chunk.map((commit) => this.stateAt(commit.sha)));
      for (const [i, commit] of chunk.entries()) {
        revisions.push({
          sha: commit.sha,
          message: commit.commit.message,
          date: commit.commit.committer?.date,
          state: states[i],
        });
      }
    }
    return revisions;
  }

  /** The deployments GitHub recorded for the environment, newest first (at most 100). */
  async deployments(environment: string): Promise<DeploymentRecord[]> {
    const { owner, repo, octokit } = this.gh;
    const list = await this.gh.call(() =>
      octokit.rest.repos.listDeployments({ owner, repo, environment, per_page: 100 }),
    );
    return list.map((d) => ({ id: d.id, sha: d.sha, createdAt: d.created_at }));
  }

  /** A deployment's latest status (success, failure, error, inactive, in_progress…), undefined when none. */
  latestStatus(id: number): Promise<string | undefined> {
    let status = this.statuses.get(id);
    if (!status) {
      const { owner, repo, octokit } = this.gh;
      status = this.gh
        .call(() =>
          octokit.rest.repos.listDeploymentStatuses({ owner, repo, deployment_id: id, per_page: 1 }),
        )
        .then((list) => list[0]?.state);
      this.statuses.set(id, status);
    }
    return status;
  }

  /** Whether a deployment of `state` ended well: the newest deployment at a commit holding it that succeeded. */
  async verdict(state: EnvironmentState, deployments: DeploymentRecord[]): Promise<Verdict> {
    const failed: { deployment: DeploymentRecord; status: string }[] = [];
    for (const deployment of deployments) {
      const deployed = await this.stateAt(deployment.sha);
      if (!deployed || stateKey(deployed) !== stateKey(state)) continue;
      const status = (await this.latestStatus(deployment.id)) ?? "no status";
      // GitHub marks a successful deployment `inactive` once a later one succeeds.
      if (status === "success" || status === "inactive") return { kind: "healthy", deployment, status };
      failed.push({ deployment, status });
    }
    return { kind: "unhealthy", failed };
  }
}

interface Context {
  env: EnvironmentName;
  gh: GitHub;
  base: string;
  branch: string;
  /** Repository path of the environment file. */
  file: string;
  currentText: string;
  current: EnvironmentState;
}

type Resolution =
  | (Context & { kind: "unchanged"; reason: string })
  | (Context & { kind: "refused"; reason: string; notes: string[] })
  | (Context & {
      kind: "ready";
      target: EnvironmentState;
      source: Revision;
      /** Where the state comes from, one sentence (deployment, or the history fallback). */
      basis: string;
      notes: string[];
      nextText: string;
      changes: PlannedChange[];
    });

function readCurrent(options: RollbackOptions, env: EnvironmentName) {
  const { text } = readEnvironmentFile(environmentFile(env, options.environmentsDir));
  return { text, state: stateOf(text)! };
}

/** Checks the `to` digest's form; undefined when none was given. */
function targetDigest(to: string | undefined): string | undefined {
  const digest = to?.trim();
  if (!digest) return undefined;
  if (!DIGEST_PATTERN.test(digest)) {
    throw new DeliveryError(
      `rollback target "${digest}" is not an image digest: expected sha256:<64 lowercase hex characters>, as in image.digest of the environment file`,
    );
  }
  return digest;
}

async function resolve(options: RollbackOptions): Promise<Resolution> {
  const env = assertEnvironmentName(options.env, options.environmentsDir);
  const to = targetDigest(options.to);
  const { text: currentText, state: current } = readCurrent(options, env);
  const gh = gitHubClient({
    ...options.github,
    onWarning: options.github.onWarning ?? options.reporter?.warn,
  });
  const context: Context = {
    env,
    gh,
    base: options.baseBranch ?? "main",
    branch: `rollback/${env}`,
    file: repositoryPath(environmentFile(env, options.environmentsDir), options.repositoryRoot),
    currentText,
    current,
  };
  if (to === current.digest) {
    return { ...context, kind: "unchanged", reason: `${env} already runs ${to} (${current.tag})` };
  }

  const history = new History(gh, context.file);
  const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const revisions = await history.revisions(context.base, limit);
  const window = `the last ${revisions.length} commit(s) of ${context.file} on ${context.base}`;
  const notes: string[] = [];
  const refuse = (reason: string) => ({ ...context, kind: "refused" as const, reason, notes });

  let source: Revision | undefined;
  let basis: string;
  if (to) {
    source = revisions.find((revision) => revision.state?.digest === to);
    if (!source) {
      return refuse(
        `${to} never appeared in ${window}: pass a digest the file held (git log -p ${context.file})`,
      );
    }
    basis = `chosen with --to: the newest commit of ${context.file} that held ${short(to)}`;
    const deployments = await history.deployments(env);
    if (deployments.length > 0) {
      const verdict = await history.verdict(source.state!, deployments);
      if (verdict.kind === "healthy")
        basis += `; ${describeDeployment(env, verdict.deployment, verdict.status)}`;
      else if (verdict.failed.length > 0)
        notes.push(
          `warning: ${label(source.state!)} did not deploy well before: ${describeFailures(verdict)}`,
        );
      else notes.push(`warning: no deployment of ${label(source.state!)} to ${env} is on record`);
    }
  } else {
    const currentKey = stateKey(current);
    // The state before the current one first appeared: states between two appearances of the current
    // one were rolled back from (or replaced by it again), so a rollback goes further back than them.
    let firstAppearance = -1;
    revisions.forEach((revision, i) => {
      if (revision.state && stateKey(revision.state) === currentKey) firstAppearance = i;
    });
    const seen = new Set<string>([currentKey]);
    const noted = new Set<string>();
    const candidates: Revision[] = [];
    for (const [i, revision] of revisions.entries()) {
      if (!revision.state) continue;
      const key = stateKey(revision.state);
      if (seen.has(key)) continue;
      if (i < firstAppearance) {
        if (!noted.has(key)) {
          noted.add(key);
          notes.push(
            `skipped ${label(revision.state)} (commit ${sha7(revision.sha)}): it came after ${label(current)} first appeared (commit ${sha7(revisions[firstAppearance]!.sha)})`,
          );
        }
        continue;
      }
      seen.add(key);
      if (!revision.state.bundle && current.bundle) {
        notes.push(
          `skipped ${label(revision.state)} (commit ${sha7(revision.sha)}): it records no worker bundle, so the worker would not match its image`,
        );
      } else candidates.push(revision);
    }
    if (candidates.length === 0)
      return refuse(`no earlier state of ${env} than ${label(current)} in ${window}`);
    const deployments = await history.deployments(env);
    if (deployments.length === 0) {
      source = candidates[0]!;
      basis = `no deployment records for ${env}: chose the previous state in the file's history`;
    } else {
      basis = "";
      for (const candidate of candidates) {
        const verdict = await history.verdict(candidate.state!, deployments);
        if (verdict.kind === "healthy") {
          source = candidate;
          basis = describeDeployment(env, verdict.deployment, verdict.status);
          break;
        }
        notes.push(
          verdict.failed.length > 0
            ? `skipped ${label(candidate.state!)} (commit ${sha7(candidate.sha)}): its deployment to ${env} did not succeed (${describeFailures(verdict)})`
            : `skipped ${label(candidate.state!)} (commit ${sha7(candidate.sha)}): no deployment of it to ${env} is on record`,
        );
      }
      if (!source) {
        return refuse(
          `no earlier state of ${env} in ${window} deployed and stayed healthy (of ${deployments.length} deployment record(s)); pick one with --to <digest>`,
        );
      }
    }
  }

  const target = source.state!;
  if (!target.bundle && current.bundle) {
    notes.push(
      `warning: ${label(target)} records no worker bundle; worker.bundle stays ${short(current.bundle)}`,
    );
  }
  // Only the promotable fields, as the file held them then; a field it did not set is left alone.
  const sourceText = (await history.textAt(source.sha))!;
  const edits = PROMOTABLE_FIELDS.map((path) => ({
    path,
    value: getEnvironmentField(sourceText, path),
  })).filter((edit) => edit.value !== undefined);
  const nextText = setEnvironmentFields(
    currentText,
    edits,
    displayPath(environmentFile(env, options.environmentsDir)),
  );
  const changes = edits
    .map(({ path, value }) => ({
      field: path.join("."),
      from: getEnvironmentField(currentText, path) as string | undefined,
      to: String(value),
    }))
    .filter((change) => change.from !== change.to);
  return { ...context, kind: "ready", target, source, basis, notes, nextText, changes };
}

function describeDeployment(env: string, deployment: DeploymentRecord, status: string): string {
  const how = status === "inactive" ? "succeeded (since superseded, inactive)" : "succeeded";
  return `deployment #${deployment.id} of ${env} at commit ${sha7(deployment.sha)} (${deployment.createdAt}) ${how}`;
}

function describeFailures(verdict: Extract<Verdict, { kind: "unhealthy" }>): string {
  return verdict.failed
    .map(({ deployment, status }) => `deployment #${deployment.id} at ${sha7(deployment.sha)}: ${status}`)
    .join(", ");
}

function title(r: Extract<Resolution, { kind: "ready" }>): string {
  return `Roll back ${r.env} to ${r.target.tag ?? "(no tag)"} (${short(r.target.digest)})`;
}

function pullRequestBody(r: Extract<Resolution, { kind: "ready" }>): string {
  const lines = [`## ${title(r)}`, "", `| field | ${r.env} now | after merge |`, "|---|---|---|"];
  for (const change of r.changes)
    lines.push(`| \`${change.field}\` | \`${change.from ?? "—"}\` | \`${change.to}\` |`);
  lines.push(
    "",
    "### Where this state comes from",
    "",
    `- commit ${sha7(r.source.sha)}${r.source.date ? ` (${r.source.date})` : ""}: ${firstLine(r.source.message)}`,
    `- ${r.basis}`,
  );
  if (r.notes.length) lines.push("", "### Notes", "", ...r.notes.map((note) => `- ${note}`));
  lines.push(
    "",
    "### Config diff",
    "",
    "```diff",
    configDiff(r.file, r.currentText, r.nextText),
    "```",
    "",
    `_Opened by the rollback action. Merging deploys ${r.env} (deploy-env.yml), like any other change to ${r.file}._`,
  );
  return lines.join("\n");
}

/** What a rollback would do, without any GitHub write. Refusals appear as `refuse:` steps. */
export async function planRollback(options: RollbackOptions): Promise<Plan> {
  const r = await resolve(options);
  const target = `${r.gh.owner}/${r.gh.repo}:${r.branch}`;
  if (r.kind === "unchanged") {
    return { operation: "rollback", target, noop: true, changes: [], steps: [], details: [r.reason] };
  }
  if (r.kind === "refused") {
    return {
      operation: "rollback",
      target,
      noop: false,
      changes: [],
      steps: [`refuse: ${r.reason}`],
      details: r.notes.length ? [r.notes.join("\n")] : [],
    };
  }
  return {
    operation: "rollback",
    target,
    noop: false,
    changes: r.changes,
    steps: [
      `update branch ${r.branch} from ${r.base}`,
      `commit ${r.file}`,
      `open or update the pull request into ${r.base}`,
    ],
    details: [pullRequestBody(r)],
  };
}

/** Opens or updates the rollback pull request. Outcome: succeeded | unchanged | failed (refused). */
export async function rollback(options: RollbackOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const reporter = options.reporter ?? consoleReporter;
  const r = await resolve(options);
  const revisions = { previous: r.current.digest, current: r.current.digest };
  if (r.kind === "unchanged") {
    return finish(watch, {
      operation: "rollback",
      target: r.env,
      status: "unchanged",
      reason: r.reason,
      revisions,
    });
  }
  if (r.kind === "refused") {
    return finish(watch, {
      operation: "rollback",
      target: r.env,
      status: "failed",
      reason: `refused: ${r.reason}`,
      revisions,
      diagnostics: r.notes,
      outputs: { refused: "true" },
    });
  }
  for (const note of r.notes) reporter.info(note);
  const body = pullRequestBody(r);
  const pull = await openPullRequest(r.gh, {
    base: r.base,
    branch: r.branch,
    file: r.file,
    content: r.nextText,
    message: title(r),
    title: title(r),
    body,
    labels: ["rollback"],
  });
  const verb = pull.updated ? "updated" : "opened";
  reporter.info(`${verb} ${pull.html_url}`);
  return finish(watch, {
    operation: "rollback",
    target: r.env,
    status: "succeeded",
    reason: `${verb} pull request #${pull.number} rolling ${r.env} back to ${r.target.digest} (${r.target.tag ?? "no tag"}): ${r.basis}`,
    revisions: { previous: r.current.digest, attempted: r.target.digest },
    diagnostics: [body],
    outputs: {
      "pull-request-number": String(pull.number),
      "pull-request-url": pull.html_url,
      digest: r.target.digest,
    },
  });
}

import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  alarmNamePrefix,
  displayPath,
  type Environment,
  type EnvironmentName,
  environmentFile,
  environmentSource,
  getEnvironmentField,
  loadEnvironments,
  PROMOTABLE_FIELDS,
  parseEnvironment,
  readEnvironmentFile,
  repositoryPath,
  setEnvironmentFields,
} from "@content-engine/environments";
import { alarmsInAlarm } from "./alarms.ts";
import { type AwsOptions, createClient } from "./aws.ts";
import { environmentPlanMarkdown, planEnvironment } from "./environment-plan.ts";
import { DeliveryError, explainAwsError } from "./errors.ts";
import { activeFreezeWindow, describeFreezeWindow } from "./freeze.ts";
import { type GitHub, type GitHubOptions, gitHubClient } from "./github.ts";
import { finish, type Outcome, type Plan, Stopwatch } from "./outcome.ts";
import { configDiff, openPullRequest } from "./pull-request.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";
import { readServing, servingMismatches } from "./serving.ts";
import { type Clock, systemClock } from "./wait.ts";

export interface PromoteOptions {
  from: string;
  to: string;
  /** Local checkout's environments folder (read); the PR edits the same file, by its path in the repository. */
  environmentsDir: string;
  /** The checkout's root, which repository paths are relative to (default GITHUB_WORKSPACE, else the working directory). */
  repositoryRoot?: string;
  baseBranch?: string;
  github: GitHubOptions;
  /** Dashboard link for the PR body; `{env}` is replaced by the environment name. */
  dashboardUrl?: string;
  aws?: Partial<AwsOptions>;
  cloudwatch?: CloudWatchClient;
  /** EKS source: an existing kubeconfig to read what its release serves (default: DescribeCluster + an STS token). */
  kubeconfig?: string;
  reporter?: Reporter;
  clock?: Clock;
}

interface Prepared {
  source: Environment;
  target: Environment;
  targetText: string;
  nextText: string;
  file: string;
  gh: GitHub;
  base: string;
  branch: string;
  changes: { field: string; from: string | undefined; to: string | undefined }[];
}

function prepare(options: PromoteOptions): Prepared {
  // The whole set is read and checked: the order is every file's promotion.from, not a list here.
  const set = loadEnvironments(options.environmentsDir);
  const from = set.get(options.from).name;
  const to = set.get(options.to).name;
  const read = (name: EnvironmentName) => readEnvironmentFile(environmentFile(name, options.environmentsDir));
  const source = read(from);
  const target = read(to);
  if (target.env.promotion.from !== from) {
    const next = set.next(from).map((env) => env.name);
    const into = target.env.promotion.from
      ? `${to} promotes from ${target.env.promotion.from} (promotion.from in ${environmentSource(target.env)})`
      : `${to} is where builds land (no promotion.from in ${environmentSource(target.env)})`;
    throw new DeliveryError(
      `cannot promote from ${from} to ${to}: ${into}; ${next.length > 0 ? `${from} promotes to ${next.join(", ")}` : `nothing promotes from ${from}`}`,
    );
  }
  const gh = gitHubClient({
    ...options.github,
    onWarning: options.github.onWarning ?? options.reporter?.warn,
  });
  // A field the source does not set (a worker bundle not yet recorded) is not carried.
  const edits = PROMOTABLE_FIELDS.map((path) => ({
    path,
    value: getEnvironmentField(source.text, path),
  })).filter((edit) => edit.value !== undefined);
  const nextText = setEnvironmentFields(
    target.text,
    edits,
    displayPath(environmentFile(to, options.environmentsDir)),
  );
  const changes = edits
    .map(({ path }) => ({
      field: path.join("."),
      from: getEnvironmentField(target.text, path) as string | undefined,
      to: String(getEnvironmentField(source.text, path)),
    }))
    .filter((change) => change.from !== change.to);
  return {
    source: source.env,
    target: target.env,
    targetText: target.text,
    nextText,
    file: repositoryPath(environmentFile(to, options.environmentsDir), options.repositoryRoot),
    gh,
    base: options.baseBranch ?? "main",
    branch: `promote/${to}`,
    changes,
  };
}

/** The commit sha a tag like `main-1a2b3c4` or `sha-<40 hex>` was built from. */
export function gitShaFromTag(tag: string): string | undefined {
  return tag.match(/(?:^|[-_])([0-9a-f]{7,40})$/)?.[1];
}

/** Reasons the promotion must wait; empty when it may go ahead. Read-only calls only. */
async function gateReasons(p: Prepared, options: PromoteOptions): Promise<string[]> {
  const now = new Date((options.clock ?? systemClock).now());
  const reasons: string[] = [];
  const freeze = activeFreezeWindow(p.target.promotion.freezeWindows, now);
  if (freeze) reasons.push(`${p.target.name} is frozen: ${describeFreezeWindow(freeze)}`);

  const soakMinutes = p.source.promotion.soakMinutes;
  if (soakMinutes > 0) {
    const path = repositoryPath(
      environmentFile(p.source.name, options.environmentsDir),
      options.repositoryRoot,
    );
    const { owner, repo, octokit } = p.gh;
    const commits = await p.gh.call(() =>
      octokit.rest.repos.listCommits({ owner, repo, path, sha: p.base, per_page: 1 }),
    );
    const date = commits[0]?.commit.committer?.date;
    const deployedAt = date ? new Date(date) : undefined;
    const ranMinutes = deployedAt ? (now.getTime() - deployedAt.getTime()) / 60_000 : 0;
    if (ranMinutes < soakMinutes) {
      reasons.push(
        `${p.source.name} has run this digest for ${Math.floor(ranMinutes)} min; its soak time is ${soakMinutes} min (${Math.ceil(soakMinutes - ranMinutes)} min left)`,
      );
    }
  }

  const aws: AwsOptions = { region: p.source.region, ...options.aws };
  const cloudwatch = options.cloudwatch ?? createClient(CloudWatchClient, aws);
  let firing: string[];
  try {
    firing = await alarmsInAlarm(cloudwatch, {
      prefix: alarmNamePrefix(p.source),
      pageTopicArn: p.source.alarms.pageTopicArn,
      names: p.source.alarms.deploymentAlarms,
    });
  } catch (error) {
    throw explainAwsError(error);
  }
  if (firing.length > 0) reasons.push(`${p.source.name} has alarms in ALARM: ${firing.join(", ")}`);

  // The file says what should run; only what the source serves has proved itself (a rolled-back
  // rollout leaves the file naming a digest that never served).
  try {
    const serving = await readServing({
      env: p.source,
      aws,
      kubeconfig: options.kubeconfig,
      reporter: options.reporter,
    });
    reasons.push(...servingMismatches(p.source, serving));
  } catch (error) {
    if (!(error instanceof DeliveryError)) throw error;
    reasons.push(`cannot read what ${p.source.name} serves: ${error.message}`);
  }
  return reasons;
}

/**
 * What merging would change in the target, from its live state: the same plans as drift and the
 * deploys, read with the target's read-only role (readRoleArn), assumed from promote's own role.
 */
async function targetPlan(p: Prepared, options: PromoteOptions): Promise<string[]> {
  const heading = `### What merging changes in ${p.target.name}`;
  const roleArn = p.target.readRoleArn;
  if (!roleArn) {
    return [
      heading,
      "",
      `_Not shown: ${p.target.name}'s file sets no \`readRoleArn\` (terraform output promote_read_role_arn), so promote cannot read ${p.target.name}'s account._`,
    ];
  }
  try {
    const aws: AwsOptions = { region: p.target.region, ...options.aws };
    const assumed = await createClient(STSClient, { ...aws, region: p.source.region }).send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: `promote-${p.source.name}-${p.target.name}`,
      }),
    );
    const c = assumed.Credentials!;
    const next = parseEnvironment(p.nextText, p.file);
    const plans = await planEnvironment({
      env: next,
      aws: {
        ...aws,
        region: next.region,
        credentials: {
          accessKeyId: c.AccessKeyId!,
          secretAccessKey: c.SecretAccessKey!,
          sessionToken: c.SessionToken,
        },
      },
      reporter: options.reporter,
    });
    return [heading, "", `Read live with \`${roleArn}\`:`, "", environmentPlanMarkdown(plans).trimEnd()];
  } catch (error) {
    return [
      heading,
      "",
      `_Could not read ${p.target.name}'s live state with \`${roleArn}\`: ${(error as Error).message.split("\n")[0]}_`,
    ];
  }
}

async function pullRequestBody(p: Prepared, options: PromoteOptions): Promise<string> {
  const lines = [
    `## Promote ${p.source.name} → ${p.target.name}`,
    "",
    `| field | ${p.target.name} now | after merge |`,
    "|---|---|---|",
  ];
  for (const change of p.changes)
    lines.push(`| \`${change.field}\` | \`${change.from}\` | \`${change.to}\` |`);
  const oldSha = gitShaFromTag(p.target.image.tag);
  const newSha = gitShaFromTag(p.source.image.tag);
  lines.push("", "### Commits");
  if (oldSha && newSha && oldSha !== newSha) {
    const { owner, repo, octokit } = p.gh;
    const compare = await p.gh.find(() =>
      octokit.rest.repos.compareCommitsWithBasehead({ owner, repo, basehead: `${oldSha}...${newSha}` }),
    );
    if (compare) {
      for (const commit of compare.commits.slice(-50)) {
        lines.push(`- ${commit.sha.slice(0, 7)} ${commit.commit.message.split("\n")[0]}`);
      }
      if (compare.commits.length === 0) lines.push("- (no commits between the two images)");
      lines.push("", `[Full compare](${compare.html_url})`);
    } else lines.push(`- ${oldSha}...${newSha} is not known to GitHub`);
  } else lines.push("- (tags carry no commit sha to compare)");
  lines.push("", "### Config diff", "", "```diff", configDiff(p.file, p.targetText, p.nextText), "```");
  lines.push("", ...(await targetPlan(p, options)));
  if (options.dashboardUrl) {
    lines.push(
      "",
      "### Dashboards",
      `- ${p.source.name}: ${options.dashboardUrl.replaceAll("{env}", p.source.name)}`,
      `- ${p.target.name}: ${options.dashboardUrl.replaceAll("{env}", p.target.name)}`,
    );
  }
  lines.push("", "_Opened by the promote action. Merging deploys this environment._");
  return lines.join("\n");
}

function title(p: Prepared) {
  const digest = p.changes.find((c) => c.field === "image.digest")?.to ?? p.source.image.digest;
  return `Promote ${p.source.name} → ${p.target.name}: ${p.source.image.tag} (${digest.slice(0, 19)})`;
}

export async function planPromote(options: PromoteOptions): Promise<Plan> {
  const p = prepare(options);
  const reasons = p.changes.length ? await gateReasons(p, options) : [];
  return {
    operation: "promote",
    target: `${p.gh.owner}/${p.gh.repo}:${p.branch}`,
    noop: p.changes.length === 0,
    changes: p.changes,
    steps: p.changes.length
      ? reasons.length
        ? reasons.map((reason) => `refuse: ${reason}`)
        : [
            `update branch ${p.branch} from ${p.base}`,
            `commit ${p.file}`,
            `open or update the pull request into ${p.base}`,
          ]
      : [],
    details: p.changes.length ? [await pullRequestBody(p, options)] : [],
  };
}

/** Opens or updates the promotion pull request. Outcome: succeeded | unchanged | failed (refused). */
export async function promote(options: PromoteOptions): Promise<Outcome> {
  const watch = new Stopwatch();
  const reporter = options.reporter ?? consoleReporter;
  const p = prepare(options);
  const { gh } = p;
  const target = `${p.source.name} -> ${p.target.name}`;
  if (p.changes.length === 0) {
    return finish(watch, {
      operation: "promote",
      target,
      status: "unchanged",
      reason: `${p.target.name} already runs ${p.source.image.digest}`,
      revisions: { previous: p.target.image.digest, current: p.target.image.digest },
    });
  }
  const reasons = await gateReasons(p, options);
  if (reasons.length > 0) {
    return finish(watch, {
      operation: "promote",
      target,
      status: "failed",
      reason: `refused: ${reasons.join("; ")}`,
      revisions: { previous: p.target.image.digest, current: p.target.image.digest },
      diagnostics: reasons,
      outputs: { refused: "true" },
    });
  }
  const body = await pullRequestBody(p, options);
  const pull = await openPullRequest(gh, {
    base: p.base,
    branch: p.branch,
    file: p.file,
    content: p.nextText,
    message: `Promote ${p.source.name} to ${p.target.name}: ${p.source.image.tag}`,
    title: title(p),
    body,
  });
  reporter.info(`${pull.updated ? "updated" : "opened"} ${pull.html_url}`);
  return finish(watch, {
    operation: "promote",
    target,
    status: "succeeded",
    reason: `${pull.updated ? "updated" : "opened"} pull request #${pull.number} moving ${p.target.name} to ${p.source.image.digest}`,
    revisions: { previous: p.target.image.digest, attempted: p.source.image.digest },
    diagnostics: [body],
    outputs: {
      "pull-request-number": String(pull.number),
      "pull-request-url": pull.html_url,
      digest: p.source.image.digest,
    },
  });
}

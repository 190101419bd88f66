// One pull request that commits one file on its own branch: the branch is reset to the base branch,
// the file committed on it, and the open pull request from it updated (or one opened). Promote and
// rollback both deliver their change this way; re-running replaces the branch's commit, so there is
// never more than one pull request per branch.
import { createTwoFilesPatch } from "diff";
import type { GitHub } from "./github.ts";

export interface PullRequestChange {
  /** Branch the pull request targets (main). */
  base: string;
  /** Branch that carries the commit (promote/<env>, rollback/<env>); reset to `base` on every run. */
  branch: string;
  /** Repository path of the committed file. */
  file: string;
  /** The file's whole new text. */
  content: string;
  /** Commit message. */
  message: string;
  title: string;
  body: string;
  /** Labels added to the pull request (GitHub creates a missing label). */
  labels?: readonly string[];
}

export interface PullRequestResult {
  number: number;
  html_url: string;
  /** True when an open pull request from `branch` existed and was updated, false when one was opened. */
  updated: boolean;
}

/** Opens, or updates, the pull request from `change.branch` into `change.base` committing `change.file`. */
export async function openPullRequest(gh: GitHub, change: PullRequestChange): Promise<PullRequestResult> {
  const { owner, repo, octokit } = gh;
  const { base, branch, file } = change;
  const baseRef = await gh.call(() => octokit.rest.git.getRef({ owner, repo, ref: `heads/${base}` }));
  const baseSha = baseRef.object.sha;
  const existing = await gh.find(() => octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` }));
  if (existing) {
    await gh.call(() =>
      octokit.rest.git.updateRef({ owner, repo, ref: `heads/${branch}`, sha: baseSha, force: true }),
    );
  } else {
    await gh.call(() =>
      octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: baseSha }),
    );
  }
  const current = await gh.call(() =>
    octokit.rest.repos.getContent({ owner, repo, path: file, ref: branch }),
  );
  const currentSha = Array.isArray(current) ? undefined : current.sha;
  await gh.call(() =>
    octokit.rest.repos.createOrUpdateFileContents({
      owner,
      repo,
      path: file,
      message: change.message,
      content: Buffer.from(change.content).toString("base64"),
      sha: currentSha,
      branch,
    }),
  );
  const open = await gh.call(() =>
    octokit.rest.pulls.list({ owner, repo, state: "open", head: `${owner}:${branch}`, base }),
  );
  const { title, body } = change;
  const pull = open[0]
    ? await gh.call(() =>
        octokit.rest.pulls.update({ owner, repo, pull_number: open[0]!.number, title, body }),
      )
    : await gh.call(() => octokit.rest.pulls.create({ owner, repo, title, head: branch, base, body }));
  if (change.labels?.length) {
    const labels = [...change.labels];
    await gh.call(() => octokit.rest.issues.addLabels({ owner, repo, issue_number: pull.number, labels }));
  }
  return { number: pull.number, html_url: pull.html_url, updated: open[0] !== undefined };
}

/** The unified diff of one file for a pull request body (without the `===` header), 2 lines of context. */
export function configDiff(file: string, before: string, after: string): string {
  const patch = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, "", "", { context: 2 });
  return patch.split("\n").slice(2).join("\n").trimEnd();
}

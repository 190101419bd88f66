// The GitHub client of promotion, rollback, drift and previews: @actions/github's Octokit (typed REST
// routes, pagination, proxy dispatchers) with the plugins and error lines of github-core.ts, whose
// smaller client the deploy actions use for their deployment records.
import { getOctokit } from "@actions/github";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { clientSettings, type GitHubClient, type GitHubOptions, wrapClient } from "./github-core.ts";

export { GitHubApiError, type GitHubOptions } from "./github-core.ts";

export type Octokit = ReturnType<typeof getOctokit>;
export type GitHub = GitHubClient<Octokit>;

export function gitHubClient(options: GitHubOptions): GitHub {
  const { token, owner, repo, apiUrl, plugins } = clientSettings(options);
  return wrapClient(getOctokit(token, plugins, retry, throttling), owner, repo, apiUrl);
}

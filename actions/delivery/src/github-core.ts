// The small GitHub client: @octokit/core with @octokit/plugin-retry (5xx) and @octokit/plugin-throttling
// (primary and secondary rate limits), requests by route ("POST /repos/{owner}/{repo}/deployments").
// The deploy actions record GitHub deployments through it. It is the client of github.ts without
// @actions/github's REST route table and its proxy dispatchers (undici): about 50 KiB of bundle instead
// of about 750, which a deploy action parses at every cold start (bench/delivery.ts). Requests go
// through Node's fetch. GITHUB_API_URL (GitHub Enterprise Server) is honoured; errors become one
// actionable line, the same as github.ts's.
import { Octokit } from "@octokit/core";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { DeliveryError } from "./errors.ts";

export interface GitHubOptions {
  token: string | undefined;
  /** owner/name */
  repository: string;
  /** https://api.github.com, or GITHUB_API_URL on GitHub Enterprise (default: GITHUB_API_URL, else github.com). */
  apiUrl?: string;
  /** Retries after a 5xx or a rate limit (default 3; tests use 0). */
  retries?: number;
  onWarning?: (line: string) => void;
}

export class GitHubApiError extends Error {
  override name = "GitHubApiError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** One repository's client: `octokit` is @octokit/core's, or the full REST client of github.ts. */
export interface GitHubClient<O> {
  owner: string;
  repo: string;
  octokit: O;
  /** Runs one call; a 404 is `undefined`, other failures one line. */
  find<T>(call: () => Promise<{ data: T }>): Promise<T | undefined>;
  /** Runs one call; every failure becomes one line naming the request. */
  call<T>(call: () => Promise<{ data: T }>): Promise<T>;
}

export type CoreOctokit = InstanceType<typeof CoreWithPlugins>;
export type GitHubCore = GitHubClient<CoreOctokit>;

const CoreWithPlugins = Octokit.plugin(retry, throttling);

interface RequestErrorLike {
  status?: number;
  message?: string;
  request?: { method?: string; url?: string };
  response?: { data?: { message?: string } };
}

function explain(error: unknown, apiUrl: string): Error {
  const e = error as RequestErrorLike;
  if (typeof e?.status !== "number" || !e.request) return error as Error;
  const path = (e.request.url ?? "").replace(apiUrl, "");
  const what = `${e.request.method} ${decodeURIComponent(path)}`;
  if (e.status === 401) {
    return new DeliveryError(`GitHub rejected the token (401 on ${what}): it is missing, expired or revoked`);
  }
  const message = e.response?.data?.message ?? e.message ?? "";
  return new GitHubApiError(`GitHub ${what} failed (${e.status}): ${message}`, e.status);
}

/** What every client is built from: the token checked, owner/repo, the API URL and the plugins' options. */
export function clientSettings(options: GitHubOptions) {
  if (!options.token) {
    throw new DeliveryError(
      "GitHub token is missing: pass the github-token input (the workflow's github.token) or set GITHUB_TOKEN",
    );
  }
  const [owner, repo] = options.repository.split("/");
  if (!owner || !repo) throw new DeliveryError(`repository "${options.repository}" is not owner/name`);
  const apiUrl = (options.apiUrl || process.env.GITHUB_API_URL || "https://api.github.com").replace(
    /\/$/,
    "",
  );
  const retries = options.retries ?? 3;
  const warn = options.onWarning ?? (() => undefined);
  const limited =
    (kind: string) =>
    (after: number, request: { method: string; url: string }, _o: unknown, count: number) => {
      warn(`GitHub ${kind} on ${request.method} ${request.url}: retrying in ${after} s`);
      return count < retries;
    };
  return {
    token: options.token,
    owner,
    repo,
    apiUrl,
    plugins: {
      baseUrl: apiUrl,
      userAgent: "content-engine-delivery",
      retry: { retries, doNotRetry: [400, 401, 403, 404, 409, 422, 451] },
      throttle: { onRateLimit: limited("rate limit"), onSecondaryRateLimit: limited("secondary rate limit") },
    },
  };
}

/** call and find over an Octokit: failures become one line. */
export function wrapClient<O>(octokit: O, owner: string, repo: string, apiUrl: string): GitHubClient<O> {
  const call = async <T>(run: () => Promise<{ data: T }>): Promise<T> => {
    try {
      return (await run()).data;
    } catch (error) {
      throw explain(error, apiUrl);
    }
  };
  return {
    owner,
    repo,
    octokit,
    call,
    async find<T>(run: () => Promise<{ data: T }>) {
      try {
        return await call(run);
      } catch (error) {
        if (error instanceof GitHubApiError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}

export function gitHubCore(options: GitHubOptions): GitHubCore {
  const { token, owner, repo, apiUrl, plugins } = clientSettings(options);
  return wrapClient(new CoreWithPlugins({ auth: token, ...plugins }), owner, repo, apiUrl);
}

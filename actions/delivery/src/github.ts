// The GitHub REST calls promotion needs, over fetch. Errors become one actionable line.
import { DeliveryError } from "./errors.ts";
import { withRetry } from "./retry.ts";

export interface GitHubOptions {
  token: string | undefined;
  /** owner/name */
  repository: string;
  /** https://api.github.com, or GITHUB_API_URL on GitHub Enterprise. */
  apiUrl?: string;
}

export class GitHubApiError extends Error {
  override name = "GitHubApiError";
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export interface GitHub {
  owner: string;
  repo: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** Like request, but a 404 is `undefined`. */
  find<T>(path: string): Promise<T | undefined>;
}

export function gitHubClient(options: GitHubOptions): GitHub {
  if (!options.token) {
    throw new DeliveryError(
      "GitHub token is missing: pass the github-token input (the workflow's github.token) or set GITHUB_TOKEN",
    );
  }
  const [owner, repo] = options.repository.split("/");
  if (!owner || !repo) throw new DeliveryError(`repository "${options.repository}" is not owner/name`);
  const apiUrl = (options.apiUrl ?? "https://api.github.com").replace(/\/$/, "");
  const token = options.token;
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> =>
    withRetry(
      async () => {
        const response = await fetch(`${apiUrl}${path}`, {
          method,
          headers: {
            accept: "application/vnd.github+json",
            authorization: `Bearer ${token}`,
            "x-github-api-version": "2022-11-28",
            "user-agent": "content-engine-delivery",
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (response.status === 401) {
          throw new DeliveryError(
            `GitHub rejected the token (401 on ${method} ${path}): it is missing, expired or revoked`,
          );
        }
        if (!response.ok) {
          const message = (() => {
            try {
              return (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              return text;
            }
          })();
          throw new GitHubApiError(
            `GitHub ${method} ${path} failed (${response.status}): ${message}`,
            response.status,
          );
        }
        return (text ? JSON.parse(text) : undefined) as T;
      },
      {
        retryable: (error) =>
          error instanceof GitHubApiError && (error.status >= 500 || error.status === 429),
      },
    );
  return {
    owner,
    repo,
    request,
    async find<T>(path: string) {
      try {
        return await request<T>("GET", path);
      } catch (error) {
        if (error instanceof GitHubApiError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}

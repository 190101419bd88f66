// GitHub deployment records: every deploy (and every preview) leaves a deployment of its environment
// with statuses in_progress → success | failure | error, the environment's URL and a log_url to the
// workflow run whose job summary tells the whole story. The records are bookkeeping, never a gate:
// a GitHub that refuses them (no token, 403 without `deployments: write`, an outage after the retries
// of github-core.ts) is a warning, and the deploy goes on. rollback.ts reads these same records.
//
// GitHub's rules this module relies on:
//  - A status `success` on a deployment marks the earlier *successful* deployments of the same
//    environment `inactive` (auto_inactive, default true), but only for non-transient, non-production
//    environments. Production environments keep their history active, and transient (preview)
//    environments must be deactivated by hand when torn down: `deactivate`.
//  - GitHub shows the environment's latest deployment and the environment_url of its latest status; a
//    status without environment_url clears the link, so every status here repeats the known URL.
//  - `in_progress`, `queued` and `inactive` need no API preview header any more.
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Environment } from "@content-engine/environments";
import { type AwsOptions, createClient } from "./aws.ts";
import { type GitHubCore, type GitHubOptions, gitHubCore } from "./github-core.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

export type DeploymentState = "success" | "failure" | "error" | "inactive";
export type DeploymentProgress = "queued" | "in_progress";

export interface DeploymentPayload {
  /** Image digest deployed (sha256:…). */
  digest?: string;
  /** Image tag, for humans. */
  tag?: string;
  [key: string]: unknown;
}

export interface StartDeploymentOptions {
  github: GitHubOptions;
  /** GitHub environment name: an environment file's name, or a preview's pr-<number>. */
  environment: string;
  /** The commit deployed (a full sha: the deployment's ref and sha). */
  ref: string;
  description?: string;
  payload?: DeploymentPayload;
  /** "deploy" unless told: GitHub's default task, which every reader of the records expects. */
  task?: string;
  /** A preview: an environment that goes away (its deployments are deactivated by `deactivate`). */
  transient?: boolean;
  /** Users reach this environment (GitHub keeps its earlier deployments active). */
  production?: boolean;
  /** What the environment serves, when known before the deploy (repeated by every status). */
  url?: string;
  /** Continue this deployment (an earlier step of the same job started it) instead of creating one. */
  continueId?: number;
  /**
   * The workflow run this deploy runs in (default GITHUB_RUN_ID). A job with `environment:` makes GitHub
   * record a deployment of that environment for the job itself; a deployment of `environment` at `ref`
   * whose statuses link to this run is that one (or an earlier step's), and is continued rather than
   * doubled. Empty: always create one.
   */
  runId?: string;
  /** Where each status's log_url points: default the workflow run (runUrl()). */
  logUrl?: string;
  reporter?: Reporter;
}

export interface FinishDetails {
  /** Replaces the environment URL given at start. */
  environmentUrl?: string;
  /** Default: the log URL of the start (the workflow run). */
  logUrl?: string;
  description?: string;
}

export interface DeploymentHandle {
  /** The deployment's id; undefined when GitHub did not record it (a warning said why). */
  readonly id: number | undefined;
  readonly environment: string;
  /** The environment URL the statuses carry (start's `url`, or the last finish's environmentUrl). */
  readonly environmentUrl: string | undefined;
  /** The environment's deployment history on github.com (there is no page per deployment). */
  readonly htmlUrl: string | undefined;
  /** The run URL every status links to. */
  readonly logUrl: string | undefined;
  /** Adds a status; never throws (a refusal is a warning). */
  finish(state: DeploymentState | DeploymentProgress, details?: FinishDetails): Promise<void>;
}

export interface DeactivateOptions {
  github: GitHubOptions;
  environment: string;
  /** Leave this deployment alone (the one just recorded). */
  except?: number;
  reporter?: Reporter;
}

/** GitHub's description field holds 140 characters. */
const clip = (text: string | undefined) =>
  text === undefined ? undefined : text.length > 140 ? `${text.slice(0, 139)}…` : text;

/** The workflow run (and attempt) this process runs in: where the job summary is. Undefined outside Actions. */
export function runUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT } = env;
  if (!GITHUB_REPOSITORY || !GITHUB_RUN_ID) return undefined;
  const server = (GITHUB_SERVER_URL || "https://github.com").replace(/\/$/, "");
  const attempt = GITHUB_RUN_ATTEMPT && GITHUB_RUN_ATTEMPT !== "1" ? `/attempts/${GITHUB_RUN_ATTEMPT}` : "";
  return `${server}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}${attempt}`;
}

/** The environment's deployments page on github.com (GITHUB_SERVER_URL on GHES). */
export function environmentPageUrl(repository: string, environment: string, env = process.env): string {
  const server = (env.GITHUB_SERVER_URL || "https://github.com").replace(/\/$/, "");
  return `${server}/${repository}/deployments/${encodeURIComponent(environment)}`;
}

function client(options: GitHubOptions, reporter: Reporter): GitHubCore {
  return gitHubCore({ ...options, onWarning: options.onWarning ?? ((line) => reporter.warn(line)) });
}

const refusal = (what: string, error: unknown) =>
  `${what} not recorded on GitHub (${(error as Error)?.message ?? String(error)}); the deploy goes on. Grant the job \`permissions: deployments: write\` and pass github-token to record it.`;

/**
 * The deployment of `environment` at `ref` that this workflow run already has: the one GitHub records for
 * a job with `environment:`, or an earlier step's. Found by its statuses linking to the run; newest first.
 */
async function runDeployment(gh: GitHubCore, options: StartDeploymentOptions): Promise<number | undefined> {
  const runId = options.runId ?? process.env.GITHUB_RUN_ID;
  if (!runId) return undefined;
  const deployments = await gh.call(() =>
    gh.octokit.request("GET /repos/{owner}/{repo}/deployments", {
      owner: gh.owner,
      repo: gh.repo,
      environment: options.environment,
      sha: options.ref,
      per_page: 10,
    }),
  );
  const ofThisRun = new RegExp(`/actions/runs/${runId}(/|$)`);
  for (const deployment of deployments) {
    // @octokit/core reads ids past 2^53 as bigint; GitHub's deployment ids are far below that.
    const id = Number(deployment.id);
    const statuses = await gh.call(() =>
      gh.octokit.request("GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
        owner: gh.owner,
        repo: gh.repo,
        deployment_id: id,
        per_page: 20,
      }),
    );
    if (statuses.some((s) => ofThisRun.test(s.log_url ?? "") || ofThisRun.test(s.target_url ?? "")))
      return id;
  }
  return undefined;
}

/**
 * Records a deployment of `ref` to `environment` (status in_progress) and returns the handle that adds
 * its final status. Never throws: without a record the handle's `id` is undefined and `finish` does nothing.
 */
export async function startDeployment(options: StartDeploymentOptions): Promise<DeploymentHandle> {
  const reporter = options.reporter ?? consoleReporter;
  const logUrl = options.logUrl ?? runUrl();
  let environmentUrl = options.url;
  const unrecorded = (): DeploymentHandle => ({
    id: undefined,
    environment: options.environment,
    environmentUrl,
    htmlUrl: undefined,
    logUrl,
    finish: async () => undefined,
  });
  let gh: GitHubCore;
  let id: number;
  try {
    gh = client(options.github, reporter);
    const adopted = options.continueId ?? (await runDeployment(gh, options));
    if (adopted !== undefined) id = adopted;
    else {
      const created = await gh.call<{ id?: number | bigint; message?: string }>(() =>
        gh.octokit.request("POST /repos/{owner}/{repo}/deployments", {
          owner: gh.owner,
          repo: gh.repo,
          ref: options.ref,
          task: options.task ?? "deploy",
          environment: options.environment,
          description: clip(options.description),
          payload: (options.payload ?? {}) as Record<string, unknown>,
          // Never merge the default branch into the ref first: the commit is what is being deployed.
          auto_merge: false,
          // The commit's status checks are not consulted: the deploy runs from a commit CI already
          // passed (a push to main, a merged promotion PR), and a check still running or re-run must
          // not make GitHub answer 409 and leave a real deploy without its record.
          required_contexts: [],
          transient_environment: options.transient ?? false,
          production_environment: options.production ?? false,
        }),
      );
      // 202 (a merge message instead of a deployment) only happens with auto_merge: true.
      if (typeof created.id !== "number" && typeof created.id !== "bigint")
        throw new Error(`GitHub created no deployment: ${created.message ?? "no id in the answer"}`);
      id = Number(created.id);
    }
  } catch (error) {
    reporter.warn(refusal(`deployment of ${options.environment}`, error));
    return unrecorded();
  }
  const handle: DeploymentHandle = {
    id,
    environment: options.environment,
    get environmentUrl() {
      return environmentUrl;
    },
    htmlUrl: environmentPageUrl(`${gh.owner}/${gh.repo}`, options.environment),
    logUrl,
    async finish(state, details = {}) {
      if (details.environmentUrl) environmentUrl = details.environmentUrl;
      try {
        await gh.call(() =>
          gh.octokit.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
            owner: gh.owner,
            repo: gh.repo,
            deployment_id: id,
            state,
            description: clip(details.description),
            ...(details.logUrl || logUrl ? { log_url: details.logUrl ?? logUrl } : {}),
            ...(environmentUrl ? { environment_url: environmentUrl } : {}),
            // GitHub's rule (success inactivates earlier successes of a non-transient, non-production
            // environment), stated rather than defaulted.
            auto_inactive: true,
          }),
        );
        reporter.info(`GitHub deployment #${id} of ${options.environment}: ${state}`);
      } catch (error) {
        reporter.warn(refusal(`deployment status ${state} of #${id} (${options.environment})`, error));
      }
    },
  };
  await handle.finish("in_progress", { description: options.description });
  return handle;
}

/**
 * Marks every deployment of `environment` that is not already inactive `inactive` (a torn-down
 * preview, or a transient or production environment GitHub does not inactivate by itself). Returns
 * how many it marked; never throws.
 */
export async function deactivate(options: DeactivateOptions): Promise<number> {
  const reporter = options.reporter ?? consoleReporter;
  let marked = 0;
  try {
    const gh = client(options.github, reporter);
    const deployments = [];
    // Every page (the small client has no paginate): 100 a page until a short one.
    for (let page = 1; ; page++) {
      const batch = await gh.call(() =>
        gh.octokit.request("GET /repos/{owner}/{repo}/deployments", {
          owner: gh.owner,
          repo: gh.repo,
          environment: options.environment,
          per_page: 100,
          page,
        }),
      );
      deployments.push(...batch);
      if (batch.length < 100) break;
    }
    for (const deployment of deployments) {
      const id = Number(deployment.id);
      if (id === options.except) continue;
      const [latest] = await gh.call(() =>
        gh.octokit.request("GET /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
          owner: gh.owner,
          repo: gh.repo,
          deployment_id: id,
          per_page: 1,
        }),
      );
      if (latest?.state === "inactive") continue;
      await gh.call(() =>
        gh.octokit.request("POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses", {
          owner: gh.owner,
          repo: gh.repo,
          deployment_id: id,
          state: "inactive",
          description: "environment torn down or superseded",
        }),
      );
      marked++;
    }
    reporter.info(`GitHub deployments of ${options.environment}: ${marked} marked inactive`);
  } catch (error) {
    reporter.warn(
      `deployments of ${options.environment} not marked inactive (${(error as Error)?.message ?? String(error)}); grant the job \`permissions: deployments: write\``,
    );
  }
  return marked;
}

/** Which deploy records the deployment: the platform decides what the environment URL can be. */
export type DeployKind = "ecs" | "lambda" | "helm";

/**
 * What the environment serves, when the deploy can know it: the API's load balancer for ECS
 * (https when it has an HTTPS listener), nothing for Lambda (no URL of its own) or EKS (the ingress
 * is not this repository's). A lookup that fails is an info line and no URL.
 */
export async function environmentUrlOf(
  kind: DeployKind,
  env: Environment,
  options: { aws?: Partial<AwsOptions>; elb?: ElasticLoadBalancingV2Client; reporter?: Reporter } = {},
): Promise<string | undefined> {
  if (kind !== "ecs") return undefined;
  const reporter = options.reporter ?? consoleReporter;
  const elb =
    options.elb ?? createClient(ElasticLoadBalancingV2Client, { region: env.region, ...options.aws });
  try {
    const lb = (await elb.send(new DescribeLoadBalancersCommand({ Names: [env.api.loadBalancer] })))
      .LoadBalancers?.[0];
    if (!lb?.DNSName) return undefined;
    const listeners = (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
      .Listeners;
    const https = listeners?.some((listener) => listener.Protocol === "HTTPS");
    return `${https ? "https" : "http"}://${lb.DNSName}`;
  } catch (error) {
    reporter.info(
      `no environment URL: load balancer ${env.api.loadBalancer} not found (${(error as Error)?.name ?? error}); pass environment-url`,
    );
    return undefined;
  }
}

/**
 * The job environment variable (set through GITHUB_ENV) that carries an environment's deployment from
 * one step to the next of the same job, so deploy-ecs and deploy-lambda of one deploy share one record.
 */
export function deploymentVariable(environment: string): string {
  return `CONTENT_ENGINE_DEPLOYMENT_${environment.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

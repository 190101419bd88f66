// What the preview action and `content-engine preview` share: the base environment (the one file with
// a `previews` block), `up` that first makes room under the cap, and the comment on each reaped PR.
import { readFileSync } from "node:fs";
import { loadEnvironments, previewName, previewNumber } from "@content-engine/environments";
import type { AwsOptions } from "./aws.ts";
import { deactivate, startDeployment } from "./deployments.ts";
import { DeliveryError } from "./errors.ts";
import { type GitHubOptions, gitHubClient } from "./github.ts";
import { finish, type Outcome, Stopwatch } from "./outcome.ts";
import {
  downPreview,
  listPreviews,
  type PreviewDeployment,
  type PreviewKind,
  type PreviewSummary,
  type ReapedPreview,
  reapPreviews,
  upPreview,
} from "./preview.ts";
import { consoleReporter, type Reporter } from "./reporter.ts";

/** The environment previews derive from: the one file of the folder with a `previews` block. */
export function loadPreviewBase(dir: string) {
  const base = loadEnvironments(dir).previewBase;
  if (!base)
    throw new DeliveryError(
      `no environment file in ${dir} has a previews block (previews: {domain, maxCount, maxAgeHours}); add it to the file previews derive from (normally dev)`,
    );
  return base;
}

/** Comments on a pull request (an issue comment), with the delivery GitHub client. */
export async function commentOnPullRequest(github: GitHubOptions, number: number, body: string) {
  const client = gitHubClient(github);
  await client.call(() =>
    client.octokit.rest.issues.createComment({
      owner: client.owner,
      repo: client.repo,
      issue_number: number,
      body,
    }),
  );
}

export interface PreviewRunOptions {
  command: string;
  environmentsDir: string;
  /** The pull request number as given (validated here). */
  pullRequest?: string;
  digest?: string;
  tag?: string;
  workerBundle?: string;
  /** A local worker zip (CLI). */
  zipFile?: string;
  maxCount?: number;
  maxAgeHours?: number;
  /**
   * GitHub: each preview's deployments (environment pr-<n>, transient: in_progress, success with its URL
   * or failure; inactive once destroyed) and the comment on each reaped preview's pull request. Without a
   * token nothing is recorded or commented.
   */
  github?: GitHubOptions;
  /** The commit the preview runs (the pull request's head sha): the deployment's ref. */
  ref?: string;
  deployment?: PreviewDeployment;
  skip?: PreviewKind[];
  aws?: Partial<AwsOptions>;
  registryEndpoint?: string;
  kubeconfig?: string;
  helm?: string;
  timeoutSeconds?: number;
  reporter?: Reporter;
}

const reapedJson = (reaped: ReapedPreview[]) =>
  JSON.stringify(
    reaped.map(({ number, name, why, reason, outcome }) => ({
      number,
      name,
      why,
      reason,
      status: outcome.status,
    })),
  );

/** Comments "preview pr-7 was removed: …" on each reaped preview's pull request (best effort: warns). */
async function tellReaped(reaped: ReapedPreview[], options: PreviewRunOptions, reporter: Reporter) {
  if (!reaped.length) return;
  if (!options.github?.token) {
    reporter.warn(
      `no GitHub token: the pull requests of ${reaped.map((r) => r.name).join(", ")} were not told`,
    );
    return;
  }
  for (const preview of reaped) {
    const failed =
      preview.outcome.status === "failed" ? `\n\nThe destroy did not finish: ${preview.outcome.reason}` : "";
    await commentOnPullRequest(options.github, preview.number, `${preview.reason}.${failed}`).catch((error) =>
      reporter.warn(`could not comment on #${preview.number}: ${(error as Error).message}`),
    );
  }
}

/** The preview's GitHub deployment (deployments.ts), when a token and the commit are known. */
function previewDeployment(
  options: PreviewRunOptions,
  n: number,
  reporter: Reporter,
): PreviewDeployment | undefined {
  if (options.deployment) return options.deployment;
  const github = options.github;
  const ref = options.ref;
  if (!github?.token || !ref) return undefined;
  const environment = previewName(n);
  let handle: Awaited<ReturnType<typeof startDeployment>> | undefined;
  return {
    async start() {
      handle = await startDeployment({
        github,
        environment,
        ref,
        description: `preview of #${n}: ${options.tag ?? options.digest ?? ""}`.trim(),
        payload: { digest: options.digest, tag: options.tag, pullRequest: n },
        transient: true,
        production: false,
        reporter,
      });
    },
    async finish(state, url) {
      await handle?.finish(state, { environmentUrl: url });
    },
  };
}

/** Marks every deployment of destroyed previews inactive (GitHub never does it for transient environments). */
async function deactivateDestroyed(numbers: number[], options: PreviewRunOptions, reporter: Reporter) {
  if (!options.github?.token) return;
  for (const n of numbers)
    await deactivate({ github: options.github, environment: previewName(n), reporter });
}

/**
 * up: reap (age, and room under maxCount for this one), comment on the reaped, then create or update.
 * down: destroy and verify. reap: the scheduled reaper (age and count). list: the previews.
 */
export async function runPreview(options: PreviewRunOptions): Promise<Outcome | PreviewSummary[]> {
  const reporter = options.reporter ?? consoleReporter;
  const base = loadPreviewBase(options.environmentsDir);
  const common = {
    base,
    aws: options.aws,
    registryEndpoint: options.registryEndpoint,
    kubeconfig: options.kubeconfig,
    helm: options.helm,
    timeoutSeconds: options.timeoutSeconds,
    reporter,
  };
  const number = () => {
    if (options.pullRequest === undefined || options.pullRequest === "")
      throw new DeliveryError(
        `preview ${options.command} needs the pull request number (pull-request / --pr)`,
      );
    return previewNumber(options.pullRequest);
  };
  switch (options.command) {
    case "list":
      return listPreviews(base, common);
    case "up": {
      const n = number();
      if (!options.digest)
        throw new DeliveryError("preview up needs the image digest (digest / --digest sha256:…)");
      const reaped = await reapPreviews({
        ...common,
        keep: n,
        maxCount: options.maxCount,
        maxAgeHours: options.maxAgeHours,
      });
      await tellReaped(reaped, options, reporter);
      await deactivateDestroyed(
        reaped.filter((r) => r.outcome.status !== "failed").map((r) => r.number),
        options,
        reporter,
      );
      const outcome = await upPreview({
        ...common,
        number: n,
        digest: options.digest,
        tag: options.tag,
        workerBundle: options.workerBundle,
        zipFile: options.zipFile ? readFileSync(options.zipFile) : undefined,
        deployment: previewDeployment(options, n, reporter),
      });
      return { ...outcome, outputs: { ...outcome.outputs, reaped: reapedJson(reaped) } };
    }
    case "down": {
      const n = number();
      const outcome = await downPreview({
        ...common,
        number: n,
        skip: options.skip,
        deployment: options.deployment,
      });
      if (outcome.status !== "failed") await deactivateDestroyed([n], options, reporter);
      return outcome;
    }
    case "reap": {
      const watch = new Stopwatch();
      const reaped = await reapPreviews({
        ...common,
        maxCount: options.maxCount,
        maxAgeHours: options.maxAgeHours,
      });
      await tellReaped(reaped, options, reporter);
      const failed = reaped.filter((r) => r.outcome.status === "failed");
      await deactivateDestroyed(
        reaped.filter((r) => r.outcome.status !== "failed").map((r) => r.number),
        options,
        reporter,
      );
      return finish(watch, {
        operation: "preview-reap",
        target: `previews of ${base.name}`,
        status: failed.length ? "failed" : reaped.length ? "succeeded" : "unchanged",
        reason: reaped.length
          ? `${reaped.map((r) => r.reason).join("; ")}${failed.length ? `; not gone: ${failed.map((r) => r.outcome.reason).join("; ")}` : ""}`
          : "no preview is over the age or count cap",
        diagnostics: reaped.flatMap((r) => r.outcome.diagnostics.map((line) => `${r.name}: ${line}`)),
        outputs: { reaped: reapedJson(reaped) },
      });
    }
    default:
      throw new DeliveryError(
        `preview needs up, down, list or reap, got ${options.command ? `"${options.command}"` : "nothing"}`,
      );
  }
}

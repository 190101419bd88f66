// The OIDC token GitHub gives a job, as far as AWS's trust decision reads it: the claims GitHub derives
// from the job (repository, ref, the job's `environment:`, the workflow file and its ref, the event)
// and the `sub` the repository's subject template joins from them. Used by the trust tests and by the
// rehearsal's configure-aws-credentials stand-in, which builds the token of the job act runs.
import { parse } from "yaml";

export interface JobClaims {
  /** ORG/REPO */
  repository: string;
  /** refs/heads/main */
  ref: string;
  /** The GitHub environment the job runs in, if it names one. */
  environment?: string;
  event_name: string;
  /** ORG/REPO/.github/workflows/<file>@<ref>: the workflow that defines the job (the called one for a reusable workflow). */
  job_workflow_ref: string;
}

/** GitHub's `context` claim: the environment, else a pull request, else the ref. */
export function contextClaim(claims: JobClaims): string {
  if (claims.environment) return `environment:${claims.environment}`;
  if (claims.event_name === "pull_request" || claims.event_name === "pull_request_target")
    return "pull_request";
  return `ref:${claims.ref}`;
}

/**
 * The `sub` GitHub issues under a subject template that includes `keys`, in order (GitHub's custom
 * template: `repo:ORG/REPO`, the context as is, every other claim as `key:value`, joined with `:`).
 *
 * @example
 * subjectOf(claims, ["repo", "context", "job_workflow_ref"]);
 * // "repo:acme/app:environment:prod:job_workflow_ref:acme/app/.github/workflows/deploy-env.yml@refs/heads/main"
 */
export function subjectOf(claims: JobClaims, keys: readonly string[]): string {
  return keys
    .map((key) => {
      if (key === "repo") return `repo:${claims.repository}`;
      if (key === "context") return contextClaim(claims);
      const value = (claims as unknown as Record<string, unknown>)[key];
      if (typeof value !== "string" || value === "")
        throw new Error(`the subject template names the claim ${key}, which this job has no value for`);
      return `${key}:${value}`;
    })
    .join(":");
}

/** The claims of a job defined in `workflowFile` of `repository`, run on `ref`. */
export function jobClaims(options: {
  repository: string;
  workflowFile: string;
  ref: string;
  eventName: string;
  environment?: string;
}): JobClaims {
  return {
    repository: options.repository,
    ref: options.ref,
    ...(options.environment ? { environment: options.environment } : {}),
    event_name: options.eventName,
    job_workflow_ref: `${options.repository}/.github/workflows/${options.workflowFile}@${options.ref}`,
  };
}

interface WorkflowFile {
  name?: string;
  jobs?: Record<string, { environment?: string | { name?: string } }>;
}

/** Of `files` (workflow file name → text), the one whose `name:` is `name` (the runner's GITHUB_WORKFLOW). */
export function workflowFileNamed(files: Record<string, string>, name: string): string {
  const matches = Object.entries(files).filter(([file, text]) => {
    const parsed = parse(text) as WorkflowFile | null;
    return (parsed?.name ?? file) === name;
  });
  if (matches.length !== 1)
    throw new Error(
      `expected one workflow named "${name}", found ${matches.map(([f]) => f).join(", ") || "none"}`,
    );
  return matches[0]![0];
}

/**
 * The GitHub environment job `jobId` of a workflow runs in, as GitHub reads it from the job's
 * `environment:` (a name or `{ name }`), with `${{ matrix.<key> }}` resolved from the job's matrix.
 * Undefined when the job names no environment; any other expression is an error.
 */
export function jobEnvironment(
  workflowText: string,
  jobId: string,
  matrix: Record<string, unknown>,
): string | undefined {
  const job = (parse(workflowText) as WorkflowFile).jobs?.[jobId];
  if (!job) throw new Error(`the workflow has no job "${jobId}"`);
  const raw = typeof job.environment === "object" ? job.environment.name : job.environment;
  if (raw === undefined) return undefined;
  return raw.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => {
    const key = expression.match(/^matrix\.([\w-]+)$/)?.[1];
    const value = key === undefined ? undefined : matrix[key];
    if (typeof value !== "string")
      throw new Error(
        `job "${jobId}": environment expression \${{ ${expression} }} does not resolve from the matrix`,
      );
    return value;
  });
}

/**
 * A job's OIDC token (`claims`, its `sub` under the repository's `claimKeys`) traded at `endpoint` for
 * `roleArn`'s credentials with AssumeRoleWithWebIdentity, unsigned as configure-aws-credentials sends it.
 */
export async function assumeWithJobToken(
  endpoint: string,
  roleArn: string,
  claims: JobClaims,
  claimKeys: readonly string[],
  sessionName = "test",
): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
  const token = { ...claims, aud: "sts.amazonaws.com", sub: subjectOf(claims, claimKeys) };
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      WebIdentityToken: `${b64({ alg: "none" })}.${b64(token)}.`,
    }),
  });
  const xml = await response.text();
  const pick = (tag: string) => xml.match(new RegExp(`<${tag}>([^<]+)</${tag}>`))![1]!;
  return {
    accessKeyId: pick("AccessKeyId"),
    secretAccessKey: pick("SecretAccessKey"),
    sessionToken: pick("SessionToken"),
  };
}

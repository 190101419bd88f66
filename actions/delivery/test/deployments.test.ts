// deployments.ts against the fake GitHub of the rehearsal (real HTTP on loopback): what a deploy
// records, in what order, and that a GitHub that refuses never stops the deploy.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeGitHub, startFakeGitHub } from "../../../test/rehearsal/fake-github.ts";
import { git } from "../../../test/rehearsal/git.ts";
import {
  deactivate,
  deploymentVariable,
  environmentPageUrl,
  runUrl,
  startDeployment,
} from "../src/deployments.ts";
import { gitHubClient } from "../src/github.ts";
import { memoryReporter } from "../src/reporter.ts";

const REPOSITORY = "acme/content-engine";
const SHA = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"a".repeat(64)}`;
const RUN = "https://github.com/acme/content-engine/actions/runs/42";

let github: FakeGitHub;
beforeAll(async () => {
  const bare = mkdtempSync(join(tmpdir(), "deployments-bare-"));
  git(bare, ["init", "-q", "--bare"]);
  github = await startFakeGitHub(bare, REPOSITORY);
});
afterAll(() => github.close());
beforeEach(() => {
  github.deployments.length = 0;
  github.failures.clear();
  github.failuresOnce.clear();
  github.requests.length = 0;
});

const options = (reporter = memoryReporter()) => ({
  github: { token: "ghs_test", repository: REPOSITORY, apiUrl: github.apiUrl, retries: 0 },
  environment: "dev",
  ref: SHA,
  description: "ecs v1.2.3 (sha256:aaaaaaaaaaaa)",
  payload: { digest: DIGEST, tag: "v1.2.3" },
  logUrl: RUN,
  reporter,
});

describe("startDeployment", () => {
  it("records the deployment, then in_progress → success with the environment URL and the run as log_url", async () => {
    const reporter = memoryReporter();
    const handle = await startDeployment({ ...options(reporter), url: "http://alb.example" });
    expect(handle.id).toBeTypeOf("number");
    await handle.finish("success", {
      environmentUrl: "https://api.example.com",
      description: "deploy-ecs succeeded",
    });

    const [recorded] = github.deployments;
    expect(recorded).toMatchObject({
      id: handle.id,
      sha: SHA,
      ref: SHA,
      task: "deploy",
      environment: "dev",
      payload: { digest: DIGEST, tag: "v1.2.3" },
      transient_environment: false,
      production_environment: false,
      auto_merge: false,
      required_contexts: [],
    });
    expect(recorded!.statuses.map((s) => [s.state, s.environment_url, s.log_url])).toEqual([
      ["in_progress", "http://alb.example", RUN],
      ["success", "https://api.example.com", RUN],
    ]);
    expect(recorded!.statuses[1]!.description).toBe("deploy-ecs succeeded");
    expect(handle.environmentUrl).toBe("https://api.example.com");
    expect(handle.htmlUrl).toBe("https://github.com/acme/content-engine/deployments/dev");
    expect(reporter.lines.filter((line) => line.startsWith("warning"))).toEqual([]);
  });

  it("continues the deployment GitHub recorded for the job (its statuses link to this run) instead of doubling it", async () => {
    const gh = gitHubClient({ token: "ghs_test", repository: REPOSITORY, apiUrl: github.apiUrl, retries: 0 });
    // What GitHub does for a job with `environment: dev` in run 42, before any step runs.
    const job = await gh.call<{ id: number }>(
      () =>
        gh.octokit.rest.repos.createDeployment({
          owner: "acme",
          repo: "content-engine",
          ref: SHA,
          environment: "dev",
          auto_merge: false,
          required_contexts: [],
        }) as unknown as Promise<{ data: { id: number } }>,
    );
    const jobId = job.id;
    await gh.call(() =>
      gh.octokit.rest.repos.createDeploymentStatus({
        owner: "acme",
        repo: "content-engine",
        deployment_id: jobId,
        state: "queued",
        log_url: `${RUN}/job/7`,
      }),
    );
    // Another run's deployment of the same commit is left alone.
    const other = await startDeployment({
      ...options(),
      runId: "41",
      logUrl: "https://github.com/acme/content-engine/actions/runs/41",
    });
    const handle = await startDeployment({ ...options(), runId: "42", url: "http://alb.example" });
    expect(handle.id).toBe(jobId);
    expect(other.id).not.toBe(jobId);
    await handle.finish("success");
    expect(github.deployments).toHaveLength(2);
    expect(
      github.deployments.find((d) => d.id === jobId)!.statuses.map((s) => [s.state, s.environment_url]),
    ).toEqual([
      ["queued", ""],
      ["in_progress", "http://alb.example"],
      ["success", "http://alb.example"],
    ]);
  });

  it("records a failure as failure, and omits environment_url when none is known", async () => {
    const handle = await startDeployment(options());
    await handle.finish("failure", { description: "rolled back: circuit breaker" });
    expect(github.deployments[0]!.statuses.map((s) => [s.state, s.environment_url])).toEqual([
      ["in_progress", ""],
      ["failure", ""],
    ]);
  });

  it("turns a 403 (a workflow without deployments: write) into a warning, and finish does nothing", async () => {
    github.failures.set("POST /deployments", 403);
    const reporter = memoryReporter();
    const handle = await startDeployment(options(reporter));
    expect(handle.id).toBeUndefined();
    await expect(handle.finish("success")).resolves.toBeUndefined();
    expect(github.deployments).toEqual([]);
    expect(reporter.lines).toEqual([
      expect.stringMatching(
        /^warning: deployment of dev not recorded on GitHub \(GitHub POST \/repos\/acme\/content-engine\/deployments failed \(403\): Resource not accessible by integration\); the deploy goes on\. Grant the job `permissions: deployments: write`/,
      ),
    ]);
  });

  it("retries a 5xx from GitHub (plugin-retry) and records the deployment once", async () => {
    github.failuresOnce.set("POST /deployments", 502);
    const reporter = memoryReporter();
    const handle = await startDeployment({
      ...options(reporter),
      github: { ...options().github, retries: 1 },
    });
    expect(handle.id).toBeTypeOf("number");
    expect(github.requests.filter((r) => r === "POST /repos/acme/content-engine/deployments")).toHaveLength(
      2,
    );
    expect(github.deployments.map((d) => d.statuses.map((s) => s.state))).toEqual([["in_progress"]]);
    expect(reporter.lines.filter((line) => line.startsWith("warning"))).toEqual([]);
  });

  it("warns when a status is refused, and goes on", async () => {
    const reporter = memoryReporter();
    const handle = await startDeployment(options(reporter));
    github.failures.set(`POST /deployments/${handle.id}/statuses`, 500);
    await expect(handle.finish("success")).resolves.toBeUndefined();
    expect(reporter.lines.at(-1)).toMatch(
      new RegExp(`^warning: deployment status success of #${handle.id} \\(dev\\) not recorded on GitHub`),
    );
  });

  it("warns without a token and records nothing", async () => {
    const reporter = memoryReporter();
    const handle = await startDeployment({
      ...options(reporter),
      github: { ...options().github, token: "" },
    });
    expect(handle.id).toBeUndefined();
    expect(reporter.lines[0]).toMatch(
      /^warning: deployment of dev not recorded on GitHub \(GitHub token is missing/,
    );
    expect(github.requests.some((r) => r.startsWith("POST"))).toBe(false);
  });

  it("continues a deployment an earlier step started: one record, statuses appended", async () => {
    const first = await startDeployment({ ...options(), url: "http://alb.example" });
    await first.finish("success");
    const second = await startDeployment({ ...options(), continueId: first.id, url: "http://alb.example" });
    await second.finish("failure");
    expect(github.deployments).toHaveLength(1);
    expect(github.deployments[0]!.statuses.map((s) => s.state)).toEqual([
      "in_progress",
      "success",
      "in_progress",
      "failure",
    ]);
  });

  it("leaves records rollback.ts reads: newest first, the latest status first", async () => {
    const older = await startDeployment(options());
    await older.finish("success");
    const newer = await startDeployment(options());
    await newer.finish("success");
    const gh = gitHubClient({ token: "ghs_test", repository: REPOSITORY, apiUrl: github.apiUrl, retries: 0 });
    const list = await gh.call(() =>
      gh.octokit.rest.repos.listDeployments({ owner: "acme", repo: "content-engine", environment: "dev" }),
    );
    expect(list.map((d) => d.id)).toEqual([newer.id, older.id]);
    const [latest] = await gh.call(() =>
      gh.octokit.rest.repos.listDeploymentStatuses({
        owner: "acme",
        repo: "content-engine",
        deployment_id: older.id!,
        per_page: 1,
      }),
    );
    // GitHub's auto_inactive: the newer success made the older one inactive (non-transient, non-production).
    expect(latest!.state).toBe("inactive");
    const none = await gh.call(() =>
      gh.octokit.rest.repos.listDeployments({ owner: "acme", repo: "content-engine", environment: "prod" }),
    );
    expect(none).toEqual([]);
  });

  it("keeps earlier production deployments active (GitHub does not inactivate them)", async () => {
    const older = await startDeployment({ ...options(), environment: "prod", production: true });
    await older.finish("success");
    const newer = await startDeployment({ ...options(), environment: "prod", production: true });
    await newer.finish("success");
    expect(github.deployments.map((d) => d.statuses.at(-1)!.state)).toEqual(["success", "success"]);
  });
});

describe("deactivate", () => {
  it("marks every deployment of a transient environment inactive (GitHub never does it for them)", async () => {
    const reporter = memoryReporter();
    for (const state of ["success", "failure", "success"] as const) {
      const handle = await startDeployment({ ...options(), environment: "pr-7", transient: true });
      await handle.finish(state);
    }
    const other = await startDeployment(options());
    await other.finish("success");
    expect(
      github.deployments.filter((d) => d.environment === "pr-7").map((d) => d.statuses.at(-1)!.state),
    ).toEqual(["success", "failure", "success"]);
    const marked = await deactivate({
      github: options().github,
      environment: "pr-7",
      reporter,
    });
    expect(marked).toBe(3);
    expect(github.deployments.map((d) => [d.environment, d.statuses.at(-1)!.state])).toEqual([
      ["pr-7", "inactive"],
      ["pr-7", "inactive"],
      ["pr-7", "inactive"],
      ["dev", "success"],
    ]);
    // Already inactive: nothing more to mark.
    expect(await deactivate({ github: options().github, environment: "pr-7", reporter })).toBe(0);
  });

  it("reads every page of the environment's deployments: the 101st (page 2) is marked too", async () => {
    const at = new Date().toISOString();
    for (let i = 0; i < 101; i++) {
      github.deployments.push({
        id: 10_000 + i,
        sha: SHA,
        ref: SHA,
        task: "deploy",
        environment: "pr-9",
        description: "",
        payload: {},
        transient_environment: true,
        production_environment: false,
        auto_merge: false,
        required_contexts: [],
        created_at: at,
        // The oldest (last in GitHub's newest-first list, so alone on page 2) is still active.
        statuses: [
          {
            id: 20_000 + i,
            state: i === 0 ? "success" : "inactive",
            description: "",
            environment_url: "",
            log_url: "",
            created_at: at,
          },
        ],
      });
    }
    expect(await deactivate({ github: options().github, environment: "pr-9" })).toBe(1);
    expect(github.deployments[0]!.statuses.at(-1)!.state).toBe("inactive");
    expect(
      github.requests.filter((r) => r.startsWith("GET /repos/acme/content-engine/deployments?")),
    ).toEqual([expect.stringContaining("page=1"), expect.stringContaining("page=2")]);
  });

  it("leaves `except` alone, and warns instead of failing when GitHub refuses", async () => {
    const a = await startDeployment({ ...options(), environment: "pr-8", transient: true });
    await a.finish("success");
    const b = await startDeployment({ ...options(), environment: "pr-8", transient: true });
    await b.finish("success");
    expect(await deactivate({ github: options().github, environment: "pr-8", except: b.id })).toBe(1);
    expect(github.deployments.map((d) => d.statuses.at(-1)!.state)).toEqual(["inactive", "success"]);

    github.failures.set("GET /deployments", 403);
    const reporter = memoryReporter();
    expect(await deactivate({ github: options().github, environment: "pr-8", reporter })).toBe(0);
    expect(reporter.lines[0]).toMatch(/^warning: deployments of pr-8 not marked inactive \(GitHub GET/);
  });
});

describe("links", () => {
  it("names the run (and its attempt) the job summary lives in", () => {
    expect(
      runUrl({ GITHUB_SERVER_URL: "https://github.com", GITHUB_REPOSITORY: REPOSITORY, GITHUB_RUN_ID: "42" }),
    ).toBe(RUN);
    expect(
      runUrl({
        GITHUB_SERVER_URL: "https://ghe.example.com/",
        GITHUB_REPOSITORY: REPOSITORY,
        GITHUB_RUN_ID: "42",
        GITHUB_RUN_ATTEMPT: "2",
      }),
    ).toBe("https://ghe.example.com/acme/content-engine/actions/runs/42/attempts/2");
    expect(runUrl({})).toBeUndefined();
    expect(environmentPageUrl(REPOSITORY, "pr-7", {})).toBe(
      "https://github.com/acme/content-engine/deployments/pr-7",
    );
    expect(deploymentVariable("prod-eu")).toBe("CONTENT_ENGINE_DEPLOYMENT_PROD_EU");
  });
});

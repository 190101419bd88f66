import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { useMoto } from "../../../test/support/moto.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const moto = useMoto();
const repository = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/content-engine";

/** A workspace holding the Dockerfile the inputs name (build-push checks it exists before any call). */
function workspaceWithDockerfile(): string {
  const workspace = scratchWorkspace();
  mkdirSync(join(workspace, "services"), { recursive: true });
  writeFileSync(join(workspace, "services", "Dockerfile"), "FROM scratch\n");
  return workspace;
}

describe("build-push dist/index.js run as the runner runs it", () => {
  it("masks the ECR password before printing anything, then stops on moto's expired token before docker runs", async () => {
    const run = await runBundledAction(
      "build-push",
      { repository, dockerfile: "services/Dockerfile", "aws-endpoint": moto.endpoint },
      { workspace: workspaceWithDockerfile(), env: { PATH: "/nonexistent" } },
    );
    const lines = run.stdout.split("\n").filter(Boolean);
    expect(lines[0]).toMatch(/^::add-mask::/);
    expect(lines[1]).toMatch(/^::add-mask::/);
    expect(errorLines(run)).toEqual([
      "::error::ECR authorization token expired at 2015-01-01T00:00:00.000Z: request a new one (re-run the job)",
    ]);
    expect(run.code).toBe(1);
  });

  it("plans the exact buildx command with labels, cache and the default branch-sha tag", async () => {
    const run = await runBundledAction(
      "build-push",
      { repository, dockerfile: "services/Dockerfile", plan: "true" },
      { workspace: workspaceWithDockerfile() },
    );
    expect(run.code).toBe(0);
    expect(run.summary).toContain(
      `docker buildx build --file services/Dockerfile --platform linux/amd64 --label org.opencontainers.image.revision=0123456789abcdef0123456789abcdef01234567 --label org.opencontainers.image.source=https://github.com/acme/content-engine --label org.opencontainers.image.version=main-0123456 --cache-from type=gha,scope=content-engine --cache-to type=gha,mode=max,scope=content-engine --tag ${repository}:main-0123456 --provenance=false --metadata-file <metadata> --push .`,
    );
  });

  it("refuses a repository that is not in ECR with one line", async () => {
    const run = await runBundledAction(
      "build-push",
      { repository: "docker.io/acme/app" },
      { workspace: scratchWorkspace() },
    );
    expect(errorLines(run)[0]).toMatch(
      /^::error::repository "docker.io\/acme\/app" is not an ECR repository URL/,
    );
  });

  it("refuses in its plan a Dockerfile the repository does not have (deploy.yml once named one)", async () => {
    const run = await runBundledAction(
      "build-push",
      { repository, dockerfile: "Dockerfile", plan: "true" },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      '::error::Dockerfile "Dockerfile" does not exist (paths are relative to the working directory, e.g. services/api/Dockerfile)',
    ]);
  });

  it("succeeds with a plan on a runner without GITHUB_STEP_SUMMARY (older GHES), printing it instead", async () => {
    const run = await runBundledAction(
      "build-push",
      { repository, dockerfile: "services/Dockerfile", plan: "true" },
      { workspace: workspaceWithDockerfile(), env: { GITHUB_STEP_SUMMARY: "" } },
    );
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("planned");
    expect(run.stdout).toContain("no GITHUB_STEP_SUMMARY on this runner");
  });
});

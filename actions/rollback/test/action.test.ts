import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setEnvironmentFields } from "@content-engine/environments";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { digest } from "../../../test/support/delivery-fixtures.ts";
import { FAKE_TOKEN, GitHubFake } from "../../delivery/test/support/github-fake.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const FILE = "environments/dev.yaml";
let fake: GitHubFake;
beforeEach(async () => {
  fake = await new GitHubFake().start();
});
afterEach(() => fake.close());

/** A workspace whose dev.yaml is the head of main in the fake, after a commit that ran digest a well. */
function workspaceWithHistory() {
  const workspace = scratchWorkspace();
  const current = readFileSync(join(workspace, FILE), "utf8");
  const earlier = setEnvironmentFields(current, [
    { path: ["image", "digest"], value: digest("a") },
    { path: ["image", "tag"], value: "main-aaaaaaa" },
  ]);
  fake.deploy("dev", fake.commit({ [FILE]: earlier }, "dev: main-aaaaaaa"), "success", "inactive");
  fake.deploy("dev", fake.commit({ [FILE]: current }, "dev: current"), "failure");
  return workspace;
}

describe("rollback dist/index.js run as the runner runs it (GitHub faked)", () => {
  it("opens the rollback pull request from INPUT_* variables against the faked GitHub API", async () => {
    const run = await runBundledAction(
      "rollback",
      { environment: "dev", "github-token": FAKE_TOKEN, "github-api-url": fake.url },
      { workspace: workspaceWithHistory() },
    );
    expect(errorLines(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({
      status: "succeeded",
      "pull-request-number": "1",
      "pull-request-url": "https://github.com/acme/content-engine/pull/1",
      digest: digest("a"),
    });
    expect(run.summary).toContain("rollback dev: succeeded");
    expect(fake.pulls[0]).toMatchObject({
      head: "rollback/dev",
      title: "Roll back dev to main-aaaaaaa (sha256:aaaaaaaaaaaa)",
    });
  });

  it("says the environment input is required when it is missing, before any GitHub call", async () => {
    const run = await runBundledAction(
      "rollback",
      { "github-token": FAKE_TOKEN, "github-api-url": fake.url },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      "::error::input environment: required: the environment to roll back (a file environments/<name>.yaml)",
    ]);
    expect(run.outputs.status).toBe("failed");
    expect(fake.calls).toEqual([]);
  });

  it("rejects a `to` that is not a digest with one line, before any GitHub call", async () => {
    const run = await runBundledAction(
      "rollback",
      { environment: "prod", to: "v1.2.3", "github-token": FAKE_TOKEN, "github-api-url": fake.url },
      { workspace: scratchWorkspace() },
    );
    expect(errorLines(run)).toEqual([
      '::error::rollback target "v1.2.3" is not an image digest: expected sha256:<64 lowercase hex characters>, as in image.digest of the environment file',
    ]);
    expect(fake.calls).toEqual([]);
  });
});

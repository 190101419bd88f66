import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MOTO_CREDENTIALS, useMoto } from "../../../test/support/moto.ts";
import { createEcsService, digest, testEnvironment } from "./fixtures.ts";
import { repositoryRoot, scratchWorkspace } from "./support/run-action.ts";

const moto = useMoto();
const cli = join(repositoryRoot, "actions", "delivery", "src", "cli.ts");

function contentEngine(args: string[], cwd: string) {
  return spawnSync(process.execPath, [cli, ...args], {
    cwd,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
    },
  });
}

describe("the content-engine CLI", () => {
  it("plans a deploy-ecs against moto with the same function the action runs, changing nothing", async () => {
    const env = testEnvironment();
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const run = contentEngine(
      ["deploy-ecs", "--env", "dev", "--digest", digest("d"), "--plan", "--endpoint", moto.endpoint],
      scratchWorkspace(),
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("### 📝 plan: deploy-ecs content-engine-dev/content-engine-api");
    expect(run.stdout).toContain(`\`${env.image.repository}@${digest("d")}\``);
  });

  it("records a new digest in the environment file with comments kept (what deploy.yml commits)", () => {
    const workspace = scratchWorkspace();
    const before = readFileSync(join(workspace, "environments", "dev.yaml"), "utf8");
    const run = contentEngine(
      ["set-image", "--env", "dev", "--digest", digest("e"), "--tag", "main-eeeeeee"],
      workspace,
    );
    expect(run.status).toBe(0);
    const after = readFileSync(join(workspace, "environments", "dev.yaml"), "utf8");
    const changed = after.split("\n").filter((line, i) => line !== before.split("\n")[i]);
    expect(changed).toEqual([`  digest: ${digest("e")}`, "  tag: main-eeeeeee"]);
  });

  it("refuses a digest that is not sha256 with one line and exit code 2, leaving the file alone", () => {
    const workspace = scratchWorkspace();
    const before = readFileSync(join(workspace, "environments", "dev.yaml"), "utf8");
    const run = contentEngine(["set-image", "--env", "dev", "--digest", "latest"], workspace);
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(
      'content-engine: environments/dev.yaml: image.digest: expected an image digest sha256:<64 hex characters>, got "latest"',
    );
    expect(readFileSync(join(workspace, "environments", "dev.yaml"), "utf8")).toBe(before);
  });

  it("answers --timeout abc with a usage error (exit 2), never a wait that cannot end", () => {
    const run = contentEngine(["deploy-ecs", "--env", "dev", "--timeout", "abc"], scratchWorkspace());
    expect(run.status).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe(
      'content-engine: --timeout "abc" is not a number of seconds greater than 0',
    );
  });

  it("answers a misspelt option with one line and exit 2, not a stack trace", () => {
    const run = contentEngine(["deploy-ecs", "--env", "dev", "--tiemout", "5"], scratchWorkspace());
    expect(run.status).toBe(2);
    expect(run.stderr.split("\n")[0]).toBe("content-engine: Unknown option '--tiemout'");
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it("names the environments-dir it was given when the file is missing (exit 2, one line)", () => {
    const workspace = scratchWorkspace();
    const run = contentEngine(
      ["deploy-ecs", "--env", "dev", "--plan", "--environments-dir", "deploy/envs"],
      workspace,
    );
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe("content-engine: deploy/envs/dev.yaml: cannot read (ENOENT)");
    const promote = contentEngine(
      [
        "promote",
        "--from",
        "dev",
        "--to",
        "staging",
        "--plan",
        "--repository",
        "acme/x",
        "--environments-dir",
        "deploy/envs",
      ],
      workspace,
    );
    expect(promote.status).toBe(2);
    expect(promote.stderr.trim()).toBe("content-engine: deploy/envs/dev.yaml: cannot read (ENOENT)");
  });

  it("records the worker bundle next to the image digest (what the record job commits)", () => {
    const workspace = scratchWorkspace();
    const run = contentEngine(
      [
        "set-image",
        "--env",
        "dev",
        "--digest",
        digest("e"),
        "--tag",
        "main-eeeeeee",
        "--worker-bundle",
        digest("f"),
      ],
      workspace,
    );
    expect(run.status).toBe(0);
    const after = readFileSync(join(workspace, "environments", "dev.yaml"), "utf8");
    expect(after).toContain(`  bundle: ${digest("f")}`);
  });
});

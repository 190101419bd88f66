import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { environmentNames } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { createEcsService, digest, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { cliPath, contentEngine } from "./support/content-engine.ts";
import { scratchWorkspace } from "./support/run-action.ts";

const moto = useMoto();

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

  it("drift --env dev reports the service that runs another digest, writes the JSON report and exits 1", async () => {
    const env = testEnvironment();
    await createEcsService(moto.endpoint, env, `${env.image.repository}@${digest("a")}`);
    const workspace = scratchWorkspace();
    const report = join(workspace, "drift.json");
    const run = contentEngine(
      ["drift", "--environment", "dev", "--report", report, "--endpoint", moto.endpoint],
      workspace,
    );
    expect(run.status, run.stderr).toBe(1);
    expect(run.stdout).toContain("## Drift: dev differs from its file");
    expect(run.stdout).toContain(
      `| ecs-service | \`${env.api.cluster}/${env.api.service}\` | ✏️ differs | image: ${env.image.repository}@${digest("a")} → ${env.image.repository}@${env.image.digest}`,
    );
    // Without --reconcile the CLI only reads, whatever dev's file says about reconciling.
    expect(run.stdout).not.toContain("### Reconcile");
    const written = JSON.parse(readFileSync(report, "utf8")) as { environment: string; drifted: boolean }[];
    expect(written.map((r) => [r.environment, r.drifted])).toEqual([["dev", true]]);
  });

  it("drift refuses an environment that has no file with one line and exit 2", () => {
    const run = contentEngine(["drift", "--env", "qa"], scratchWorkspace());
    expect(run.status).toBe(2);
    expect(run.stderr.split("\n")[0]).toContain('unknown environment "qa"');
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

  it("lists the environments in promotion order, and refuses a broken set naming the file and field", () => {
    const workspace = scratchWorkspace();
    const listed = contentEngine(["environments", "--json"], workspace);
    expect(listed.status, listed.stderr).toBe(0);
    const summary = JSON.parse(listed.stdout) as { names: string[]; build: string; promotions: unknown[] };
    expect(summary.names).toEqual(environmentNames(join(workspace, "environments")));
    expect(summary.build).toBe(summary.names[0]);
    expect(summary.promotions).toHaveLength(summary.names.length - 1);
    const text = contentEngine(["environments"], workspace);
    expect(text.stdout).toContain(`environments (promotion order): ${summary.names.join(", ")}`);
    const last = summary.names.at(-1)!;
    const file = join(workspace, "environments", `${last}.yaml`);
    writeFileSync(file, readFileSync(file, "utf8").replace(/^(\s+)from: \S+/m, "$1from: nowhere"));
    const broken = contentEngine(["environments"], workspace);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(
      new RegExp(`${last}\\.yaml: promotion\\.from: "nowhere" is not an environment`),
    );
  });

  it("names the environments-dir it was given when the file is missing (exit 2, one line)", () => {
    const workspace = scratchWorkspace();
    const run = contentEngine(
      ["deploy-ecs", "--env", "dev", "--plan", "--environments-dir", "deploy/envs"],
      workspace,
    );
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe('content-engine: unknown environment "dev": no deploy/envs/dev.yaml');
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
    expect(promote.stderr.trim()).toBe("content-engine: deploy/envs: cannot list environment files (ENOENT)");
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

describe("content-engine rollback (GitHub faked)", () => {
  it("plans the rollback pull request against the faked GitHub API, naming the state it returns to", async () => {
    const { GitHubFake, FAKE_TOKEN } = await import("./support/github-fake.ts");
    const { setEnvironmentFields } = await import("@content-engine/environments");
    const { execFile } = await import("node:child_process");
    const fake = await new GitHubFake().start();
    try {
      const workspace = scratchWorkspace();
      const current = readFileSync(join(workspace, "environments", "dev.yaml"), "utf8");
      const earlier = setEnvironmentFields(current, [{ path: ["image", "digest"], value: digest("a") }]);
      fake.commit({ "environments/dev.yaml": earlier });
      fake.commit({ "environments/dev.yaml": current });
      // Async: the fake answers from this process, which spawnSync would block.
      const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [cliPath, "rollback", "--env", "dev", "--plan", "--repository", "acme/content-engine"],
          {
            cwd: workspace,
            env: { PATH: process.env.PATH, GITHUB_TOKEN: FAKE_TOKEN, GITHUB_API_URL: fake.url },
          },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
        );
      });
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("### 📝 plan: rollback acme/content-engine:rollback/dev");
      expect(run.stdout).toContain(`\`${digest("a")}\``);
      expect(run.stdout).toContain(
        "no deployment records for dev: chose the previous state in the file's history",
      );
      expect(fake.calls.every((call) => call.startsWith("GET "))).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it("answers a --to that is no digest, or a missing --env, with one line and exit 2", () => {
    const workspace = scratchWorkspace();
    const bad = contentEngine(
      ["rollback", "--env", "prod", "--to", "latest", "--repository", "a/b"],
      workspace,
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe(
      'content-engine: rollback target "latest" is not an image digest: expected sha256:<64 lowercase hex characters>, as in image.digest of the environment file',
    );
    const missing = contentEngine(["rollback", "--repository", "a/b"], workspace);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe(
      `content-engine: rollback needs --env <name> (${environmentNames(join(workspace, "environments")).join(", ")})`,
    );
    expect(contentEngine(["--help"], workspace).stdout).toContain(
      "rollback       --env <name> [--to sha256:…]",
    );
  });
});

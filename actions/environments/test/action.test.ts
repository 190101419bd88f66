// The bundled environments action, run as a runner runs it (INPUT_* variables, GITHUB_OUTPUT), in a
// git checkout holding a copy of the environment files.
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadEnvironments, setEnvironmentFields } from "@content-engine/environments";
import { afterEach, describe, expect, it } from "vitest";
import { runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function checkout(): { dir: string; git: (...args: string[]) => string } {
  const dir = scratchWorkspace();
  workspaces.push(dir);
  const git = (...args: string[]) =>
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
      cwd: dir,
      encoding: "utf8",
    }).stdout.trim();
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "start");
  return { dir, git };
}

const file = (dir: string, name: string) => join(dir, "environments", `${name}.yaml`);

describe("the environments action", () => {
  it("answers the names in promotion order, the promotions, the build environment and the preview base", async () => {
    const { dir } = checkout();
    const run = await runBundledAction("environments", {}, { workspace: dir });
    expect(run.code, run.stdout).toBe(0);
    // The bundled action answers what the library reads from the same files.
    const set = loadEnvironments(join(dir, "environments"));
    expect(JSON.parse(run.outputs.names!)).toEqual(set.names);
    expect(JSON.parse(run.outputs.promotions!)).toEqual(set.promotions);
    expect(set.promotions[0]).toEqual({ from: "dev", to: "staging" });
    expect(run.outputs.build).toBe("dev");
    expect(run.outputs["preview-base"]).toBe("dev");
    expect(run.outputs.changed).toBe("[]");
  });

  it("lists every environment file changed since a commit, across several commits, and a new one", async () => {
    const { dir, git } = checkout();
    const before = git("rev-parse", "HEAD");
    const names = loadEnvironments(join(dir, "environments")).names;
    writeFileSync(file(dir, "staging"), `${readFileSync(file(dir, "staging"), "utf8")}# more cpu\n`);
    git("commit", "-qam", "staging");
    // A fourth environment between dev and staging: one new file, and staging now promotes from it.
    const qa = readFileSync(file(dir, "staging"), "utf8")
      .replaceAll("222222222222", "444444444444")
      .replaceAll("staging", "qa");
    writeFileSync(file(dir, "qa"), setEnvironmentFields(qa, [{ path: ["promotion", "from"], value: "dev" }]));
    writeFileSync(
      file(dir, "staging"),
      setEnvironmentFields(readFileSync(file(dir, "staging"), "utf8"), [
        { path: ["promotion", "from"], value: "qa" },
      ]),
    );
    writeFileSync(join(dir, "environments", "README.md"), "not an environment\n");
    git("add", "-A");
    git("commit", "-qm", "qa");
    const run = await runBundledAction("environments", { "changed-since": before }, { workspace: dir });
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.outputs.changed!)).toEqual(["qa", "staging"]);
    // qa takes its place after dev; staging and everything after it follow.
    expect(JSON.parse(run.outputs.names!)).toEqual([names[0], "qa", ...names.slice(1)]);
    expect(JSON.parse(run.outputs.promotions!).slice(0, 2)).toEqual([
      { from: "dev", to: "qa" },
      { from: "qa", to: "staging" },
    ]);
  });

  it("compares with the previous commit when the push's base is not in the checkout (a first push)", async () => {
    const { dir, git } = checkout();
    writeFileSync(file(dir, "prod"), `${readFileSync(file(dir, "prod"), "utf8")}# note\n`);
    git("commit", "-qam", "prod");
    const run = await runBundledAction(
      "environments",
      { "changed-since": "0".repeat(40) },
      { workspace: dir },
    );
    expect(run.code, run.stdout).toBe(0);
    expect(JSON.parse(run.outputs.changed!)).toEqual(["prod"]);
  });

  it.each([
    [
      "a name without a file",
      { environment: "qa" },
      /unknown environment "qa": no .*environments\/qa\.yaml \(the environments are dev, staging, prod\)/,
    ],
    [
      "a malicious name",
      { environment: "../../etc/passwd" },
      /environment "\.\.\/\.\.\/etc\/passwd": expected lowercase letters/,
    ],
    [
      "a changed-since that is no commit",
      { "changed-since": "main; rm -rf /" },
      /input changed-since: a commit sha or HEAD\^/,
    ],
  ])("fails on %s, with one clear error", async (_, inputs, message) => {
    const { dir } = checkout();
    const run = await runBundledAction("environments", inputs, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(message);
    expect(run.summary).toMatch(message);
  });

  it("fails naming the file and the field when the promotion order is broken", async () => {
    const { dir } = checkout();
    writeFileSync(
      file(dir, "prod"),
      setEnvironmentFields(readFileSync(file(dir, "prod"), "utf8"), [
        { path: ["promotion", "from"], value: "qa" },
      ]),
    );
    const run = await runBundledAction("environments", {}, { workspace: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::.*prod\.yaml: promotion\.from: "qa" is not an environment/);
  });

  it("accepts a copy of the files in another folder", async () => {
    const { dir } = checkout();
    cpSync(join(dir, "environments"), join(dir, "deploy", "envs"), { recursive: true });
    const run = await runBundledAction(
      "environments",
      { "environments-dir": "deploy/envs" },
      { workspace: dir },
    );
    expect(run.code, run.stdout).toBe(0);
    expect(run.outputs.build).toBe("dev");
  });
});

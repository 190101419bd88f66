// The preview action's dist/index.js run as the runner runs it, and the CLI's preview block, against moto.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { digest, testEnvironment, workerZip } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { contentEngine } from "../../delivery/test/support/content-engine.ts";
import { runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";
import { baseWorld } from "./preview-world.ts";

const moto = useMoto({ env: { MOTO_ECS_SERVICE_RUNNING: "1" } });
beforeEach(() => moto.reset());
const base = testEnvironment();

describe("preview dist/index.js", () => {
  it("refuses a pull request number that is not one, changing nothing", async () => {
    const run = await runBundledAction(
      "preview",
      { command: "down", "pull-request": "abc", "aws-endpoint": moto.endpoint },
      { workspace: scratchWorkspace() },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.reason).toBe('pull request number "abc": expected a whole number from 1 to 99999999');
  });

  it("down of a preview that does not exist is unchanged; reap with none over the cap too", async () => {
    await baseWorld(moto.endpoint, base);
    const workspace = scratchWorkspace();
    const down = await runBundledAction(
      "preview",
      { command: "down", "pull-request": "41", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(down.code, JSON.stringify(down.outputs)).toBe(0);
    expect(down.outputs).toMatchObject({ status: "unchanged", environment: "pr-41" });
    const reap = await runBundledAction(
      "preview",
      { command: "reap", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(reap.code).toBe(0);
    expect(reap.outputs).toMatchObject({ status: "unchanged", reaped: "[]" });
  });
});

describe("content-engine preview", () => {
  it("up with a local zip, list, down: the preview comes and goes", async () => {
    await baseWorld(moto.endpoint, base);
    const workspace = scratchWorkspace();
    writeFileSync(join(workspace, "lambda.zip"), workerZip("export const handler = async () => 'pr';"));
    const up = contentEngine(
      [
        "preview",
        "up",
        "--pr",
        "5",
        "--digest",
        digest("c"),
        "--zip",
        "lambda.zip",
        "--endpoint",
        moto.endpoint,
      ],
      workspace,
    );
    expect(up.status, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toContain(`https://pr-5.${base.previews!.domain}`);
    const list = contentEngine(["preview", "list", "--endpoint", moto.endpoint], workspace);
    expect(list.stdout).toMatch(/^pr-5\tcreated \d{4}-/);
    const down = contentEngine(["preview", "down", "--pr", "5", "--endpoint", moto.endpoint], workspace);
    expect(down.status, down.stderr + down.stdout).toBe(0);
    expect(down.stdout).toContain("pr-5 destroyed");
    expect(contentEngine(["preview", "list", "--endpoint", moto.endpoint], workspace).stdout).toBe(
      "no previews\n",
    );
  });

  it.each([
    [["preview", "up", "--pr", "0"], 'pull request number "0": expected a whole number from 1 to 99999999'],
    [
      ["preview", "down", "--pr", "1e9"],
      'pull request number "1e9": expected a whole number from 1 to 99999999',
    ],
    [["preview", "down"], "preview down needs the pull request number (pull-request / --pr)"],
    [["preview", "destroy", "--pr", "3"], 'preview needs up, down, list or reap, got "destroy"'],
  ])("%j fails with exit 2: %s", (args, message) => {
    const run = contentEngine([...args, "--endpoint", "http://127.0.0.1:9"], scratchWorkspace());
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`content-engine: ${message}\n`);
  });
});

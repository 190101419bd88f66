import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetAliasCommand } from "@aws-sdk/client-lambda";
import { updateEnvironmentFile } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import { createWorkerFunction, testEnvironment, workerZip } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const env = testEnvironment();

/** Version 1 live in moto, a v2 lambda.zip in a scratch workspace, then the bundled action with `inputs`. */
async function deployV2(inputs: Record<string, string>) {
  const { lambda } = await createWorkerFunction(moto.endpoint, env, workerZip("v1"));
  const workspace = scratchWorkspace();
  writeFileSync(join(workspace, "lambda.zip"), workerZip("v2"));
  const run = await runBundledAction(
    "deploy-lambda",
    { environment: "dev", "zip-file": "lambda.zip", "aws-endpoint": moto.endpoint, ...inputs },
    { workspace },
  );
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: env.worker.functionName, Name: "live" }),
  );
  return { run, alias };
}

describe("deploy-lambda dist/index.js run as the runner runs it", () => {
  it("publishes the zip as a new version and moves the alias", async () => {
    const { run, alias } = await deployV2({ canary: "off" });
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ status: "succeeded", version: "2", "previous-revision": "1" });
    expect(alias.FunctionVersion).toBe("2");
  });

  it("refuses inside a freeze window without break-glass, leaving the alias where it is", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, workerZip("v1"));
    const workspace = scratchWorkspace();
    writeFileSync(join(workspace, "lambda.zip"), workerZip("v2"));
    updateEnvironmentFile(join(workspace, "environments", "dev.yaml"), [
      {
        path: ["promotion", "freezeWindows"],
        value: [{ start: "2000-01-01T00:00:00Z", end: "2100-01-01T00:00:00Z", reason: "test freeze" }],
      },
    ]);
    const inputs = {
      environment: "dev",
      "zip-file": "lambda.zip",
      canary: "off",
      "aws-endpoint": moto.endpoint,
    };
    const refused = await runBundledAction("deploy-lambda", inputs, { workspace });
    expect(refused.code).toBe(1);
    expect(refused.outputs.reason).toBe(
      "refused: dev is frozen: test freeze (2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z) (set break-glass to override)",
    );
    const alias = () =>
      lambda.send(new GetAliasCommand({ FunctionName: env.worker.functionName, Name: "live" }));
    expect((await alias()).FunctionVersion).toBe("1");

    const overridden = await runBundledAction(
      "deploy-lambda",
      { ...inputs, "break-glass": "poison message fix" },
      { workspace },
    );
    expect(overridden.outputs.status).toBe("succeeded");
    expect(overridden.summary).toContain(
      'break-glass: poison message fix (freeze window "test freeze" overridden)',
    );
    expect((await alias()).FunctionVersion).toBe("2");
  });

  it("fails with one line naming the field when the function does not exist", async () => {
    const workspace = scratchWorkspace();
    writeFileSync(join(workspace, "lambda.zip"), workerZip("v2"));
    const run = await runBundledAction(
      "deploy-lambda",
      { environment: "dev", "zip-file": "lambda.zip", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      '::error::Lambda function "content-engine-worker-dev" does not exist (worker.functionName in environments/dev.yaml)',
    ]);
  });

  it("walks a linear canary given by the canary-* inputs, then shifts fully", async () => {
    const { run, alias } = await deployV2({
      "canary-type": "linear",
      "canary-percent": "40",
      "canary-interval-seconds": "0.3",
    });
    expect(run.outputs.status).toBe("succeeded");
    expect(run.stdout).toContain("canary step 1/2: 40% of live on version 2 for 0.3 s");
    expect(run.stdout).toContain("canary step 2/2: 80% of live on version 2 for 0.3 s");
    expect(alias.FunctionVersion).toBe("2");
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("fails with one line naming the canary field and its inputs when they contradict each other", async () => {
    const { run, alias } = await deployV2({
      "canary-type": "canary",
      "canary-percent": "10",
      "canary-interval-seconds": "60",
      "canary-steps": "3",
    });
    expect(run.code).toBe(1);
    expect(errorLines(run)).toEqual([
      "::error::worker.canary of environments/dev.yaml with the canary-* inputs: steps: expected 1 for type canary (use type linear for several steps), got number 3",
    ]);
    expect(alias.FunctionVersion).toBe("1");
  });

  it("moves the alias back to the serving version when the job is cancelled mid-canary", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, workerZip("v1"));
    const workspace = scratchWorkspace();
    writeFileSync(join(workspace, "lambda.zip"), workerZip("v2"));
    let child: ChildProcess | undefined;
    const running = runBundledAction(
      "deploy-lambda",
      {
        environment: "dev",
        "zip-file": "lambda.zip",
        "canary-percent": "20",
        "canary-minutes": "5",
        "aws-endpoint": moto.endpoint,
      },
      { workspace, onSpawn: (spawned) => (child = spawned) },
    );
    const alias = () =>
      lambda.send(new GetAliasCommand({ FunctionName: env.worker.functionName, Name: "live" }));
    let split: Record<string, number> = {};
    for (let i = 0; i < 300 && Object.keys(split).length === 0; i++) {
      split = (await alias()).RoutingConfig?.AdditionalVersionWeights ?? {};
      if (Object.keys(split).length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(split).toEqual({ "2": 0.2 });
    // What the runner does when the run is cancelled.
    child!.kill("SIGTERM");
    const run = await running;
    expect(run.code).toBe(130);
    expect(run.stdout).toContain("SIGTERM during the canary: moving live back to version 1");
    const after = await alias();
    expect(after.FunctionVersion).toBe("1");
    expect(after.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });
});

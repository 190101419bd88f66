import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetAliasCommand } from "@aws-sdk/client-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { useMoto } from "../../../test/support/moto.ts";
import { createWorkerFunction, testEnvironment, workerZip } from "../../delivery/test/fixtures.ts";
import { errorLines, runBundledAction, scratchWorkspace } from "../../delivery/test/support/run-action.ts";

const moto = useMoto();
beforeEach(() => moto.reset());
const env = testEnvironment();

describe("deploy-lambda dist/index.js run as the runner runs it", () => {
  it("publishes the zip as a new version and moves the alias", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, workerZip("v1"));
    const workspace = scratchWorkspace();
    writeFileSync(join(workspace, "lambda.zip"), workerZip("v2"));
    const run = await runBundledAction(
      "deploy-lambda",
      { environment: "dev", "zip-file": "lambda.zip", canary: "off", "aws-endpoint": moto.endpoint },
      { workspace },
    );
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ status: "succeeded", version: "2", "previous-revision": "1" });
    const alias = await lambda.send(
      new GetAliasCommand({ FunctionName: env.worker.functionName, Name: "live" }),
    );
    expect(alias.FunctionVersion).toBe("2");
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
});

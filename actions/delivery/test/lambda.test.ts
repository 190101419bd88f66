import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import {
  GetAliasCommand,
  GetEventSourceMappingCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from "@aws-sdk/client-lambda";
import { parseEnvironment, setEnvironmentFields } from "@content-engine/environments";
import { beforeEach, describe, expect, it } from "vitest";
import {
  awsFor,
  createAlarm,
  createWorkerFunction,
  createWorkerMapping,
  devYaml,
  fireAlarm,
  testEnvironment,
  workerZip,
} from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { codeSha256, deployLambda, planLambda } from "../src/lambda.ts";
import { memoryReporter } from "../src/reporter.ts";
import { sleep } from "../src/retry.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment();
const scratch = mkdtempSync(join(tmpdir(), "deploy-lambda-"));
const oldZip = workerZip("export const handler = async () => 'v1';");
const newZip = workerZip("export const handler = async () => 'v2';");
const newZipFile = join(scratch, "lambda.zip");
writeFileSync(newZipFile, newZip);
const fast = { pollSeconds: 0.05, progressSeconds: 0 };

async function alias(lambda: LambdaClient) {
  return lambda.send(new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }));
}

describe("deployLambda against moto", () => {
  it("updates the code, publishes a version and moves the alias to it", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.revisions).toEqual({ previous: "1", attempted: "2", current: "2" });
    expect((await alias(lambda)).FunctionVersion).toBe("2");
    const live = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: env.worker.functionName, Qualifier: "2" }),
    );
    expect(live.CodeSha256).toBe(codeSha256(newZip));
    expect(outcome.outputs).toEqual({ version: "2", "code-sha256": codeSha256(newZip) });
  });

  it("reports unchanged when the alias already runs the same zip", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, newZip);
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("unchanged");
    expect((await alias(lambda)).FunctionVersion).toBe("1");
  });

  it("shifts the alias fully after a canary during which the deployment alarms stayed OK", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    for (const name of env.alarms.deploymentAlarms) await createAlarm(moto.endpoint, name);
    const reporter = memoryReporter();
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      canary: { percent: 10, minutes: 0.01 },
      reporter,
      ...fast,
    });
    expect(outcome.reason).toBe("live points at version 2");
    expect(outcome.status).toBe("succeeded");
    const current = await alias(lambda);
    expect(current.FunctionVersion).toBe("2");
    expect(current.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(reporter.lines).toContain("canary step 1/1: 10% of live on version 2 for 0.6 s");
  });

  it("moves the alias back and reports rolled_back when an alarm fires during the canary", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const alarmName = env.alarms.deploymentAlarms[1]!;
    const cloudwatch = await createAlarm(moto.endpoint, alarmName);
    // The alarm fires once the canary has started (an alarm already firing refuses the canary).
    const base = memoryReporter();
    let fired: Promise<unknown> | undefined;
    const reporter = {
      ...base,
      info: (line: string) => {
        base.info(line);
        if (line.startsWith("canary step"))
          fired = cloudwatch.send(
            new SetAlarmStateCommand({
              AlarmName: alarmName,
              StateValue: "ALARM",
              StateReason: "errors during canary",
            }),
          );
      },
    };
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      canary: { percent: 10, minutes: 1 },
      reporter,
      ...fast,
    });
    await fired;
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toBe(
      `alarm ${alarmName} went into ALARM during the canary; live is back on version 1`,
    );
    const current = await alias(lambda);
    expect(current.FunctionVersion).toBe("1");
    expect(current.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("plans a code change without publishing a version", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const plan = await planLambda({ env, zipFile: newZipFile, aws: awsFor(moto.endpoint), canary: false });
    expect(plan.changes).toEqual([{ field: "code", from: codeSha256(oldZip), to: codeSha256(newZip) }]);
    expect(plan.steps).toEqual(["UpdateFunctionCode", "PublishVersion", "UpdateAlias live -> new version"]);
    expect((await alias(lambda)).FunctionVersion).toBe("1");
  });

  it("brings the SQS mapping to the file's batch size and concurrency without publishing a version", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, newZip);
    const mapping = await createWorkerMapping(moto.endpoint, env, 5, 2);
    const plan = await planLambda({ env, zipFile: newZipFile, aws: awsFor(moto.endpoint) });
    expect(plan.changes).toEqual([
      { field: "content-engine-worker-dev-jobs batchSize", from: "5", to: "10" },
      { field: "content-engine-worker-dev-jobs maxConcurrency", from: "2", to: "10" },
    ]);
    expect(plan.steps).toEqual(["UpdateEventSourceMapping (batch size, maximum concurrency)"]);

    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.revisions.current).toBe("1");
    const live = await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID }));
    expect(live.BatchSize).toBe(10);
    expect(live.ScalingConfig?.MaximumConcurrency).toBe(10);
    expect((await alias(lambda)).FunctionVersion).toBe("1");
  });

  it("publishes a new version when only the memory in the file changed", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, newZip);
    const bigger = testEnvironment([[["worker", "memory"], 2048]]);
    const outcome = await deployLambda({
      env: bigger,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    const serving = await lambda.send(
      new GetFunctionConfigurationCommand({
        FunctionName: env.worker.functionName,
        Qualifier: outcome.revisions.current,
      }),
    );
    expect(serving.MemorySize).toBe(2048);
    expect((await alias(lambda)).FunctionVersion).toBe(outcome.revisions.current);
  });

  it("names the environment field when the function does not exist", async () => {
    await expect(deployLambda({ env, zipFile: newZipFile, aws: awsFor(moto.endpoint) })).rejects.toThrow(
      'Lambda function "content-engine-worker-dev" does not exist (worker.functionName in dev.yaml)',
    );
  });

  it("tells how to build the worker bundle when the zip is missing", async () => {
    await expect(
      deployLambda({ env, zipFile: join(scratch, "missing.zip"), aws: awsFor(moto.endpoint) }),
    ).rejects.toThrow(/missing\.zip does not exist: run npm run build -w @content-engine\/worker first/);
  });

  it("refuses to start a canary while a deployment alarm is already in ALARM, changing nothing", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    for (const name of env.alarms.deploymentAlarms) await createAlarm(moto.endpoint, name);
    const firing = env.alarms.deploymentAlarms[0]!;
    await fireAlarm(moto.endpoint, firing);
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      canary: { percent: 10, minutes: 0.01 },
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("failed");
    expect(outcome.reason).toBe(
      `refused to start the canary: ${firing} is already in ALARM; nothing was changed (a break-glass reason lets a fix go out)`,
    );
    const live = await alias(lambda);
    expect(live.FunctionVersion).toBe("1");
    expect(live.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    const latest = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: env.worker.functionName }),
    );
    expect(latest.CodeSha256).toBe(codeSha256(oldZip));
  });

  it("moves the alias at once through firing alarms with a break-glass reason (a fix going out)", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const firing = env.alarms.deploymentAlarms[0]!;
    await fireAlarm(moto.endpoint, firing);
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      canary: { percent: 10, minutes: 5 },
      breakGlass: "fix for INC-42",
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(outcome.diagnostics).toEqual([
      `break-glass: fix for INC-42 (deployment alarms already in ALARM: ${firing}; the alias moves without a canary)`,
    ]);
    const live = await alias(lambda);
    expect(live.FunctionVersion).toBe("2");
    expect(live.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("repairs a split an unfinished canary left when the same code is deployed again", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, newZip);
    // What a cancelled canary leaves: version 1 serves, 20 % goes to a version 2 of the same function.
    await lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: env.worker.functionName, ZipFile: oldZip }),
    );
    await lambda.send(new PublishVersionCommand({ FunctionName: env.worker.functionName }));
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: env.worker.functionName,
        Name: env.worker.alias,
        FunctionVersion: "1",
        RoutingConfig: { AdditionalVersionWeights: { "2": 0.2 } },
      }),
    );
    const plan = await planLambda({ env, zipFile: newZipFile, aws: awsFor(moto.endpoint) });
    expect(plan.noop).toBe(false);
    expect(plan.changes).toEqual([
      { field: "alias routing", from: "20% on version 2", to: "100% on version 1" },
    ]);
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: memoryReporter(),
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    const live = await alias(lambda);
    expect(live.FunctionVersion).toBe("1");
    expect(live.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  describe("inside a freeze window", () => {
    const frozen = testEnvironment([
      [
        ["promotion", "freezeWindows"],
        [{ weekdays: ["fri"], from: "16:00", to: "23:59", reason: "no Friday evening deploys" }],
      ],
    ]);
    // Friday 2030-12-20, 18:00 UTC.
    const fridayEvening = { now: () => Date.parse("2030-12-20T18:00:00Z"), sleep };
    const refusal =
      "refused: dev is frozen: no Friday evening deploys (fri 16:00-23:59 UTC) (set break-glass to override)";

    it("refuses without a break-glass reason, before reading the bundle or touching the function", async () => {
      const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
      const outcome = await deployLambda({
        env: frozen,
        zipFile: join(scratch, "not-even-built.zip"),
        aws: awsFor(moto.endpoint),
        clock: fridayEvening,
        reporter: memoryReporter(),
        ...fast,
      });
      expect(outcome.status).toBe("failed");
      expect(outcome.reason).toBe(refusal);
      expect((await alias(lambda)).FunctionVersion).toBe("1");
      const latest = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: env.worker.functionName }),
      );
      expect(latest.CodeSha256).toBe(codeSha256(oldZip));
    });

    it("moves the alias with a break-glass reason and records the override", async () => {
      const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
      const reporter = memoryReporter();
      const outcome = await deployLambda({
        env: frozen,
        zipFile: newZipFile,
        canary: false,
        aws: awsFor(moto.endpoint),
        clock: fridayEvening,
        breakGlass: "queue backing up, fix in 4f2a",
        reporter,
        ...fast,
      });
      const line =
        'break-glass: queue backing up, fix in 4f2a (freeze window "no Friday evening deploys" overridden)';
      expect(outcome.status).toBe("succeeded");
      expect(outcome.diagnostics).toEqual([line]);
      expect(reporter.lines).toContain(`warning: ${line}`);
      expect((await alias(lambda)).FunctionVersion).toBe("2");
    });
  });

  it("names the environments folder it read in its errors", async () => {
    const elsewhere = parseEnvironment(
      setEnvironmentFields(devYaml, [{ path: ["region"], value: "eu-west-1" }]),
      "deploy/envs/dev.yaml",
    );
    await expect(
      deployLambda({ env: elsewhere, zipFile: newZipFile, aws: awsFor(moto.endpoint), ...fast }),
    ).rejects.toThrow(
      'Lambda function "content-engine-worker-dev" does not exist (worker.functionName in deploy/envs/dev.yaml)',
    );
  });
});

/** A reporter that reads the alias's split from moto each time a canary step starts. */
function stepRecorder(lambda: LambdaClient) {
  const base = memoryReporter();
  const splits: Array<Promise<Record<string, number>>> = [];
  const onStep: Array<(step: number) => void> = [];
  const reporter = {
    ...base,
    info: (line: string) => {
      base.info(line);
      const step = /^canary step (\d+)\//.exec(line);
      if (!step) return;
      splits.push(alias(lambda).then((a) => a.RoutingConfig?.AdditionalVersionWeights ?? {}));
      for (const callback of onStep) callback(Number(step[1]));
    },
  };
  return { reporter, base, splits: () => Promise.all(splits), onStep };
}

describe("deployLambda with a linear canary against moto", () => {
  const linear = { type: "linear" as const, percent: 30, intervalSeconds: 0.4 };

  it("plans the schedule step by step", async () => {
    await createWorkerFunction(moto.endpoint, env, oldZip);
    const plan = await planLambda({ env, zipFile: newZipFile, aws: awsFor(moto.endpoint), canary: linear });
    expect(plan.steps).toContain(
      "UpdateAlias live: linear: 30% -> 60% -> 90% -> 100% of live on the new version, 0.4 s per step with the deployment alarms watched; any in ALARM moves live back",
    );
  });

  it("shifts 30%, 60%, 90% of the alias with the alarms OK between steps, then 100%", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    for (const name of env.alarms.deploymentAlarms) await createAlarm(moto.endpoint, name);
    const steps = stepRecorder(lambda);
    const outcome = await deployLambda({
      env: testEnvironment([[["worker", "canary"], linear]]),
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: steps.reporter,
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(await steps.splits()).toEqual([{ "2": 0.3 }, { "2": 0.6 }, { "2": 0.9 }]);
    expect(steps.base.lines).toContain("canary step 3/3: 90% of live on version 2 for 0.4 s");
    const after = await alias(lambda);
    expect(after.FunctionVersion).toBe("2");
    expect(after.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("moves the alias back when an alarm fires at the second step, naming the step", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const alarmName = env.alarms.deploymentAlarms[0]!;
    await createAlarm(moto.endpoint, alarmName);
    const steps = stepRecorder(lambda);
    let fired: Promise<unknown> | undefined;
    steps.onStep.push((step) => {
      if (step === 2) fired = fireAlarm(moto.endpoint, alarmName);
    });
    const outcome = await deployLambda({
      env,
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      canary: { ...linear, intervalSeconds: 1 },
      reporter: steps.reporter,
      ...fast,
    });
    await fired;
    expect(outcome.status).toBe("rolled_back");
    expect(outcome.reason).toBe(
      `alarm ${alarmName} went into ALARM during the canary; live is back on version 1`,
    );
    expect(outcome.diagnostics).toEqual([
      `alarm in ALARM: ${alarmName}`,
      "rolled back at linear step 2 of 3 (60% on version 2)",
    ]);
    expect(await steps.splits()).toEqual([{ "2": 0.3 }, { "2": 0.6 }]);
    const after = await alias(lambda);
    expect(after.FunctionVersion).toBe("1");
    expect(after.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("moves the alias at once with type all-at-once, without a weighted step", async () => {
    const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
    const steps = stepRecorder(lambda);
    const outcome = await deployLambda({
      env: testEnvironment([[["worker", "canary"], { type: "all-at-once" }]]),
      zipFile: newZipFile,
      aws: awsFor(moto.endpoint),
      reporter: steps.reporter,
      ...fast,
    });
    expect(outcome.status).toBe("succeeded");
    expect(await steps.splits()).toEqual([]);
    expect((await alias(lambda)).FunctionVersion).toBe("2");
  });
});

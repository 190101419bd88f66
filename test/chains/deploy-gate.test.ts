// Deploy gates see job failures: a Lambda canary whose new version fails every job while each
// invocation returns normally is rolled back by the generated jobs-failed alarm, and a version that
// only meets documents it must reject (a client fault) is not.
//
// moto stores metric data and alarms but evaluates no alarm (only SetAlarmState changes a state).
// So the test writes the metrics the canary would produce with real PutMetricData calls (the
// worker's EMF JobsProcessed record with its service/outcome dimensions, and AWS/Lambda Errors of 0),
// reads them back from moto with GetMetricStatistics, evaluates each deployment alarm's generated
// definition with alarms/src/evaluator.ts (CloudWatch's documented semantics), and sets the state it
// gives with SetAlarmState. Everything else is real: the generated alarm inputs, moto's Lambda
// aliases and the delivery library's canary loop.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchClient,
  GetMetricStatisticsCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from "@aws-sdk/client-cloudwatch";
import { GetAliasCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { createClient } from "../../actions/delivery/src/aws.ts";
import { deployLambda } from "../../actions/delivery/src/lambda.ts";
import { memoryReporter } from "../../actions/delivery/src/reporter.ts";
import type { CloudWatchAlarms, MetricAlarmInput } from "../../alarms/src/cloudwatch.ts";
import { type Datapoint, evaluateMetricAlarm } from "../../alarms/src/evaluator.ts";
import { generatedAlarmsDir } from "../../alarms/src/generate.ts";
import { awsFor, createWorkerFunction, testEnvironment, workerZip } from "../support/delivery-fixtures.ts";
import { useMoto } from "../support/moto.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const env = testEnvironment();
const generated = JSON.parse(
  readFileSync(join(generatedAlarmsDir, env.name, "cloudwatch-alarms.json"), "utf8"),
) as CloudWatchAlarms;
const deploymentAlarms = generated.metricAlarms.filter((a) =>
  env.alarms.deploymentAlarms.includes(a.AlarmName),
);
const jobsFailed = `${generated.namePrefix}jobs-failed`;

const scratch = mkdtempSync(join(tmpdir(), "deploy-gate-"));
const oldZip = workerZip("export const handler = async () => ({ batchItemFailures: [] });");
// The new version fails every job of its batches but returns normally: no Lambda error, ever.
const failingZipFile = join(scratch, "failing.zip");
writeFileSync(
  failingZipFile,
  workerZip(
    "export const handler = async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) });",
  ),
);

/** What the canary's invocations leave in CloudWatch: the EMF job outcomes and Lambda's own Errors. */
async function publishCanaryMetrics(cloudwatch: CloudWatchClient, outcome: string, jobs: number) {
  const now = new Date();
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: "ContentEngine",
      MetricData: [
        {
          MetricName: "JobsProcessed",
          Dimensions: [
            { Name: "service", Value: "worker" },
            { Name: "outcome", Value: outcome },
          ],
          Value: jobs,
          Unit: "Count",
          Timestamp: now,
        },
      ],
    }),
  );
  await cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: "AWS/Lambda",
      MetricData: [
        {
          MetricName: "Errors",
          Dimensions: [{ Name: "FunctionName", Value: env.worker.functionName }],
          Value: 0,
          Unit: "Count",
          Timestamp: now,
        },
      ],
    }),
  );
}

/** The stand-in for CloudWatch's evaluation: datapoints from moto → evaluator → SetAlarmState. */
async function evaluateInMoto(cloudwatch: CloudWatchClient, alarm: MetricAlarmInput): Promise<string> {
  const period = alarm.Period!;
  const end = new Date(Math.ceil(Date.now() / (period * 1000)) * period * 1000);
  const start = new Date(end.getTime() - alarm.EvaluationPeriods * period * 1000);
  const answer = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      Namespace: alarm.Namespace!,
      MetricName: alarm.MetricName!,
      Dimensions: alarm.Dimensions!,
      StartTime: start,
      EndTime: end,
      Period: period,
      Statistics: [alarm.Statistic as "Sum"],
    }),
  );
  const byTime = new Map(
    (answer.Datapoints ?? []).map((d) => [
      Math.floor(d.Timestamp!.getTime() / (period * 1000)),
      (d as Record<string, number>)[alarm.Statistic!] ?? null,
    ]),
  );
  const series: Datapoint[] = Array.from({ length: alarm.EvaluationPeriods }, (_, i) => {
    const slot = Math.floor(start.getTime() / (period * 1000)) + i;
    return byTime.get(slot) ?? null;
  });
  const state = evaluateMetricAlarm(alarm, series);
  await cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: alarm.AlarmName,
      StateValue: state,
      StateReason: `evaluated from moto's datapoints ${JSON.stringify(series)}`,
    }),
  );
  return state;
}

async function canaryStarted(lambda: LambdaClient): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const alias = await lambda.send(
      new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }),
    );
    if (Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("the canary never started");
}

async function runCanary(outcome: "failed" | "rejected") {
  const { lambda } = await createWorkerFunction(moto.endpoint, env, oldZip);
  const cloudwatch = createClient(CloudWatchClient, awsFor(moto.endpoint));
  for (const alarm of deploymentAlarms)
    await cloudwatch.send(new PutMetricAlarmCommand(alarm as PutMetricAlarmCommandInput));
  const deploy = deployLambda({
    env,
    zipFile: failingZipFile,
    aws: awsFor(moto.endpoint),
    canary: { percent: 10, minutes: 0.2 },
    reporter: memoryReporter(),
    pollSeconds: 0.05,
    progressSeconds: 0,
  });
  await canaryStarted(lambda);
  await publishCanaryMetrics(cloudwatch, outcome, env.worker.batchSize);
  const states: Record<string, string> = {};
  for (const alarm of deploymentAlarms.filter((a) => a.Namespace !== "AWS/ApplicationELB" && a.Namespace))
    states[alarm.AlarmName] = await evaluateInMoto(cloudwatch, alarm);
  const result = await deploy;
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: env.worker.functionName, Name: env.worker.alias }),
  );
  return { result, states, alias };
}

describe("a Lambda canary gated on the generated deployment alarms (moto; evaluation by alarms/src/evaluator.ts, state by SetAlarmState)", () => {
  it("gates on the worker's system-fault rate as well as on Lambda Errors", () => {
    expect(env.alarms.deploymentAlarms).toContain(jobsFailed);
    const alarm = deploymentAlarms.find((a) => a.AlarmName === jobsFailed)!;
    expect([alarm.Namespace, alarm.MetricName, alarm.Dimensions]).toEqual([
      "ContentEngine",
      "JobsProcessed",
      [
        { Name: "service", Value: "worker" },
        { Name: "outcome", Value: "failed" },
      ],
    ]);
  });

  it("rolls back a version that fails every job while the Lambda returns normally", async () => {
    const { result, states, alias } = await runCanary("failed");
    expect(states).toEqual({
      [`${generated.namePrefix}worker-errors`]: "OK",
      [jobsFailed]: "ALARM",
    });
    expect(result.status).toBe("rolled_back");
    expect(result.reason).toBe(
      `alarm ${jobsFailed} went into ALARM during the canary; live is back on version 1`,
    );
    expect(alias.FunctionVersion).toBe("1");
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });

  it("completes a version whose only failures are documents rejected for their content (client faults)", async () => {
    const { result, states, alias } = await runCanary("rejected");
    expect(states).toEqual({
      [`${generated.namePrefix}worker-errors`]: "OK",
      [jobsFailed]: "OK",
    });
    expect(result.status).toBe("succeeded");
    expect(alias.FunctionVersion).toBe("2");
  });
});

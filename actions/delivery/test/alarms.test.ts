import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from "@aws-sdk/client-cloudwatch";
import { beforeEach, describe, expect, it } from "vitest";
import { awsFor } from "../../../test/support/delivery-fixtures.ts";
import { useMoto } from "../../../test/support/moto.ts";
import { alarmsInAlarm } from "../src/alarms.ts";
import { createClient } from "../src/aws.ts";

const moto = useMoto();
beforeEach(() => moto.reset());

const pageTopic = "arn:aws:sns:eu-west-1:123456789012:content-engine-dev-paging";
const ticketTopic = "arn:aws:sns:eu-west-1:123456789012:content-engine-dev-ticket";

async function alarm(cloudwatch: CloudWatchClient, name: string, actions: string[], state: "OK" | "ALARM") {
  await cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: "ContentEngine",
      MetricName: "JobsProcessed",
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      AlarmActions: actions,
    }),
  );
  await cloudwatch.send(
    new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: "test" }),
  );
}

describe("alarmsInAlarm against moto", () => {
  it("counts page-tier alarms under the prefix and every named deployment alarm, but no ticket", async () => {
    const cloudwatch = createClient(CloudWatchClient, awsFor(moto.endpoint));
    await alarm(cloudwatch, "content-engine-dev-jobs-failed", [pageTopic], "ALARM");
    await alarm(cloudwatch, "content-engine-dev-jobs-rejected", [ticketTopic], "ALARM");
    await alarm(cloudwatch, "content-engine-dev-dlq-not-empty", [ticketTopic], "ALARM");
    await alarm(cloudwatch, "content-engine-dev-api-5xx", [pageTopic], "OK");
    await alarm(cloudwatch, "content-engine-dev-burn-1h", [], "ALARM");
    await alarm(cloudwatch, "content-engine-prod-jobs-failed", [pageTopic], "ALARM");

    expect(
      await alarmsInAlarm(cloudwatch, { prefix: "content-engine-dev-", pageTopicArn: pageTopic }),
    ).toEqual(["content-engine-dev-jobs-failed"]);
    // A deployment alarm counts by its name, whatever tier it is in.
    expect(
      await alarmsInAlarm(cloudwatch, {
        prefix: "content-engine-dev-",
        pageTopicArn: pageTopic,
        names: ["content-engine-dev-dlq-not-empty"],
      }),
    ).toEqual(["content-engine-dev-dlq-not-empty", "content-engine-dev-jobs-failed"]);
    // Without a page topic, every alarm under the prefix counts.
    expect(await alarmsInAlarm(cloudwatch, { prefix: "content-engine-dev-" })).toEqual([
      "content-engine-dev-burn-1h",
      "content-engine-dev-dlq-not-empty",
      "content-engine-dev-jobs-failed",
      "content-engine-dev-jobs-rejected",
    ]);
  });

  it("reads every page of DescribeAlarms", async () => {
    const cloudwatch = createClient(CloudWatchClient, awsFor(moto.endpoint));
    const names = Array.from({ length: 120 }, (_, i) => `content-engine-dev-a${String(i).padStart(3, "0")}`);
    for (const name of names) await alarm(cloudwatch, name, [pageTopic], "ALARM");
    expect(
      await alarmsInAlarm(cloudwatch, { prefix: "content-engine-dev-", pageTopicArn: pageTopic }),
    ).toEqual(names);
  });
});

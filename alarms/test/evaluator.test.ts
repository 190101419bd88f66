import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CloudWatchAlarms, MetricAlarmInput } from "../src/cloudwatch.ts";
import {
  type AlarmState,
  type Datapoint,
  evaluateCompositeAlarm,
  evaluateMetricAlarm,
} from "../src/evaluator.ts";
import { generatedAlarmsDir } from "../src/generate.ts";

const prod = JSON.parse(
  readFileSync(join(generatedAlarmsDir, "prod", "cloudwatch-alarms.json"), "utf8"),
) as CloudWatchAlarms;
const alarm = (id: string): MetricAlarmInput => {
  const found = prod.metricAlarms.find((a) => a.AlarmName === `content-engine-prod-${id}`);
  if (!found) throw new Error(`no generated alarm ${id}`);
  return found;
};
const _ = null;

type Row = [string, Datapoint[], Record<MetricAlarmInput["TreatMissingData"], AlarmState | "retained">];

/** The two tables of the CloudWatch user guide ("How alarm state is evaluated when data is missing"). */
describe.each<[string, number, number, Row[]]>([
  [
    "3 of 3",
    3,
    3,
    [
      ["0 - X - X", [0, _, 20, _, 20], { missing: "OK", ignore: "OK", breaching: "OK", notBreaching: "OK" }],
      ["0 - - - -", [0, _, _, _, _], { missing: "OK", ignore: "OK", breaching: "OK", notBreaching: "OK" }],
      [
        "- - - - -",
        [_, _, _, _, _],
        { missing: "INSUFFICIENT_DATA", ignore: "retained", breaching: "ALARM", notBreaching: "OK" },
      ],
      [
        "0 X X - X",
        [0, 20, 20, _, 20],
        { missing: "ALARM", ignore: "ALARM", breaching: "ALARM", notBreaching: "ALARM" },
      ],
      [
        "- - - - X",
        [_, _, _, _, 20],
        { missing: "INSUFFICIENT_DATA", ignore: "retained", breaching: "ALARM", notBreaching: "OK" },
      ],
      [
        "X - - - -",
        [20, _, _, _, _],
        { missing: "ALARM", ignore: "retained", breaching: "ALARM", notBreaching: "OK" },
      ],
    ],
  ],
  [
    "2 of 3",
    2,
    3,
    [
      [
        "0 - X - X",
        [0, _, 20, _, 20],
        { missing: "ALARM", ignore: "ALARM", breaching: "ALARM", notBreaching: "ALARM" },
      ],
      [
        "0 0 X 0 X",
        [0, 0, 20, 0, 20],
        { missing: "ALARM", ignore: "ALARM", breaching: "ALARM", notBreaching: "ALARM" },
      ],
      [
        "0 - X - -",
        [0, _, 20, _, _],
        { missing: "OK", ignore: "OK", breaching: "ALARM", notBreaching: "OK" },
      ],
      ["- - - - 0", [_, _, _, _, 0], { missing: "OK", ignore: "OK", breaching: "ALARM", notBreaching: "OK" }],
      [
        "- - - - X",
        [_, _, _, _, 20],
        { missing: "INSUFFICIENT_DATA", ignore: "retained", breaching: "ALARM", notBreaching: "OK" },
      ],
    ],
  ],
])("the documented %s table (threshold > 10, five periods retrieved)", (_name, m, n, rows) => {
  const base: MetricAlarmInput = {
    ...alarm("queue-age"),
    EvaluationPeriods: n,
    DatapointsToAlarm: m,
    Threshold: 10,
    ComparisonOperator: "GreaterThanThreshold",
  };
  const cases = rows.flatMap(([points, range, states]) =>
    Object.entries(states).map(([treat, state]) => [points, treat, state, range] as const),
  );
  it.each(cases)("%s treating missing data as %s gives %s", (_points, treat, state, range) => {
    const treated = { ...base, TreatMissingData: treat as MetricAlarmInput["TreatMissingData"] };
    if (state === "retained") {
      expect(evaluateMetricAlarm(treated, range, "ALARM")).toBe("ALARM");
      expect(evaluateMetricAlarm(treated, range, "OK")).toBe("OK");
    } else {
      expect(evaluateMetricAlarm(treated, range, "OK")).toBe(state);
    }
  });
});

describe("the generated prod alarms, fed datapoint series", () => {
  it.each<[string, Datapoint[], AlarmState]>([
    // queue-age: Maximum per minute, > 300 s for 5 of 5 minutes
    ["queue-age", [400, 400, 400, 400, 400], "ALARM"],
    ["queue-age", [400, 400, 400, 400, 100], "OK"],
    ["queue-age", [_, _, _, _, _], "OK"],
    // dlq-not-empty: a single message opens a ticket (each arrival pages through dlq-new-messages)
    ["dlq-not-empty", [0, 0, 0, 0, 1], "ALARM"],
    ["dlq-not-empty", [1, 1, 0], "OK"],
    // jobs-failed: any job failed on a system fault in 5 minutes; none failed means no datapoint
    ["jobs-failed", [1], "ALARM"],
    ["jobs-failed", [0], "OK"],
    ["jobs-failed", [_], "OK"],
    // jobs-rejected: more than 50 client-fault documents in an hour (a ticket)
    ["jobs-rejected", [51], "ALARM"],
    ["jobs-rejected", [50], "OK"],
    // producer-stopped: silence is breaching (SQS stops publishing an idle queue)
    ["producer-stopped", Array(12).fill(_), "ALARM"],
    ["producer-stopped", [...Array(11).fill(0), 3], "OK"],
    ["producer-stopped", Array(12).fill(0), "ALARM"],
    // api-cpu-high: 4 of 5 minutes above 80 %
    ["api-cpu-high", [90, 95, 20, 91, 99], "ALARM"],
    ["api-cpu-high", [90, 20, 20, 91, 99], "OK"],
    // api-tasks-below-min: fewer than 3 tasks for 3 minutes; no data means no tasks
    ["api-tasks-below-min", [2, 2, 1], "ALARM"],
    ["api-tasks-below-min", [3, 3, 3], "OK"],
    ["api-tasks-below-min", [_, _, _], "ALARM"],
    // worker-duration-p90: 80 % of a 60 s timeout, in milliseconds
    ["worker-duration-p90", [50_000, 51_000, 49_000], "ALARM"],
    ["worker-duration-p90", [50_000, 51_000, 47_000], "OK"],
    // worker-concurrency: >= 54 of 60 for 8 of 10 minutes
    ["worker-concurrency", [54, 55, 60, 60, 60, 10, 60, 60, 60, 10], "ALARM"],
    ["worker-concurrency", [54, 55, 60, 60, 10, 10, 60, 60, 60, 10], "OK"],
  ])("%s with %j is %s", (id, datapoints, state) => {
    expect(evaluateMetricAlarm(alarm(id), datapoints)).toBe(state);
  });

  it.each<[string, Record<string, Datapoint[]>, AlarmState]>([
    // more than 5 in the 5-minute period, the targets' and the load balancer's own together
    ["targets alone", { target: [6], elb: [_] }, "ALARM"],
    ["the load balancer alone (no healthy target: 503)", { target: [_], elb: [6] }, "ALARM"],
    ["both, 3 each", { target: [3], elb: [3] }, "ALARM"],
    ["both, 5 in all", { target: [2], elb: [3] }, "OK"],
    ["no 5xx at all (no datapoints)", { target: [_], elb: [_] }, "OK"],
  ])("api-5xx counts %s: %j is %s", (_what, data, state) => {
    expect(evaluateMetricAlarm(alarm("api-5xx"), data)).toBe(state);
  });

  it.each<[string, Datapoint[], AlarmState]>([
    ["a first message in an idle DLQ (which published nothing before)", [_, _, _, _, 1], "ALARM"],
    ["a new message next to an old one", [1, 1, 1, 1, 2], "ALARM"],
    ["an old message that stays", [1, 1, 1, 1, 1], "OK"],
    ["a DLQ being drained", [3, 3, 3, 2, 0], "OK"],
    ["an empty DLQ", [0, 0, 0, 0, 0], "OK"],
  ])("dlq-new-messages pages on %s: %j is %s", (_what, dlq, state) => {
    expect(evaluateMetricAlarm(alarm("dlq-new-messages"), { dlq })).toBe(state);
  });

  it("computes the API 5xx ratio with metric math and fires the 1 h window above 14.4x the budget", () => {
    const longWindow = alarm("api-availability-burn-1h");
    expect(evaluateMetricAlarm(longWindow, { errors: [20], elb: [_], requests: [1000] })).toBe("ALARM");
    expect(evaluateMetricAlarm(longWindow, { errors: [10], elb: [_], requests: [1000] })).toBe("OK");
    // The load balancer's own 5xx reached no target: they are bad requests the targets never counted.
    expect(evaluateMetricAlarm(longWindow, { errors: [_], elb: [20], requests: [980] })).toBe("ALARM");
    expect(evaluateMetricAlarm(longWindow, { errors: [_], elb: [20], requests: [0] })).toBe("ALARM");
    // No 5xx datapoint at all (FILL to 0) and no traffic (IF guards the division).
    expect(evaluateMetricAlarm(longWindow, { errors: [_], elb: [_], requests: [1000] })).toBe("OK");
    expect(evaluateMetricAlarm(longWindow, { errors: [_], elb: [_], requests: [0] })).toBe("OK");
  });

  it("turns the queue-wait percentile rank into a stale share for job freshness", () => {
    const shortWindow = alarm("job-freshness-burn-5m");
    expect(evaluateMetricAlarm(shortWindow, { fresh: [80] })).toBe("ALARM"); // 20 % stale > 14.4 %
    expect(evaluateMetricAlarm(shortWindow, { fresh: [99.5] })).toBe("OK");
    expect(evaluateMetricAlarm(shortWindow, { fresh: [_] })).toBe("OK"); // no jobs, nothing stale
  });

  it("pages on fast burn only when both windows agree", () => {
    const fast = prod.compositeAlarms.find(
      (a) => a.AlarmName === "content-engine-prod-api-availability-fast-burn",
    )!;
    const states = (long: AlarmState, short: AlarmState) => ({
      "content-engine-prod-api-availability-burn-1h": long,
      "content-engine-prod-api-availability-burn-5m": short,
    });
    expect(evaluateCompositeAlarm(fast, states("ALARM", "ALARM"))).toBe("ALARM");
    expect(evaluateCompositeAlarm(fast, states("ALARM", "OK"))).toBe("OK");
    expect(evaluateCompositeAlarm(fast, states("OK", "ALARM"))).toBe("OK");
  });

  it("marks the service unhealthy when any member is in ALARM, and healthy when none is", () => {
    const unhealthy = prod.compositeAlarms.find(
      (a) => a.AlarmName === "content-engine-prod-service-unhealthy",
    )!;
    const members = [...unhealthy.AlarmRule.matchAll(/ALARM\("([^"]+)"\)/g)].map((m) => m[1]!);
    const allOk = Object.fromEntries(members.map((name) => [name, "OK" as AlarmState]));
    expect(evaluateCompositeAlarm(unhealthy, allOk)).toBe("OK");
    for (const name of members) {
      expect(evaluateCompositeAlarm(unhealthy, { ...allOk, [name]: "ALARM" }), name).toBe("ALARM");
    }
    expect(evaluateCompositeAlarm(unhealthy, { ...allOk, [members[0]!]: "INSUFFICIENT_DATA" })).toBe("OK");
  });
});

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENT_NAMES, loadEnvironment, parseEnvironment } from "@content-engine/environments";
import { assertPromqlInCatalog, awsMetrics, findAwsMetric } from "@content-engine/telemetry";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { CloudWatchAlarms } from "../src/cloudwatch.ts";
import { alarmDefinitions } from "../src/definitions.ts";
import {
  generatedAlarmsDir,
  renderAlarms,
  renderEnvironmentAlarms,
  repositoryEnvironmentsDir,
  runbooksDir,
} from "../src/generate.ts";
import type { MetricAlarmDefinition } from "../src/model.ts";
import { validateDefinitions } from "../src/validate.ts";

const rendered = renderAlarms();
const generated = (name: string) =>
  JSON.parse(rendered.get(`${name}/cloudwatch-alarms.json`)!) as CloudWatchAlarms;
const devText = readFileSync(join(repositoryEnvironmentsDir, "dev.yaml"), "utf8");

describe("the committed alarms", () => {
  it("are exactly what npm run generate writes (regenerate and commit when this fails)", () => {
    const committed = new Map<string, string>();
    for (const env of readdirSync(generatedAlarmsDir)) {
      for (const file of readdirSync(join(generatedAlarmsDir, env))) {
        committed.set(`${env}/${file}`, readFileSync(join(generatedAlarmsDir, env, file), "utf8"));
      }
    }
    expect([...committed.keys()].sort()).toEqual([...rendered.keys()].sort());
    for (const [path, content] of rendered) expect(committed.get(path), path).toBe(content);
  });
});

describe.each(ENVIRONMENT_NAMES)("the %s alarms", (name) => {
  const env = loadEnvironment(name, repositoryEnvironmentsDir);
  const { metricAlarms, compositeAlarms } = generated(name);
  const all = [...metricAlarms, ...compositeAlarms];
  const names = all.map((a) => a.AlarmName);

  it("cover the queue, ECS, ALB, Lambda, both SLOs and the service-unhealthy gate", () => {
    const expected = [
      "queue-age",
      "queue-depth",
      "dlq-not-empty",
      "api-cpu-high",
      "api-memory-high",
      "api-tasks-below-min",
      "api-5xx",
      "api-latency-p99",
      "worker-errors",
      "worker-throttles",
      "worker-duration-p90",
      "worker-concurrency",
      "api-availability-fast-burn",
      "api-availability-slow-burn",
      "job-freshness-fast-burn",
      "job-freshness-slow-burn",
      "service-unhealthy",
    ];
    expect(names).toEqual(expect.arrayContaining(expected.map((id) => `content-engine-${name}-${id}`)));
    expect(names.includes(`content-engine-${name}-producer-stopped`)).toBe(name !== "dev");
    expect(new Set(names).size).toBe(names.length);
  });

  it("state statistic, period, datapoints, evaluation periods and missing-data treatment on every metric alarm", () => {
    for (const a of metricAlarms) {
      const stat =
        a.Statistic ??
        a.ExtendedStatistic ??
        a.Metrics?.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Stat)[0];
      expect(stat, a.AlarmName).toBeTruthy();
      expect(
        a.Period ?? a.Metrics?.find((q) => q.MetricStat)?.MetricStat?.Period,
        a.AlarmName,
      ).toBeGreaterThan(0);
      expect(a.DatapointsToAlarm).toBeLessThanOrEqual(a.EvaluationPeriods);
      expect(["breaching", "notBreaching", "ignore", "missing"]).toContain(a.TreatMissingData);
    }
  });

  it("page the environment's SNS topic on ALARM and OK, except window and gate alarms", () => {
    for (const a of all) {
      const isPart = /-burn-(1h|5m|6h|30m)$/.test(a.AlarmName) || a.AlarmName.endsWith("-service-unhealthy");
      expect(a.AlarmActions, a.AlarmName).toEqual(isPart ? [] : [env.alarms.snsTopicArn]);
      expect(a.OKActions, a.AlarmName).toEqual(a.AlarmActions);
      expect(a.Tags).toContainEqual({ Key: "managed-by", Value: "content-engine/alarms" });
    }
  });

  it("link a runbook that exists from every description", () => {
    for (const a of all) {
      const link = /Runbook: alarms\/runbooks\/([a-z0-9-]+\.md)$/.exec(a.AlarmDescription);
      expect(link, a.AlarmName).not.toBeNull();
      expect(existsSync(join(runbooksDir, link![1]!)), link![1]).toBe(true);
      expect(a.AlarmDescription.length).toBeLessThanOrEqual(1024);
    }
  });

  it("read only catalog metrics, with exactly their declared dimensions", () => {
    for (const a of metricAlarms) {
      const stats = a.Metrics
        ? a.Metrics.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Metric)
        : [{ Namespace: a.Namespace!, MetricName: a.MetricName!, Dimensions: a.Dimensions! }];
      for (const m of stats) {
        const declared = findAwsMetric(m.Namespace, m.MetricName);
        expect(declared, `${a.AlarmName}: ${m.Namespace} ${m.MetricName}`).toBeDefined();
        expect(m.Dimensions.map((d) => d.Name).sort()).toEqual([...declared!.dimensions].sort());
      }
    }
  });

  it("include the deployment alarms the environment file names", () => {
    for (const alarmName of env.alarms.deploymentAlarms) expect(names).toContain(alarmName);
  });

  it("write Prometheus rules that read only catalog metrics and labels", () => {
    const groups = parse(rendered.get(`${name}/prometheus-rules.yaml`)!) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const rules = groups.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) expect(() => assertPromqlInCatalog(rule.expr, rule.alert)).not.toThrow();
  });

  it("put the queue-age threshold above the worker timeout", () => {
    const age = metricAlarms.find((a) => a.AlarmName.endsWith("-queue-age"))!;
    expect(age.Threshold).toBe(env.alarms.thresholds.queueAgeSeconds);
    expect(age.Threshold).toBeGreaterThan(env.worker.timeout);
  });
});

describe("an environment on EKS", () => {
  const prodText = readFileSync(join(repositoryEnvironmentsDir, "prod.yaml"), "utf8");
  const eks = parseEnvironment(prodText.replace("platform: ecs", "platform: eks"), "environments/prod.yaml");
  const { cloudwatch, rules } = renderEnvironmentAlarms(eks);

  it("keeps in CloudWatch only the SQS alarms and the gate over them (no ECS, ALB or Lambda metrics exist there)", () => {
    expect(cloudwatch.metricAlarms.map((a) => a.AlarmName).sort()).toEqual(
      ["dlq-not-empty", "producer-stopped", "queue-age", "queue-depth"].map(
        (id) => `content-engine-prod-${id}`,
      ),
    );
    expect(cloudwatch.metricAlarms.every((a) => a.Namespace === "AWS/SQS")).toBe(true);
    expect(cloudwatch.compositeAlarms.map((a) => [a.AlarmName, a.AlarmRule])).toEqual([
      ["content-engine-prod-service-unhealthy", 'ALARM("content-engine-prod-dlq-not-empty")'],
    ]);
  });

  it("moves what Prometheus sees into alerting rules: 5xx, latency, worker failures, replicas, both SLO burns", () => {
    const alerts = (
      parse(rules) as { groups: Array<{ rules: Array<{ alert: string }> }> }
    ).groups[0]!.rules.map((r) => r.alert);
    expect(alerts).toEqual(
      expect.arrayContaining([
        "ContentEngineApi5xx",
        "ContentEngineApiLatencyP99",
        "ContentEngineWorkerErrors",
        "ContentEngineApiTasksBelowMin",
        "ContentEngineApiAvailabilityFastBurn",
        "ContentEngineJobFreshnessSlowBurn",
      ]),
    );
  });
});

describe("every runbook", () => {
  it("is linked from at least one alarm", () => {
    const descriptions = ENVIRONMENT_NAMES.flatMap((n) => [
      ...generated(n).metricAlarms,
      ...generated(n).compositeAlarms,
    ]).map((a) => a.AlarmDescription);
    for (const file of readdirSync(runbooksDir)) {
      expect(
        descriptions.some((d) => d.endsWith(`alarms/runbooks/${file}`)),
        file,
      ).toBe(true);
    }
  });
});

describe("generation fails with a message naming the problem", () => {
  const env = loadEnvironment("prod", repositoryEnvironmentsDir);

  it("on a metric not in the catalog", () => {
    const alarms = alarmDefinitions(env);
    const age = alarms.find((a) => a.id === "queue-age") as MetricAlarmDefinition;
    age.metrics = {
      m1: { ...age.metrics.m1!, metric: { ...awsMetrics.sqsAgeOfOldestMessage, name: "OldestMessageAge" } },
    };
    expect(() => validateDefinitions(env, alarms)).toThrow(
      "alarm queue-age, metric m1 (AWS/SQS OldestMessageAge): not in the telemetry catalog",
    );
  });

  it("on a dimension outside the metric's set", () => {
    const alarms = alarmDefinitions(env);
    const age = alarms.find((a) => a.id === "queue-age") as MetricAlarmDefinition;
    age.metrics = { m1: { ...age.metrics.m1!, dimensions: { QueueName: "q", Tenant: "acme" } } };
    expect(() => validateDefinitions(env, alarms)).toThrow(
      /alarm queue-age, .*dimensions QueueName, Tenant differ from the declared QueueName/,
    );
  });

  it("on a Prometheus label outside the metric's set", () => {
    const alarms = alarmDefinitions(env);
    const errors = alarms.find((a) => a.id === "api-5xx")!;
    errors.prometheus = {
      expr: 'sum(increase(content_engine_http_requests_total{code="500"}[5m])) > 5',
      for: "0m",
    };
    expect(() => validateDefinitions(env, alarms)).toThrow(/alarm api-5xx: label code is not declared/);
  });

  it("on an alarm name collision", () => {
    const alarms = alarmDefinitions(env);
    alarms.push({ ...alarms[0]! });
    expect(() => validateDefinitions(env, alarms)).toThrow(
      "alarm name collision: content-engine-prod-queue-age is defined twice",
    );
  });

  it("on a statistic that does not apply to the metric", () => {
    const alarms = alarmDefinitions(env);
    const sent = alarms.find((a) => a.id === "producer-stopped") as MetricAlarmDefinition;
    sent.metrics = { m1: { ...sent.metrics.m1!, stat: "p99" } };
    expect(() => validateDefinitions(env, alarms)).toThrow(/producer-stopped.*statistic p99 does not apply/);
  });

  it.each([
    [
      "a negative threshold",
      "    queueVisibleMessages: 1000",
      "    queueVisibleMessages: -3",
      /alarms\.thresholds\.queueVisibleMessages/,
    ],
    [
      "a threshold of the wrong type",
      "    apiCpuPercent: 80",
      '    apiCpuPercent: "high"',
      /alarms\.thresholds\.apiCpuPercent: expected number/,
    ],
    [
      "an SLO above 1",
      "    producerStoppedMinutes: 0",
      "    producerStoppedMinutes: 0\n    apiAvailabilitySlo: 1.5",
      /alarms\.thresholds\.apiAvailabilitySlo/,
    ],
  ])("on %s in an environment file", (_what, from, to, message) => {
    expect(devText).toContain(from);
    expect(() => parseEnvironment(devText.replace(from, to), "environments/dev.yaml")).toThrow(message);
  });

  it.each([
    [
      "a queue-age threshold a single job can reach",
      "    queueAgeSeconds: 300",
      "    queueAgeSeconds: 45",
      /dev\.yaml: alarms\.thresholds\.queueAgeSeconds: 45 s is not above the worker timeout \(60 s\)/,
    ],
    [
      "a freshness target that is no histogram bucket",
      "    producerStoppedMinutes: 0",
      "    producerStoppedMinutes: 0\n    jobFreshnessSeconds: 45",
      /alarms\.thresholds\.jobFreshnessSeconds: 45 is not a bucket of content_engine_job_queue_wait_seconds/,
    ],
    [
      "an SLO too loose for a 14.4x burn alarm",
      "    producerStoppedMinutes: 0",
      "    producerStoppedMinutes: 0\n    jobFreshnessSlo: 0.9",
      /alarms\.thresholds\.jobFreshnessSlo: 0\.9 leaves an error budget too large/,
    ],
    [
      "a deployment alarm that is not generated",
      "    - content-engine-dev-worker-errors",
      "    - content-engine-dev-worker-error",
      /alarms\.deploymentAlarms names content-engine-dev-worker-error, which no generated alarm is/,
    ],
  ])("on %s", (_what, from, to, message) => {
    const dir = mkdtempSync(join(tmpdir(), "ce-envs-"));
    try {
      for (const n of ENVIRONMENT_NAMES) {
        const text = readFileSync(join(repositoryEnvironmentsDir, `${n}.yaml`), "utf8");
        writeFileSync(join(dir, `${n}.yaml`), n === "dev" ? text.replace(from, to) : text);
      }
      expect(readFileSync(join(dir, "dev.yaml"), "utf8")).toContain(to);
      expect(() => renderAlarms(dir)).toThrow(message);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("and an environment without optional thresholds still gets every alarm, with documented defaults", () => {
    const { cloudwatch } = renderEnvironmentAlarms(env);
    const latency = cloudwatch.metricAlarms.find((a) => a.AlarmName.endsWith("-api-latency-p99"))!;
    expect(latency.Threshold).toBe(2.5);
    expect(latency.ExtendedStatistic).toBe("p99");
  });
});

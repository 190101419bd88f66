import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  ListTagsForResourceCommand,
  PutCompositeAlarmCommand,
  PutMetricAlarmCommand,
} from "@aws-sdk/client-cloudwatch";
import {
  applyObservability,
  createClient,
  memoryReporter,
  planObservability,
} from "@content-engine/delivery";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { awsFor, testEnvironment } from "../../../test/support/delivery-fixtures.ts";
import { freePort, useMoto } from "../../../test/support/moto.ts";
import {
  alarmsFolder,
  createLoadBalancer,
  dashboardsDir,
  type FakeGrafana,
  generatedAlarms,
  startFakeGrafana,
} from "./support.ts";

const moto = useMoto();
const env = testEnvironment();
const metricOnly = () => ({ ...generatedAlarms("dev"), compositeAlarms: [] });
const cloudwatch = () => createClient(CloudWatchClient, awsFor(moto.endpoint));

async function liveAlarms() {
  const out = await cloudwatch().send(
    new DescribeAlarmsCommand({ AlarmNamePrefix: "content-engine-", MaxRecords: 100 }),
  );
  return new Map((out.MetricAlarms ?? []).map((a) => [a.AlarmName!, a]));
}

/** A real client of moto that records the name of every command it sends. */
function recordingCloudWatch() {
  const commands: string[] = [];
  const client = cloudwatch();
  client.middlewareStack.add(
    (next, context) => (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: "initialize", name: "recordCommands" },
  );
  return { client, commands };
}

function options(alarmsDir: string, extra: Record<string, unknown> = {}) {
  return { env, alarmsDir, dashboardsDir, aws: awsFor(moto.endpoint), reporter: memoryReporter(), ...extra };
}

beforeEach(async () => {
  await moto.reset();
});

describe("observability-apply against moto", () => {
  it("creates every generated metric alarm, tagged as managed, with the ALB dimensions resolved, and publishes the CloudWatch dashboard", async () => {
    const alb = await createLoadBalancer(moto.endpoint);
    const desired = metricOnly();
    const outcome = await applyObservability(options(alarmsFolder(desired)));

    expect(outcome.status).toBe("succeeded");
    expect(outcome.outputs["alarms-created"]).toBe(String(desired.metricAlarms.length));
    const live = await liveAlarms();
    expect([...live.keys()].sort()).toEqual(desired.metricAlarms.map((a) => a.AlarmName).sort());
    const fiveXx = live.get("content-engine-dev-api-5xx")!;
    const dimensions = Object.fromEntries(
      (fiveXx.Metrics ?? []).filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat!.Metric!.Dimensions]),
    );
    expect(dimensions).toEqual({
      target: [
        { Name: "LoadBalancer", Value: alb.loadBalancer },
        { Name: "TargetGroup", Value: alb.targetGroup },
      ],
      elb: [{ Name: "LoadBalancer", Value: alb.loadBalancer }],
    });
    expect(alb.loadBalancer).toMatch(/^app\/content-engine-dev\//);
    expect(fiveXx.AlarmActions).toEqual([env.alarms.pageTopicArn]);
    expect(live.get("content-engine-dev-jobs-rejected")!.AlarmActions).toEqual([env.alarms.ticketTopicArn]);
    const tags = await cloudwatch().send(new ListTagsForResourceCommand({ ResourceARN: fiveXx.AlarmArn }));
    expect(tags.Tags).toContainEqual({ Key: "managed-by", Value: "content-engine/alarms" });
    const dashboard = await cloudwatch().send(
      new GetDashboardCommand({ DashboardName: "content-engine-dev-overview" }),
    );
    const widgets = JSON.parse(dashboard.DashboardBody!).widgets as Array<{
      properties: { title: string; metrics: string[][] };
    }>;
    expect(widgets.length).toBeGreaterThan(5);
    // The ALB widgets name the load balancer and target group by the ids CloudWatch uses, looked up
    // by name when the dashboard is published (the generated file holds references).
    const albMetrics = widgets
      .filter((w) => w.properties.title.startsWith("Load balancer"))
      .flatMap((w) => w.properties.metrics);
    expect(albMetrics.length).toBeGreaterThanOrEqual(4);
    for (const metric of albMetrics) {
      expect(metric[0]).toBe("AWS/ApplicationELB");
      expect(metric.slice(2, 4)).toEqual(["LoadBalancer", alb.loadBalancer]);
    }
    expect(albMetrics.some((m) => m[4] === "TargetGroup" && m[5] === alb.targetGroup)).toBe(true);
    expect(dashboard.DashboardBody).not.toContain("{{");
  });

  it("changes nothing on a second run", async () => {
    await createLoadBalancer(moto.endpoint);
    const dir = alarmsFolder(metricOnly());
    await applyObservability(options(dir));
    const before = await liveAlarms();

    const plan = await planObservability(options(dir));
    expect(plan.noop).toBe(true);
    const second = await applyObservability(options(dir));
    expect(second.status).toBe("unchanged");
    const after = await liveAlarms();
    for (const [name, alarm] of after) {
      expect(alarm.AlarmConfigurationUpdatedTimestamp, name).toEqual(
        before.get(name)!.AlarmConfigurationUpdatedTimestamp,
      );
    }
  });

  it("plans a changed threshold, a removed alarm and leaves a hand-made alarm under the prefix alone, then applies exactly that", async () => {
    await createLoadBalancer(moto.endpoint);
    await applyObservability(options(alarmsFolder(metricOnly())));
    await cloudwatch().send(
      new PutMetricAlarmCommand({
        AlarmName: "content-engine-dev-hand-made",
        Namespace: "AWS/SQS",
        MetricName: "NumberOfMessagesDeleted",
        Dimensions: [{ Name: "QueueName", Value: "content-engine-dev-jobs" }],
        Statistic: "Sum",
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "LessThanThreshold",
      }),
    );
    const next = metricOnly();
    next.metricAlarms.find((a) => a.AlarmName === "content-engine-dev-queue-age")!.Threshold = 600;
    next.metricAlarms = next.metricAlarms.filter(
      (a) => a.AlarmName !== "content-engine-dev-worker-throttles",
    );
    const dir = alarmsFolder(next);

    const plan = await planObservability(options(dir));
    expect(plan.steps).toEqual([
      "update metric alarm content-engine-dev-queue-age",
      "delete metric alarm content-engine-dev-worker-throttles",
    ]);
    expect(plan.changes).toContainEqual({
      field: "content-engine-dev-queue-age Threshold",
      from: "300",
      to: "600",
    });
    expect(plan.details.join("\n")).toContain("content-engine-dev-hand-made");
    expect((await liveAlarms()).get("content-engine-dev-queue-age")!.Threshold).toBe(300);

    const outcome = await applyObservability(options(dir));
    expect(outcome.outputs).toMatchObject({
      "alarms-created": "0",
      "alarms-updated": "1",
      "alarms-deleted": "1",
      "alarms-left-alone": "1",
    });
    const live = await liveAlarms();
    expect(live.get("content-engine-dev-queue-age")!.Threshold).toBe(600);
    expect(live.has("content-engine-dev-worker-throttles")).toBe(false);
    expect(live.has("content-engine-dev-hand-made")).toBe(true);
  });

  it("adopts a hand-made alarm that has a generated alarm's name: overwrites it and tags it as managed", async () => {
    await createLoadBalancer(moto.endpoint);
    await cloudwatch().send(
      new PutMetricAlarmCommand({
        AlarmName: "content-engine-dev-dlq-not-empty",
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: "content-engine-dev-jobs-dlq" }],
        Statistic: "Average",
        Period: 300,
        EvaluationPeriods: 3,
        Threshold: 10,
        ComparisonOperator: "GreaterThanThreshold",
      }),
    );
    const { client, commands } = recordingCloudWatch();
    const outcome = await applyObservability({ ...options(alarmsFolder(metricOnly())), cloudwatch: client });
    expect(outcome.diagnostics).toContain("adopt metric alarm content-engine-dev-dlq-not-empty");
    // The ARN read while planning is the one tagged: DescribeAlarms ran once, for the plan.
    expect(commands.filter((c) => c === "DescribeAlarmsCommand")).toHaveLength(1);
    expect(commands).toContain("TagResourceCommand");
    const dlq = (await liveAlarms()).get("content-engine-dev-dlq-not-empty")!;
    expect([dlq.Statistic, dlq.Threshold, dlq.EvaluationPeriods, dlq.Period]).toEqual(["Maximum", 0, 1, 300]);
    const tags = await cloudwatch().send(new ListTagsForResourceCommand({ ResourceARN: dlq.AlarmArn }));
    expect(tags.Tags).toContainEqual({ Key: "managed-by", Value: "content-engine/alarms" });
  });

  it("fails before any change, naming the load balancer, when the ALB does not exist", async () => {
    await expect(applyObservability(options(alarmsFolder(metricOnly())))).rejects.toThrow(
      "load balancer content-engine-dev does not exist in eu-west-1: the ALB alarms and dashboard widgets of dev need it (terraform creates it)",
    );
    expect((await liveAlarms()).size).toBe(0);
  });

  it("reads the repository's generated alarms and dashboards from its own package, whatever the working directory", async () => {
    await createLoadBalancer(moto.endpoint);
    const elsewhere = mkdtempSync(join(tmpdir(), "elsewhere-"));
    const cwd = process.cwd();
    process.chdir(elsewhere);
    try {
      const plan = await planObservability({ env, aws: awsFor(moto.endpoint), reporter: memoryReporter() });
      const committed = generatedAlarms("dev");
      expect(plan.steps).toEqual(
        expect.arrayContaining([
          ...committed.metricAlarms.map((a) => `create metric alarm ${a.AlarmName}`),
          "create cloudwatch dashboard content-engine-dev-overview",
        ]),
      );
    } finally {
      process.chdir(cwd);
    }
  });

  it("refuses generated alarms of another environment's prefix", async () => {
    await expect(applyObservability(options(alarmsFolder(generatedAlarms("prod"), "dev")))).rejects.toThrow(
      /generated alarms use prefix content-engine-prod-, but dev.yaml gives content-engine-dev-/,
    );
  });
});

describe("observability-apply publishing to Grafana", () => {
  let grafana: FakeGrafana;
  beforeAll(async () => {
    grafana = await startFakeGrafana();
  });
  afterAll(async () => {
    await grafana.stop();
  });

  it("creates the folder, posts both dashboards into it with overwrite, masks the token, and posts nothing when they match", async () => {
    await createLoadBalancer(moto.endpoint);
    const dir = alarmsFolder(metricOnly());
    const reporter = memoryReporter();
    const target = { url: grafana.url, token: grafana.token, folderUid: "content-engine" };
    const outcome = await applyObservability(options(dir, { grafana: target, reporter }));

    expect(outcome.outputs.dashboards).toBe(
      "grafana folder:content-engine,grafana:ce-dev-platform,grafana:ce-dev-overview,cloudwatch:content-engine-dev-overview",
    );
    expect(grafana.folders).toEqual(new Set(["content-engine"]));
    expect([...grafana.saved.keys()].sort()).toEqual(["ce-dev-overview", "ce-dev-platform"]);
    expect(grafana.saved.get("ce-dev-overview")!.folderUid).toBe("content-engine");
    expect(grafana.saved.get("ce-dev-overview")!.dashboard.schemaVersion).toBe(39);
    expect(reporter.secrets).toContain(grafana.token);
    expect(reporter.lines.join("\n")).not.toContain(grafana.token);

    const posts = grafana.posts;
    const second = await applyObservability(options(dir, { grafana: target }));
    expect(second.status).toBe("unchanged");
    expect(grafana.posts).toBe(posts);
  });

  it("marks the deploy with a Grafana annotation carrying the tags the dashboards show, also when nothing else changed", async () => {
    await createLoadBalancer(moto.endpoint);
    const dir = alarmsFolder(metricOnly());
    const target = { url: grafana.url, token: grafana.token };
    const before = grafana.annotations.length;
    await applyObservability(options(dir, { grafana: target, deployMarker: true }));
    const second = await applyObservability(options(dir, { grafana: target, deployMarker: true }));

    expect(second.status).toBe("unchanged");
    expect(grafana.annotations.length).toBe(before + 2);
    const marker = grafana.annotations.at(-1)!;
    expect(marker.tags).toEqual(["content-engine", "deploy", "dev"]);
    expect(marker.text).toBe(`dev: deployed ${env.image.tag} (${env.image.digest})`);
    expect(second.outputs["deploy-marker"]).toBe(marker.text);
    const overview = grafana.saved.get("ce-dev-overview")!.dashboard as {
      annotations: { list: Array<{ target?: { tags: string[] } }> };
    };
    expect(
      overview.annotations.list.some((a) => JSON.stringify(a.target?.tags) === JSON.stringify(marker.tags)),
    ).toBe(true);
  });

  it("moves unchanged dashboards into a newly configured folder", async () => {
    await createLoadBalancer(moto.endpoint);
    const dir = alarmsFolder(metricOnly());
    await applyObservability(
      options(dir, { grafana: { url: grafana.url, token: grafana.token, folderUid: "content-engine" } }),
    );
    const moved = await applyObservability(
      options(dir, { grafana: { url: grafana.url, token: grafana.token, folderUid: "platform" } }),
    );
    expect(moved.outputs.dashboards).toBe(
      "grafana folder:platform,grafana:ce-dev-platform,grafana:ce-dev-overview",
    );
    expect(grafana.saved.get("ce-dev-overview")!.folderUid).toBe("platform");
  });

  it("posts the deploy marker after the alarms and dashboards it marks", async () => {
    await createLoadBalancer(moto.endpoint);
    const { client, commands } = recordingCloudWatch();
    const order: string[] = [];
    const from = grafana.requests.length;
    const outcome = await applyObservability(
      options(alarmsFolder(metricOnly()), {
        cloudwatch: client,
        grafana: { url: grafana.url, token: grafana.token },
        deployMarker: true,
        fetch: async (url: string | URL | Request, init?: RequestInit) => {
          order.push(`grafana ${init?.method ?? "GET"} ${new URL(String(url)).pathname}`);
          return fetch(url, init);
        },
      }),
    );
    expect(outcome.status).toBe("succeeded");
    expect(grafana.requests.slice(from).at(-1)).toBe("POST /api/annotations");
    expect(order.at(-1)).toBe("grafana POST /api/annotations");
    expect(order.filter((o) => o === "grafana POST /api/dashboards/db")).toHaveLength(2);
    expect(commands).toContain("PutMetricAlarmCommand");
    expect(commands).toContain("PutDashboardCommand");
  });

  it("posts no deploy marker when a dashboard it would mark is refused", async () => {
    await createLoadBalancer(moto.endpoint);
    const before = grafana.annotations.length;
    grafana.refused.add("ce-dev-platform");
    try {
      await expect(
        applyObservability(
          options(alarmsFolder(metricOnly()), {
            // A folder the dashboards are not in yet: both must be saved again.
            grafana: { url: grafana.url, token: grafana.token, folderUid: "refusing" },
            deployMarker: true,
          }),
        ),
      ).rejects.toThrow(
        /Grafana at http:\/\/127\.0\.0\.1:\d+ refused dashboard ce-dev-platform \(HTTP 400\): .*invalid panel/,
      );
    } finally {
      grafana.refused.clear();
    }
    expect(grafana.annotations.length).toBe(before);
  });

  it("retries a Grafana that answers 503 while it restarts, then publishes", async () => {
    await createLoadBalancer(moto.endpoint);
    grafana.unavailable = 2;
    const outcome = await applyObservability(
      options(alarmsFolder(metricOnly()), {
        grafana: { url: grafana.url, token: grafana.token, folderUid: "retried" },
        grafanaRetry: { baseDelayMs: 1 },
      }),
    );
    expect(grafana.unavailable).toBe(0);
    expect(outcome.status).toBe("succeeded");
    expect(grafana.saved.get("ce-dev-overview")!.folderUid).toBe("retried");
  });

  it("gives up on a Grafana that stays unavailable, naming it and the status, before publishing anything", async () => {
    await createLoadBalancer(moto.endpoint);
    const posts = grafana.posts;
    grafana.unavailable = 1000;
    try {
      await expect(
        applyObservability(
          options(alarmsFolder(metricOnly()), {
            grafana: { url: grafana.url, token: grafana.token },
            grafanaRetry: { attempts: 3, baseDelayMs: 1 },
          }),
        ),
      ).rejects.toThrow(
        /Grafana at http:\/\/127\.0\.0\.1:\d+ answered HTTP 503 for dashboard ce-dev-platform/,
      );
    } finally {
      grafana.unavailable = 0;
    }
    expect(grafana.posts).toBe(posts);
    expect((await liveAlarms()).size).toBe(0);
  });

  it("says Grafana is unreachable, after retrying, when nothing answers at its URL", async () => {
    await createLoadBalancer(moto.endpoint);
    const closed = new URL(grafana.url);
    closed.port = String(await freePort());
    await expect(
      applyObservability(
        options(alarmsFolder(metricOnly()), {
          grafana: { url: closed.origin, token: grafana.token },
          grafanaRetry: { attempts: 2, baseDelayMs: 1 },
        }),
      ),
    ).rejects.toThrow(
      /Grafana at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\) for dashboard ce-dev-platform/,
    );
    expect((await liveAlarms()).size).toBe(0);
  });

  it("says the token was refused instead of publishing half", async () => {
    await createLoadBalancer(moto.endpoint);
    const target = { url: grafana.url, token: "wrong-token" };
    await expect(
      applyObservability(options(alarmsFolder(metricOnly()), { grafana: target })),
    ).rejects.toThrow(/Grafana at http:\/\/127\.0\.0\.1:\d+ refused the token \(HTTP 401\)/);
  });
});

describe("observability-apply with composite alarms (moto 5.2 has no PutCompositeAlarm: a mocked client)", () => {
  it("puts composites after the metric alarms they name and deletes stale composites before metric alarms", async () => {
    const desired = generatedAlarms("dev");
    const mock = mockClient(CloudWatchClient);
    const calls: string[] = [];
    mock.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: "content-engine-dev-old-window",
          AlarmArn: "arn:aws:cloudwatch:eu-west-1:1:alarm:content-engine-dev-old-window",
        },
      ],
      CompositeAlarms: [
        {
          AlarmName: "content-engine-dev-old-burn",
          AlarmArn: "arn:aws:cloudwatch:eu-west-1:1:alarm:content-engine-dev-old-burn",
          AlarmRule: "ALARM(x)",
        },
      ],
    });
    mock
      .on(ListTagsForResourceCommand)
      .resolves({ Tags: [{ Key: "managed-by", Value: "content-engine/alarms" }] });
    mock.on(PutMetricAlarmCommand).callsFake((input) => calls.push(`metric ${input.AlarmName}`));
    mock.on(PutCompositeAlarmCommand).callsFake((input) => calls.push(`composite ${input.AlarmName}`));
    mock.on(DeleteAlarmsCommand).callsFake((input) => calls.push(`delete ${input.AlarmNames.join(",")}`));
    mock.on(GetDashboardCommand).resolves({ DashboardBody: "{}" });
    const elb = {
      send: async (command: { input: { Names: string[] } }) => ({
        LoadBalancers: [
          {
            LoadBalancerArn: `arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/${command.input.Names[0]}/abc`,
          },
        ],
        TargetGroups: [
          {
            TargetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/${command.input.Names[0]}/def`,
          },
        ],
      }),
    };
    try {
      const outcome = await applyObservability({
        ...options(alarmsFolder(desired)),
        cloudwatch: new CloudWatchClient({ region: "eu-west-1" }),
        elb: elb as never,
        cloudwatchDashboard: false,
      });
      expect(outcome.status).toBe("succeeded");
      const lastMetric = calls.findLastIndex((c) => c.startsWith("metric "));
      const firstComposite = calls.findIndex((c) => c.startsWith("composite "));
      expect(lastMetric).toBeLessThan(firstComposite);
      expect(calls.filter((c) => c.startsWith("composite "))).toEqual(
        desired.compositeAlarms.map((a) => `composite ${a.AlarmName}`),
      );
      expect(calls.indexOf("composite content-engine-dev-api-availability-fast-burn")).toBeLessThan(
        calls.indexOf("composite content-engine-dev-service-unhealthy"),
      );
      expect(calls.slice(-2)).toEqual([
        "delete content-engine-dev-old-burn",
        "delete content-engine-dev-old-window",
      ]);
      const unhealthy = mock
        .commandCalls(PutCompositeAlarmCommand)
        .find((c) => c.args[0].input.AlarmName === "content-engine-dev-service-unhealthy");
      expect(unhealthy!.args[0].input.AlarmRule).toContain('ALARM("content-engine-dev-api-5xx")');
    } finally {
      mock.restore();
    }
  });
});

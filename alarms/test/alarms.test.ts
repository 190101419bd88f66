import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  alarmName,
  environmentNames,
  loadEnvironment,
  parseEnvironment,
  ruleGroupName,
} from "@content-engine/environments";
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
import { runbookBaseUrl, runbookUrl } from "../src/runbooks.ts";
import { validateDefinitions } from "../src/validate.ts";

// The environments are the files: every test below covers each one there is.
const ENVIRONMENT_NAMES = environmentNames();

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
      "dlq-new-messages",
      "dlq-not-empty",
      "api-cpu-high",
      "api-memory-high",
      "api-tasks-below-min",
      "api-5xx",
      "api-latency-p99",
      "worker-errors",
      "jobs-failed",
      "jobs-rejected",
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

  it("notify the page tier for system faults, the ticket tier for client faults and slow trends, and nobody for gates and window members", () => {
    const tierOf = (a: (typeof all)[number]) => a.Tags.find((t) => t.Key === "severity")?.Value;
    const topics = { page: [env.alarms.pageTopicArn], ticket: [env.alarms.ticketTopicArn], none: [] };
    for (const a of all) {
      const tier = tierOf(a) as keyof typeof topics;
      expect(Object.keys(topics), a.AlarmName).toContain(tier);
      expect(a.AlarmActions, a.AlarmName).toEqual(topics[tier]);
      expect(a.OKActions, a.AlarmName).toEqual(a.AlarmActions);
      expect(a.Tags).toContainEqual({ Key: "managed-by", Value: "content-engine/alarms" });
    }
    const byTier = (tier: string) =>
      all.filter((a) => tierOf(a) === tier).map((a) => a.AlarmName.slice(`content-engine-${name}-`.length));
    // System faults page.
    expect(byTier("page")).toEqual(
      expect.arrayContaining(["dlq-new-messages", "jobs-failed", "worker-errors", "api-5xx", "queue-age"]),
    );
    // A client fault (a rejected document) and a DLQ that still holds an old message never page.
    expect(byTier("ticket")).toEqual(
      expect.arrayContaining(["jobs-rejected", "dlq-not-empty", "api-availability-slow-burn"]),
    );
    expect(byTier("none")).toEqual(expect.arrayContaining(["service-unhealthy", "api-availability-burn-1h"]));
    // Every deployment alarm is a page: a deploy never stops for a ticket.
    for (const alarmName of env.alarms.deploymentAlarms)
      expect(tierOf(all.find((a) => a.AlarmName === alarmName)!), alarmName).toBe("page");
  });

  it("link a runbook by an absolute URL that resolves to a file in alarms/runbooks", () => {
    const base = runbookBaseUrl();
    expect(base).toMatch(/^https:\/\/[^/]+\/[^/]+\/[^/]+\/blob\/main\/alarms\/runbooks\/$/);
    for (const a of all) {
      const link = / Runbook: (\S+)$/.exec(a.AlarmDescription)?.[1];
      expect(link, a.AlarmName).toBeDefined();
      expect(new URL(link!).href, a.AlarmName).toBe(link);
      expect(link!.startsWith(base), link).toBe(true);
      expect(existsSync(join(runbooksDir, link!.slice(base.length))), link).toBe(true);
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

  const rules = (parse(rendered.get(`${name}/prometheus-rules.yaml`)!) as RuleFile).groups.flatMap(
    (g) => g.rules,
  );

  it("name every alarm, composite member and rule as the environment names them (alarmName, ruleGroupName)", () => {
    const ids = alarmDefinitions(env).map((a) => a.id);
    for (const a of all)
      expect(
        ids.map((id) => alarmName(env, id)),
        a.AlarmName,
      ).toContain(a.AlarmName);
    for (const c of compositeAlarms)
      for (const [, member] of c.AlarmRule.matchAll(/ALARM\("([^"]+)"\)/g)) expect(names).toContain(member);
    const groups = (parse(rendered.get(`${name}/prometheus-rules.yaml`)!) as RuleFile).groups;
    expect(groups.map((g) => g.name)).toEqual([ruleGroupName(env)]);
    for (const rule of groups.flatMap((g) => g.rules))
      expect(ids.map((id) => alarmName(env, id))).toContain(rule.labels.alarm);
  });

  it("write Prometheus rules that read only catalog metrics and labels", () => {
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) expect(() => assertPromqlInCatalog(rule.expr, rule.alert)).not.toThrow();
  });

  it("write Prometheus rules that select the environment on every series, and the service where one is meant", () => {
    for (const rule of rules) {
      const selectors = [...rule.expr.matchAll(/([a-z_:]+)\{([^}]*)\}/g)];
      expect(selectors.length, rule.alert).toBeGreaterThan(0);
      for (const [, metric, matchers] of selectors) {
        expect(matchers, `${rule.alert}: ${metric}`).toContain(`env="${name}"`);
        if (metric!.startsWith("content_engine_http"))
          expect(matchers, rule.alert).toContain('service="api"');
        if (metric!.startsWith("content_engine_job"))
          expect(matchers, rule.alert).toContain('service="worker"');
      }
    }
  });

  it("leave probe and scrape routes out of the availability SLI", () => {
    const burns = rules.filter((r) => r.alert.startsWith("ContentEngineApiAvailability"));
    expect(burns).toHaveLength(2);
    for (const rule of burns) {
      for (const [, matchers] of rule.expr.matchAll(/content_engine_http_requests_total\{([^}]*)\}/g))
        expect(matchers).toContain('route!~"/health|/ready|/metrics"');
    }
  });

  it("count the load balancer's own 5xx in the 5xx alarm and the availability SLO", () => {
    for (const id of ["api-5xx", "api-availability-burn-1h", "api-availability-burn-5m"]) {
      const alarm = metricAlarms.find((a) => a.AlarmName === `content-engine-${name}-${id}`)!;
      const metrics = alarm.Metrics!.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Metric.MetricName);
      expect(metrics, id).toEqual(
        expect.arrayContaining(["HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"]),
      );
    }
  });

  it("page on new dead letters by their growth, not on a DLQ that is merely not empty", () => {
    const growth = metricAlarms.find((a) => a.AlarmName.endsWith("-dlq-new-messages"))!;
    expect(growth.Metrics?.find((q) => q.ReturnData)?.Expression).toBe("DIFF(FILL(dlq, 0))");
    expect(growth.AlarmActions).toEqual([env.alarms.pageTopicArn]);
    const backlog = metricAlarms.find((a) => a.AlarmName.endsWith("-dlq-not-empty"))!;
    expect(backlog.AlarmActions).toEqual([env.alarms.ticketTopicArn]);
  });

  it("put the queue-age threshold above the worker timeout", () => {
    const age = metricAlarms.find((a) => a.AlarmName.endsWith("-queue-age"))!;
    expect(age.Threshold).toBe(env.alarms.thresholds.queueAgeSeconds);
    expect(age.Threshold).toBeGreaterThan(env.worker.timeout);
  });
});

interface RuleFile {
  groups: Array<{
    name: string;
    rules: Array<{
      alert: string;
      expr: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }>;
  }>;
}

describe("an environment on EKS", () => {
  const prodText = readFileSync(join(repositoryEnvironmentsDir, "prod.yaml"), "utf8");
  const eks = parseEnvironment(prodText.replace("platform: ecs", "platform: eks"), "environments/prod.yaml");
  const { cloudwatch, rules } = renderEnvironmentAlarms(eks);

  it("keeps in CloudWatch only the SQS alarms and the gate over them (no ECS, ALB or Lambda metrics exist there)", () => {
    expect(cloudwatch.metricAlarms.map((a) => a.AlarmName).sort()).toEqual(
      ["dlq-new-messages", "dlq-not-empty", "producer-stopped", "queue-age", "queue-depth"].map(
        (id) => `content-engine-prod-${id}`,
      ),
    );
    for (const a of cloudwatch.metricAlarms) {
      const namespaces = a.Metrics
        ? a.Metrics.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Metric.Namespace)
        : [a.Namespace];
      expect(namespaces, a.AlarmName).toEqual(namespaces.map(() => "AWS/SQS"));
    }
    expect(cloudwatch.compositeAlarms.map((a) => [a.AlarmName, a.AlarmRule])).toEqual([
      ["content-engine-prod-service-unhealthy", 'ALARM("content-engine-prod-dlq-new-messages")'],
    ]);
  });

  it("moves what Prometheus sees into alerting rules: 5xx, latency, job failures, replicas, both SLO burns, pods and scrape targets", () => {
    const alerts = (
      parse(rules) as { groups: Array<{ rules: Array<{ alert: string }> }> }
    ).groups[0]!.rules.map((r) => r.alert);
    expect(alerts).toEqual(
      expect.arrayContaining([
        "ContentEngineApi5xx",
        "ContentEngineApiLatencyP99",
        "ContentEngineJobsFailed",
        "ContentEngineJobsRejected",
        "ContentEngineApiTasksBelowMin",
        "ContentEngineApiAvailabilityFastBurn",
        "ContentEngineJobFreshnessSlowBurn",
        "ContentEnginePodCpuNearLimit",
        "ContentEnginePodMemoryNearLimit",
        "ContentEnginePodRestarts",
        "ContentEnginePodOomKilled",
        "ContentEngineApiScrapeDown",
        "ContentEngineWorkerScrapeDown",
      ]),
    );
  });
});

/** prod on EKS with KEDA keeping 2 workers (no environment file does): one rule more than the files get. */
function warmWorkerRules(): RuleFile["groups"][number]["rules"] {
  const prodText = readFileSync(join(repositoryEnvironmentsDir, "prod.yaml"), "utf8");
  const warm = parseEnvironment(
    prodText.replace("platform: ecs", "platform: eks").replace("minReplicas: 0", "minReplicas: 2"),
    "environments/prod.yaml",
  );
  return (parse(renderEnvironmentAlarms(warm).rules) as RuleFile).groups.flatMap((g) => g.rules);
}

describe("an environment on EKS whose KEDA keeps workers warm", () => {
  const rules = warmWorkerRules();
  const expr = (alert: string) => rules.find((r) => r.alert === alert)?.expr;

  it("pages when fewer workers are available than KEDA's minimum, or their series vanished", () => {
    expect(expr("ContentEngineWorkerReplicasBelowMin")).toBe(
      'sum(kube_deployment_status_replicas_available{env="prod", namespace="content-engine", deployment="content-engine-worker"}) < 2 or absent(kube_deployment_status_replicas_available{env="prod", namespace="content-engine", deployment="content-engine-worker"})',
    );
  });

  it("expects a worker scrape target then, so a vanished one pages too", () => {
    expect(expr("ContentEngineWorkerScrapeDown")).toBe(
      'up{env="prod", service="worker"} == 0 or absent(up{env="prod", service="worker"})',
    );
    expect(renderEnvironmentAlarms(loadEnvironment("prod", repositoryEnvironmentsDir)).rules).toContain(
      'expr: up{env="prod", service="worker"} == 0\n',
    );
  });
});

describe("every runbook", () => {
  const links = [
    ...warmWorkerRules().map((r) => r.annotations.runbook_url!),
    ...ENVIRONMENT_NAMES.flatMap((n) => [
      ...[...generated(n).metricAlarms, ...generated(n).compositeAlarms].map(
        (a) => / Runbook: (\S+)$/.exec(a.AlarmDescription)![1]!,
      ),
      ...(parse(rendered.get(`${n}/prometheus-rules.yaml`)!) as RuleFile).groups
        .flatMap((g) => g.rules)
        .map((r) => r.annotations.runbook_url!),
    ]),
  ];

  it("is linked from at least one alarm or alerting rule", () => {
    for (const file of readdirSync(runbooksDir)) expect(links, file).toContain(`${runbookBaseUrl()}${file}`);
  });

  it("that a Prometheus rule links resolves to a file in alarms/runbooks", () => {
    for (const link of links)
      expect(existsSync(join(runbooksDir, link.slice(runbookBaseUrl().length))), link).toBe(true);
  });
});

describe("the runbook base URL", () => {
  const scratch = mkdtempSync(join(tmpdir(), "ce-runbook-"));
  const withRepository = (repository: unknown) => {
    const file = join(scratch, "package.json");
    writeFileSync(file, JSON.stringify({ name: "content-engine", repository }));
    return file;
  };

  it("is built from the one setting, package.json repository.url", () => {
    expect(
      runbookBaseUrl(withRepository({ type: "git", url: "git+https://github.com/acme/engine.git" })),
    ).toBe("https://github.com/acme/engine/blob/main/alarms/runbooks/");
    expect(
      runbookUrl("queue-age", runbookBaseUrl(withRepository("https://git.example.com/ops/engine"))),
    ).toBe("https://git.example.com/ops/engine/blob/main/alarms/runbooks/queue-age.md");
  });

  it.each([
    ["no repository", undefined],
    ["a path inside the repository", "alarms/runbooks"],
    ["an ssh remote", "git@github.com:acme/engine.git"],
    ["a URL with a script", "javascript:alert(1)"],
  ])("refuses %s, naming the setting", (_what, repository) => {
    expect(() =>
      runbookBaseUrl(withRepository(repository === undefined ? undefined : { url: repository })),
    ).toThrow(/package\.json: repository\.url .* is not an https URL of a repository/);
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
